"""Topics for scrape entries that have no 父主题: from their page kind, or from the entry they resemble most.

A scenario page (开放接口 API scenarios) never carries a breadcrumb: its topic is its kind. An FAQ
entry or policy paragraph cut off before its 父主题 takes the topic of the most similar entry of the
same dump (TF-IDF cosine over character bigrams) when that similarity is clear, else a label of its kind.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import replace
from itertools import pairwise

from ingest.passage import Passage, content_hash

KIND_TOPICS = {"scenario": "开放接口场景", "policy": "政策与规则", "faq": "其他常见问题", "guide": "使用指南"}
MIN_SIMILARITY = 0.2  # TF-IDF cosine; the shipped dump: unrelated entries below 0.07, the cut-off PO entry 0.44
_WORD_CHAR = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")

Vector = dict[str, float]


def fill_missing_topics(passages: list[Passage]) -> list[Passage]:
    """The passages with every empty topic filled in (see the module docstring); others unchanged."""
    if all(p.topic for p in passages):
        return passages
    grams = [_bigrams(f"{p.title} {p.answer}") for p in passages]
    document_frequency = Counter(gram for counts in grams for gram in counts)
    vectors = [_tfidf(counts, document_frequency, len(passages)) for counts in grams]
    topical = [(vectors[i], p.topic) for i, p in enumerate(passages) if p.topic]
    return [p if p.topic else _with_topic(p, _topic_for(p, vectors[i], topical)) for i, p in enumerate(passages)]


def _topic_for(passage: Passage, vector: Vector, topical: list[tuple[Vector, str]]) -> str:
    if passage.kind == "scenario":
        return KIND_TOPICS["scenario"]
    best, topic = max(((_cosine(vector, other), t) for other, t in topical), default=(0.0, ""))
    return topic if best >= MIN_SIMILARITY else KIND_TOPICS[passage.kind]


def _with_topic(passage: Passage, topic: str) -> Passage:
    hash_ = content_hash(passage.title, passage.answer, topic, passage.source, passage.links, passage.truncated)
    return replace(passage, topic=topic, hash=hash_)


def _bigrams(text: str) -> Counter[str]:
    chars = [ch for ch in text.lower() if _WORD_CHAR.match(ch)]
    return Counter(a + b for a, b in pairwise(chars))


def _tfidf(counts: Counter[str], document_frequency: Counter[str], documents: int) -> Vector:
    # Smoothed IDF (as scikit-learn): a bigram in every entry still counts a little, so two entries can match.
    return {gram: count * (math.log((1 + documents) / (1 + document_frequency[gram])) + 1)
            for gram, count in counts.items()}


def _cosine(a: Vector, b: Vector) -> float:
    dot = sum(weight * b.get(gram, 0.0) for gram, weight in a.items())
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norms if norms else 0.0
