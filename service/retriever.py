"""Retrieval over an opened index: hybrid ranking, calibrated abstention, follow-ups, keyword search."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from index.embedders import Embedder
from index.index_dir import IndexDir
from index.keyword_index import top_positive
from index.tokenizer import tokenize
from index.vector_store import FIELD_BODY, FIELD_TITLE, DenseHits
from ingest.normalize import normalize_for_matching
from ingest.passage import Passage, detect_lang
from service.abstention import AbstentionModel
from service.highlight import highlight

NO_ANSWER = {
    "zh": "抱歉，知识库里没有找到能回答这个问题的内容。可以看看下面这些相关主题，或换个说法再问。",
    "en": "Sorry, the knowledge base has no answer to this question. "
          "The topics below may be related, or try asking in other words.",
}
TRUNCATED_NOTE = {"zh": "（原文在此处不完整）", "en": "(the source text is cut off here)"}
_HTTP_RE = re.compile(r"^https?://[^/\s?#]+", re.IGNORECASE)
# Longer questions are cut: the embedder reads ~512 tokens, and segmenting more only costs time.
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """Which signals rank and whether the answer/abstain decision is made.

    A passage's dense score is its best cosine over its vectors (title alone, title with answer);
    the hybrid score adds `keyword_weight` times its BM25 score divided by the best BM25 score of
    the question, so keywords reorder passages whose cosines are close without overriding meaning.
    """

    name: str
    dense: bool = True
    keyword: bool = True
    abstain: bool = True
    candidates: int = 50
    keyword_weight: float = 0.02
    rrf_k: int = 60  # fuses the two readings of a follow-up


CONFIGS: dict[str, RetrievalConfig] = {
    "bm25": RetrievalConfig("bm25", dense=False, abstain=False),
    "dense": RetrievalConfig("dense", keyword=False, abstain=False),
    "hybrid": RetrievalConfig("hybrid", abstain=False),
    "default": RetrievalConfig("default"),
}


@dataclass(frozen=True, slots=True)
class Ranking:
    """Passages ranked for one question, with the decision features of the top one."""

    passages: list[int]
    scores: list[float]
    features: np.ndarray | None
    confidence: float


@dataclass(frozen=True, slots=True)
class Citation:
    """A cited source passage."""

    passage_id: str
    title: str
    topic: str
    url: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nearby topic offered when there is no answer."""

    passage_id: str
    title: str


@dataclass(frozen=True, slots=True)
class AskResult:
    """The answer to a question, or an honest refusal with suggestions."""

    answered: bool
    answer: str
    citations: list[Citation]
    confidence: float
    suggestions: list[Suggestion]
    ranked_ids: list[str] = field(default_factory=list)
    used_history: bool = False


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One keyword-search result with its highlighted snippet."""

    passage_id: str
    title: str
    topic: str
    url: str | None
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of keyword-search results and the total number of matches."""

    total: int
    results: list[SearchHit]


class Retriever:
    """Answers questions and keyword searches from one loaded index."""

    def __init__(self, index: IndexDir, embedder: Embedder, abstention: AbstentionModel | None,
                 config: RetrievalConfig = CONFIGS["default"], top_k: int = 5) -> None:
        if config.abstain and abstention is None:
            raise ValueError(f"configuration {config.name!r} needs an abstention model")
        self.index = index
        self.embedder = embedder
        self.abstention = abstention
        self.config = config
        self.top_k = top_k
        rows = index.rows
        body_rows = rows.field == FIELD_BODY
        self._centroid = index.vectors[body_rows].mean(axis=0) if body_rows.any() else None
        self._rows_of: list[list[int]] = [[] for _ in index.passages]
        for row, passage in enumerate(rows.passage.tolist()):
            self._rows_of[passage].append(row)
        self._has_title = np.zeros(len(index.passages), dtype=bool)
        self._has_title[rows.passage[rows.field == FIELD_TITLE]] = True
        self._tokens_of = lru_cache(maxsize=4096)(self._passage_tokens)
        topics = sorted({p.topic for p in index.passages})
        self._topic_id = {topic: i for i, topic in enumerate(topics)}
        self._passage_topic = np.array([self._topic_id[p.topic] for p in index.passages], dtype=np.int32)

    # ---- ranking ---------------------------------------------------------------------------

    def rank(self, question: str) -> Ranking:
        """Rank passages for a question and score the top one's chance of being right."""
        signals = self._signals(question)
        return self._decide(question, signals, signals.fused)

    def _signals(self, question: str) -> _Signals:
        config = self.config
        question = question[:MAX_QUESTION_CHARS]
        tokens = tokenize(question)
        keyword_order, keyword_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if config.keyword:
            keyword_order, keyword_scores = top_positive(self.index.keyword.scores(tokens), config.candidates)
        query_vector, hits = None, None
        fused = np.full(len(self.index.passages), -np.inf)
        if config.dense:
            query_vector = self.embedder.embed_queries([question])[0]
            hits = self.index.store.search(query_vector, config.candidates * 2)
            cosines = hits.best
            # Keyword-only candidates were not among the nearest vectors: they get the lowest cosine seen.
            fused[keyword_order] = float(cosines.min()) if cosines.size else 0.0
            fused[hits.passages] = cosines
            if keyword_order.size:
                fused[keyword_order] += config.keyword_weight * keyword_scores / keyword_scores[0]
        else:
            fused[keyword_order] = keyword_scores
        return _Signals(tokens, keyword_order, query_vector, hits, fused)

    def _decide(self, question: str, signals: _Signals, fused: np.ndarray) -> Ranking:
        ranked, scores = _top_finite(fused, max(self.top_k, 10))
        passages = ranked.tolist()
        if not passages or signals.vector is None or signals.hits is None:
            return Ranking(passages, scores.tolist(), None, 1.0 if passages else 0.0)
        features = self._features(question, signals, signals.vector, signals.hits, passages[0])
        confidence = self.abstention.confidence(features) if self.abstention else 1.0
        return Ranking(passages, scores.tolist(), features, confidence)

    def _features(self, question: str, signals: _Signals, vector: np.ndarray, hits: DenseHits, top: int
                  ) -> np.ndarray:
        rows = self._rows_of[top]
        cosines = self.index.vectors[rows] @ vector
        cos_top = float(cosines.max())
        title_cosines = [c for r, c in zip(rows, cosines, strict=True) if self.index.rows.field[r] == FIELD_TITLE]
        cos_title = float(max(title_cosines)) if title_cosines else 0.0
        # The best other passage is among the dense hits: they hold the nearest vectors.
        others = hits.best[hits.passages != top]
        cos_margin = cos_top - float(others.max()) if others.size else cos_top
        mean_cos = float(self._centroid @ vector) if self._centroid is not None else 0.0
        tokens, covered = signals.tokens, self._tokens_of(top)
        coverage = sum(1 for t in tokens if t in covered) / len(tokens) if tokens else 0.0
        keyword_top = float(signals.keyword_order.size > 0 and int(signals.keyword_order[0]) == top)
        is_english = float(detect_lang(question) == "en")
        values = (cos_top, cos_title, cos_margin, cos_top - mean_cos, coverage, keyword_top, is_english)
        return np.array(values, dtype=np.float64)

    def _passage_tokens(self, passage: int) -> frozenset[str]:
        """The keyword tokens of a passage (whole tokens: a question's "1" does not match "10")."""
        return frozenset(tokenize(self.index.passages[passage].matching_text))

    # ---- questions ------------------------------------------------------------------------

    def ask(self, question: str, history: list[tuple[str, str]] | None = None) -> AskResult:
        """Answer a question; a question asked after others is read in the light of the previous one.

        A follow-up ("那要多久?") is ranked twice, alone and joined with the previous question, and
        the two rankings are fused: a passage both readings support wins, so an elliptical question
        inherits its topic while a question that changes the subject keeps its own best match.
        """
        alone = self._signals(question)
        if history:
            return self._result(question, self.rank_follow_up(question, history[-1][0], alone), True)
        return self._result(question, self._decide(question, alone, alone.fused), False)

    def rank_follow_up(self, question: str, previous_question: str, alone: _Signals | None = None) -> Ranking:
        """Rank a follow-up by fusing its own ranking with that of the question joined to the previous one."""
        alone = alone or self._signals(question)
        joined_question = f"{question} {previous_question}"
        joined = self._signals(joined_question)
        both = _rank_fusion(alone.fused, self.config.rrf_k) + _rank_fusion(joined.fused, self.config.rrf_k)
        both[both == 0] = -np.inf  # found by neither reading
        return self._decide(joined_question, joined, both)

    def _is_confident(self, ranking: Ranking) -> bool:
        threshold = self.abstention.threshold if self.abstention and self.config.abstain else 0.0
        return bool(ranking.passages) and ranking.confidence >= threshold

    def _result(self, question: str, ranking: Ranking, used_history: bool) -> AskResult:
        lang = detect_lang(question)
        passages = [self.index.passages[i] for i in ranking.passages]
        ranked_ids = [p.id for p in passages]
        if self._is_confident(ranking):
            top = passages[0]
            answer = top.answer or top.title
            if top.truncated:
                answer = f"{answer} {TRUNCATED_NOTE[lang]}"
            return AskResult(
                answered=True,
                answer=answer,
                citations=[self._citation(top, ranking.confidence)],
                confidence=ranking.confidence,
                suggestions=[Suggestion(p.id, p.title) for p in passages[1:4]],
                ranked_ids=ranked_ids,
                used_history=used_history,
            )
        return AskResult(
            answered=False,
            answer=NO_ANSWER[lang],
            citations=[],
            confidence=ranking.confidence,
            suggestions=[Suggestion(p.id, p.title) for p in passages[:3]],
            ranked_ids=ranked_ids,
            used_history=used_history,
        )

    @staticmethod
    def _citation(passage: Passage, score: float) -> Citation:
        return Citation(passage.id, passage.title, passage.topic, source_url(passage), round(score, 4))

    # ---- keyword search -------------------------------------------------------------------

    def search(self, query: str, topic: str | None = None, limit: int = 10, offset: int = 0) -> SearchPage:
        """Keyword search with an optional exact topic filter, paged, with highlighted snippets."""
        tokens = tokenize(query)
        scores = self.index.keyword.scores(tokens)
        if topic is not None:
            topic_id = self._topic_id.get(topic)
            if topic_id is None:
                return SearchPage(0, [])
            scores = np.where(self._passage_topic == topic_id, scores, 0.0)
        matched = np.flatnonzero(scores > 0)
        total = int(matched.size)
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


@dataclass(frozen=True, slots=True)
class _Signals:
    """What one reading of a question yields: its keywords, its vector and the fused passage scores."""

    tokens: list[str]
    keyword_order: np.ndarray
    vector: np.ndarray | None
    hits: DenseHits | None
    fused: np.ndarray


def _top_finite(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the k highest finite scores (best first) and those scores; -inf marks non-candidates."""
    candidates = np.flatnonzero(np.isfinite(scores))
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
    return order, scores[order]


def _rank_fusion(scores: np.ndarray, k: int) -> np.ndarray:
    """Re-express the candidates' scores as reciprocal-rank contributions (0 elsewhere)."""
    fused = np.zeros_like(scores)
    order, _ = _top_finite(scores, scores.size)
    fused[order] = 1.0 / (k + 1 + np.arange(order.size))
    return fused


def source_url(passage: Passage) -> str | None:
    """The passage's source when it is a web address (http or https only), else None."""
    return passage.source if _HTTP_RE.match(passage.source) else None
