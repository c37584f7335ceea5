"""Evaluation metrics over per-question outcomes: ranking (recall@k, MRR, nDCG), abstention, latency.

Relevance is binary: a passage is relevant when `retrieval.questions.is_match` says so. Ranking metrics
are averaged over answerable questions only; abstention metrics count every question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

K = 10
RECALL_KS = (1, 3, 10)
MetricValue = float | int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one configuration did with one question."""

    kind: str
    answerable: bool
    ranked_ids: tuple[str, ...]  # passage ids, best first (at least the top K when there are that many)
    relevant: tuple[bool, ...]   # per ranked id: is it a right passage
    n_relevant: int              # right passages in the whole corpus
    answered: bool
    latency_ms: float

    @property
    def top_correct(self) -> bool:
        """The top-ranked passage (the one cited when answering) is a right one."""
        return bool(self.relevant) and self.relevant[0]

    @property
    def correct_rank(self) -> int | None:
        """1-based rank of the first right passage within the top K, else None."""
        return next((i + 1 for i, hit in enumerate(self.relevant[:K]) if hit), None)

    @property
    def handled_correctly(self) -> bool:
        """Answerable: answered with a right passage; unanswerable: refused."""
        return (self.answered and self.top_correct) if self.answerable else not self.answered


def recall_at(outcome: Outcome, k: int) -> float:
    """1.0 when a right passage is among the top k, else 0.0."""
    return 1.0 if any(outcome.relevant[:k]) else 0.0


def reciprocal_rank(outcome: Outcome, k: int = K) -> float:
    """1 / rank of the first right passage within the top k, 0.0 when there is none."""
    return next((1.0 / rank for rank, hit in enumerate(outcome.relevant[:k], start=1) if hit), 0.0)


def ndcg_at(outcome: Outcome, k: int = K) -> float:
    """Binary-relevance nDCG@k: the ideal ranking puts min(right passages in the corpus, k) hits first."""
    gains = np.asarray(outcome.relevant[:k], dtype=float)
    ideal_hits = min(max(outcome.n_relevant, int(gains.sum())), k)
    if not ideal_hits:
        return 0.0
    dcg = float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2))))
    return dcg / float(np.sum(1.0 / np.log2(np.arange(2, ideal_hits + 2))))


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values))


def recall_curve(outcomes: Sequence[Outcome], max_k: int = K) -> list[float | None]:
    """Recall@k for k = 1..max_k over the answerable questions (None when there are none)."""
    answerable = [o for o in outcomes if o.answerable]
    if not answerable:
        return [None] * max_k
    return [_mean([recall_at(o, k) for o in answerable]) for k in range(1, max_k + 1)]


def ranking_metrics(outcomes: Sequence[Outcome]) -> dict[str, MetricValue]:
    """Recall@1/3/10, MRR@10 and nDCG@10 over the answerable questions."""
    answerable = [o for o in outcomes if o.answerable]
    metrics: dict[str, MetricValue] = {f"recall@{k}": None for k in RECALL_KS}
    metrics |= {f"mrr@{K}": None, f"ndcg@{K}": None}
    if not answerable:
        return metrics
    for k in RECALL_KS:
        metrics[f"recall@{k}"] = _mean([recall_at(o, k) for o in answerable])
    metrics[f"mrr@{K}"] = _mean([reciprocal_rank(o) for o in answerable])
    metrics[f"ndcg@{K}"] = _mean([ndcg_at(o) for o in answerable])
    return metrics


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def decision_metrics(outcomes: Sequence[Outcome]) -> dict[str, MetricValue]:
    """Answered precision (right answers ÷ answers given), right answers ÷ answerable questions, coverage
    (answers given ÷ questions), refusal rate on unanswerable questions, handled-right rate."""
    answered = [o for o in outcomes if o.answered]
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    right = sum(1 for o in answered if o.answerable and o.top_correct)
    return {
        "abstention_precision": _share(right, len(answered)),
        "abstention_recall": _share(right, len(answerable)),
        "coverage": _share(len(answered), len(outcomes)),
        "refusal_rate": _share(sum(1 for o in unanswerable if not o.answered), len(unanswerable)),
        "answered_correctly": _share(sum(1 for o in outcomes if o.handled_correctly), len(outcomes)),
    }


def latency_metrics(outcomes: Sequence[Outcome]) -> dict[str, MetricValue]:
    """Median and 95th-percentile latency in milliseconds."""
    if not outcomes:
        return {"latency_p50_ms": None, "latency_p95_ms": None}
    p50, p95 = np.percentile([o.latency_ms for o in outcomes], [50, 95])
    return {"latency_p50_ms": float(p50), "latency_p95_ms": float(p95)}


def summarize(outcomes: Sequence[Outcome]) -> dict[str, MetricValue]:
    """Every metric for one group of questions, with its counts."""
    return {
        "questions": len(outcomes),
        "answerable": sum(1 for o in outcomes if o.answerable),
        "answered": sum(1 for o in outcomes if o.answered),
        **ranking_metrics(outcomes),
        **decision_metrics(outcomes),
        **latency_metrics(outcomes),
    }


def by_kind(outcomes: Sequence[Outcome]) -> dict[str, dict[str, MetricValue]]:
    """`summarize` per question kind, kinds in order of first appearance."""
    kinds = list(dict.fromkeys(o.kind for o in outcomes))
    return {kind: summarize([o for o in outcomes if o.kind == kind]) for kind in kinds}
