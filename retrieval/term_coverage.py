"""Which passages match enough of a keyword query's terms to count as a result.

BM25 scores a passage that shares one term with the query, however small: "zzzqqq不存在的词"
matched three passages through the single character 不. A passage counts only when it matches at
least half of the query's distinct terms (at least one), as Elasticsearch's `minimum_should_match`.
A query of one or two terms keeps its OR semantics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from index.searchable import SearchableBuild

MIN_TERM_SHARE = 0.5


def required_terms(term_count: int, share: float = MIN_TERM_SHARE) -> int:
    """How many of `term_count` distinct query terms a passage must match (at least one)."""
    return max(1, math.floor(term_count * share))


def enough_terms(index: SearchableBuild, readings: Sequence[list[str]], share: float = MIN_TERM_SHARE
                 ) -> np.ndarray:
    """Boolean mask over passages: True where, for at least one reading of the query (its tokens; with their
    synonyms), at least `required_terms` of that reading's distinct tokens match. A token is looked up once,
    however many readings hold it."""
    contains: dict[str, np.ndarray] = {}
    enough = np.zeros(len(index.passages), dtype=bool)
    for tokens in readings:
        terms = list(dict.fromkeys(tokens))
        matched = np.zeros(len(index.passages), dtype=np.int32)
        for term in terms:
            if term not in contains:
                contains[term] = index.keyword_scores([term]) > 0
            matched += contains[term]
        enough |= matched >= required_terms(len(terms), share)
    return enough
