"""Which passages match enough of a keyword query's terms to count as a result.

BM25 scores a passage that shares one term with the query, however small: "zzzqqq不存在的词"
matched three passages through the single character 不. A passage counts only when it matches at
least half of the query's distinct terms (at least one), as Elasticsearch's `minimum_should_match`.
A query of one or two terms keeps its OR semantics.
"""

from __future__ import annotations

import math

import numpy as np

from index.searchable import SearchableBuild

MIN_TERM_SHARE = 0.5


def required_terms(term_count: int, share: float = MIN_TERM_SHARE) -> int:
    """How many of `term_count` distinct query terms a passage must match (at least one)."""
    return max(1, math.floor(term_count * share))


def enough_terms(index: SearchableBuild, *readings: list[str], share: float = MIN_TERM_SHARE) -> np.ndarray:
    """Boolean mask over passages: True where, for some reading of the query (its own tokens, its tokens
    with synonyms), at least `required_terms` of that reading's distinct tokens match. Each distinct term
    is looked up in the keyword index once, whichever readings hold it."""
    present: dict[str, np.ndarray] = {}
    mask = np.zeros(len(index.passages), dtype=bool)
    for tokens in readings:
        terms = list(dict.fromkeys(tokens))
        matched = np.zeros(len(index.passages), dtype=np.int32)
        for term in terms:
            if term not in present:
                present[term] = index.keyword_scores([term]) > 0
            matched += present[term]
        mask |= matched >= required_terms(len(terms), share)
    return mask
