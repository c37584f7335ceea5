"""Keyword search for support staff: BM25 over jieba tokens, a topic filter, paging and highlights."""

from __future__ import annotations

from collections import Counter

import numpy as np

from index.keyword_index import top_positive
from index.searchable import SearchableBuild
from ingest.normalize import normalize_for_matching
from retrieval.answer import source_url
from retrieval.highlight import highlight
from retrieval.results import SearchHit, SearchPage
from retrieval.term_coverage import enough_terms


class KeywordSearch:
    """Keyword search over one loaded build."""

    def __init__(self, index: SearchableBuild) -> None:
        self.index = index
        topics = sorted({p.topic for p in index.passages})
        self._topic_id = {topic: i for i, topic in enumerate(topics)}
        self._passage_topic = np.array([self._topic_id[p.topic] for p in index.passages], dtype=np.int32)

    def __call__(self, query: str, topic: str | None = None, limit: int = 10, offset: int = 0) -> SearchPage:
        """Matches of `query`, best first, optionally within one exact topic, one page of them."""
        own = self.index.tokenize(query)
        tokens = self.index.with_synonyms(own)  # scored with the synonyms; enough of either reading's terms match
        scores = np.where(enough_terms(self.index, [tokens, own]), self.index.keyword_scores(tokens), 0.0)
        if topic is not None:
            topic_id = self._topic_id.get(topic)
            if topic_id is None:
                return SearchPage(0, [])
            scores = np.where(self._passage_topic == topic_id, scores, 0.0)
        total = int(np.count_nonzero(scores > 0))
        order, page_scores = top_positive(scores, offset + limit)
        terms = [*tokens, normalize_for_matching(query)]
        results = []
        for row, score in zip(order[offset:offset + limit].tolist(), page_scores[offset:].tolist(), strict=False):
            passage = self.index.passages[row]
            results.append(SearchHit(
                passage.id, passage.title, passage.topic, source_url(passage),
                highlight(f"{passage.title} — {passage.answer}", terms), round(float(score), 4),
            ))
        return SearchPage(total, results)

    def topics(self) -> list[tuple[str, int]]:
        """Every parent topic with its passage count, most passages first."""
        return Counter(p.topic for p in self.index.passages).most_common()
