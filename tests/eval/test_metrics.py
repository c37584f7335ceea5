"""Metrics: hand-made cases, and the ranking metrics compared with straightforward reference code."""

from __future__ import annotations

import math
import random

import pytest

from eval.metrics import K, Outcome, by_kind, decision_metrics, latency_metrics, ranking_metrics, recall_curve


def outcome(relevant: list[bool], n_relevant: int | None = None, *, answerable: bool = True, answered: bool = True,
            kind: str = "paraphrase", latency_ms: float = 1.0) -> Outcome:
    """An outcome whose ranked ids are p0, p1, … with the given relevance flags."""
    ids = tuple(f"p{i}" for i in range(len(relevant)))
    count = sum(relevant) if n_relevant is None else n_relevant
    return Outcome(kind, answerable, ids, tuple(relevant), count if answerable else 0, answered, latency_ms)


# ---- reference implementations: the textbook definitions, written plainly --------------------------


def ref_recall(outcomes: list[Outcome], k: int) -> float:
    scored = [o for o in outcomes if o.answerable]
    return sum(1.0 for o in scored if any(o.relevant[:k])) / len(scored)


def ref_mrr(outcomes: list[Outcome], k: int) -> float:
    scored = [o for o in outcomes if o.answerable]
    total = 0.0
    for o in scored:
        for rank, hit in enumerate(o.relevant[:k], start=1):
            if hit:
                total += 1 / rank
                break
    return total / len(scored)


def ref_ndcg(outcomes: list[Outcome], k: int) -> float:
    scored = [o for o in outcomes if o.answerable]
    total = 0.0
    for o in scored:
        dcg = sum(1 / math.log2(rank + 1) for rank, hit in enumerate(o.relevant[:k], start=1) if hit)
        ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(o.n_relevant, k) + 1))
        total += dcg / ideal if ideal else 0.0
    return total / len(scored)


# ---- hand-made cases ------------------------------------------------------------------------------


def test_single_question_at_rank_two() -> None:
    metrics = ranking_metrics([outcome([False, True, False])])
    assert metrics["recall@1"] == 0.0
    assert metrics["recall@3"] == 1.0
    assert metrics["mrr@10"] == pytest.approx(0.5)
    assert metrics["ndcg@10"] == pytest.approx(1 / math.log2(3))


def test_two_relevant_passages_one_found_late() -> None:
    # right passages at ranks 1 and 3 of 2 in the corpus: DCG 1 + 1/2, ideal 1 + 1/log2(3)
    metrics = ranking_metrics([outcome([True, False, True])])
    assert metrics["mrr@10"] == pytest.approx(1.0)
    assert metrics["ndcg@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


def test_relevant_passage_not_retrieved_counts_in_ideal() -> None:
    # one right passage at rank 1, another one in the corpus but not retrieved
    metrics = ranking_metrics([outcome([True, False], n_relevant=2)])
    assert metrics["recall@1"] == 1.0
    assert metrics["ndcg@10"] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ideal_ranking_is_capped_at_k() -> None:
    metrics = ranking_metrics([outcome([True] * K, n_relevant=K + 5)])
    assert metrics["ndcg@10"] == pytest.approx(1.0)


def test_nothing_retrieved_or_nothing_to_find_scores_zero() -> None:
    metrics = ranking_metrics([outcome([]), outcome([False, False], n_relevant=0)])
    assert metrics["recall@10"] == 0.0
    assert metrics["mrr@10"] == 0.0
    assert metrics["ndcg@10"] == 0.0


def test_ranking_metrics_ignore_unanswerable_questions() -> None:
    metrics = ranking_metrics([outcome([True]), outcome([False], answerable=False)])
    assert metrics["recall@1"] == 1.0
    assert ranking_metrics([outcome([False], answerable=False)])["recall@1"] is None


def test_rank_beyond_k_is_a_miss() -> None:
    flags = [False] * K + [True]
    metrics = ranking_metrics([outcome(flags)])
    assert metrics["recall@10"] == 0.0
    assert metrics["mrr@10"] == 0.0
    assert outcome(flags).correct_rank is None


def test_decision_metrics_hand_made() -> None:
    outcomes = [
        outcome([True, False]),                                 # answered right
        outcome([False, True]),                                 # answered wrong passage
        outcome([True], answered=False),                        # right passage but refused
        outcome([False], answerable=False, answered=True),      # should refuse, answered
        outcome([False], answerable=False, answered=False),     # should refuse, refused
    ]
    metrics = decision_metrics(outcomes)
    assert metrics["abstention_precision"] == pytest.approx(1 / 3)
    assert metrics["abstention_recall"] == pytest.approx(1 / 3)
    assert metrics["refusal_rate"] == pytest.approx(1 / 2)
    assert metrics["answered_correctly"] == pytest.approx(2 / 5)


def test_decision_metrics_undefined_groups_are_none() -> None:
    metrics = decision_metrics([outcome([False], answerable=False, answered=False)])
    assert metrics["abstention_precision"] is None
    assert metrics["abstention_recall"] is None
    assert metrics["refusal_rate"] == 1.0
    assert metrics["answered_correctly"] == 1.0


def test_latency_percentiles() -> None:
    metrics = latency_metrics([outcome([True], latency_ms=float(ms)) for ms in range(1, 101)])
    assert metrics["latency_p50_ms"] == pytest.approx(50.5)
    assert metrics["latency_p95_ms"] == pytest.approx(95.05)


def test_by_kind_groups_in_order_of_appearance() -> None:
    groups = by_kind([outcome([True], kind="b"), outcome([False], kind="a"), outcome([True], kind="b")])
    assert list(groups) == ["b", "a"]
    assert groups["b"]["recall@1"] == 1.0
    assert groups["a"]["questions"] == 1


# ---- comparison with the reference on random cases -------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_ranking_metrics_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = []
    for _ in range(rng.randint(1, 30)):
        flags = [rng.random() < 0.2 for _ in range(rng.randint(0, 15))]
        unretrieved = rng.choice([0, 0, 1, 3, 12])
        outcomes.append(outcome(flags, n_relevant=sum(flags[:K]) + unretrieved,
                                answerable=rng.random() < 0.85 or not outcomes))
    outcomes[0] = outcome(outcomes[0].relevant, n_relevant=outcomes[0].n_relevant or 1)
    metrics = ranking_metrics(outcomes)
    for k in (1, 3, 10):
        assert metrics[f"recall@{k}"] == pytest.approx(ref_recall(outcomes, k))
    assert metrics["mrr@10"] == pytest.approx(ref_mrr(outcomes, K))
    assert metrics["ndcg@10"] == pytest.approx(ref_ndcg(outcomes, K))
    assert recall_curve(outcomes) == pytest.approx([ref_recall(outcomes, k) for k in range(1, K + 1)])
