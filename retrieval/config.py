"""Retrieval configurations: which signals rank and whether the answer/abstain decision is made."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """Which signals rank and whether the answer/abstain decision is made.

    A passage's dense score is its best cosine over its vectors (title alone, title with answer);
    the hybrid score adds `keyword_weight` times its BM25 score divided by the best BM25 score of
    the question, so keywords reorder passages whose cosines are close without overriding meaning,
    and `bigram_weight` times its character-bigram BM25 score divided by the best one (weighed on the
    Tianchi training split: 0.02 / 0.03 / 0.04 gave Recall@1 0.691 / 0.696 / 0.694, none 0.689).
    """

    name: str
    dense: bool = True
    keyword: bool = True
    abstain: bool = True
    candidates: int = 50
    keyword_weight: float = 0.02
    bigram_weight: float = 0.03


CONFIGS: dict[str, RetrievalConfig] = {
    "bm25": RetrievalConfig("bm25", dense=False, abstain=False),
    "dense": RetrievalConfig("dense", keyword=False, abstain=False),
    "hybrid": RetrievalConfig("hybrid", abstain=False),
    "default": RetrievalConfig("default"),
}
