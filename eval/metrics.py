"""Evaluation metrics over per-question outcomes: ranking (Haystack's evaluators), abstention, latency.

Relevance is binary: a passage is relevant when `retrieval.questions.is_match` says so. Ranking metrics
are averaged over answerable questions only; abstention metrics count every question.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from haystack import Document
from haystack.components.evaluators import DocumentMRREvaluator, DocumentNDCGEvaluator, DocumentRecallEvaluator

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


def _documents(outcome: Outcome, k: int) -> tuple[list[Document], list[Document]]:
    """Ground-truth and retrieved documents compared by id, for Haystack's evaluators.

    The ground truth lists the right passages found in the top K first, then placeholders for the
    right passages not retrieved, capped at K: binary-relevance nDCG@K's ideal ranking holds
    min(relevant, K) hits, and recall and MRR only need the retrieved right ones.
    """
    hits = [pid for pid, rel in zip(outcome.ranked_ids[:K], outcome.relevant[:K], strict=True) if rel]
    missing = max(outcome.n_relevant - len(hits), 0)
    truth = [*hits, *(f"\x00not-retrieved-{i}" for i in range(missing))][:K]
    return ([Document(id=pid, content=pid) for pid in truth],
            [Document(id=pid, content=pid) for pid in outcome.ranked_ids[:k]])


@contextmanager
def _quiet_haystack():  # type: ignore[no-untyped-def]
    """Haystack warns for every question with nothing retrieved or nothing to find; those score 0 as meant."""
    logger = logging.getLogger("haystack.components.evaluators")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _evaluate(evaluator: Any, outcomes: Sequence[Outcome], k: int) -> float:
    pairs = [_documents(o, k) for o in outcomes]
    with _quiet_haystack():
        result = evaluator.run(ground_truth_documents=[p[0] for p in pairs], retrieved_documents=[p[1] for p in pairs])
    return float(result["score"])


def recall_curve(outcomes: Sequence[Outcome], max_k: int = K) -> list[float | None]:
    """Recall@k for k = 1..max_k over the answerable questions (None when there are none)."""
    answerable = [o for o in outcomes if o.answerable]
    if not answerable:
        return [None] * max_k
    evaluator = DocumentRecallEvaluator(mode="single_hit", document_comparison_field="id")
    return [_evaluate(evaluator, answerable, k) for k in range(1, max_k + 1)]


def ranking_metrics(outcomes: Sequence[Outcome]) -> dict[str, MetricValue]:
    """Recall@1/3/10, MRR@10 and nDCG@10 over the answerable questions."""
    answerable = [o for o in outcomes if o.answerable]
    metrics: dict[str, MetricValue] = {f"recall@{k}": None for k in RECALL_KS}
    metrics |= {f"mrr@{K}": None, f"ndcg@{K}": None}
    if not answerable:
        return metrics
    recall = DocumentRecallEvaluator(mode="single_hit", document_comparison_field="id")
    for k in RECALL_KS:
        metrics[f"recall@{k}"] = _evaluate(recall, answerable, k)
    metrics[f"mrr@{K}"] = _evaluate(DocumentMRREvaluator(document_comparison_field="id"), answerable, K)
    metrics[f"ndcg@{K}"] = _evaluate(DocumentNDCGEvaluator(document_comparison_field="id"), answerable, K)
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
