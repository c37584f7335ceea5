"""The retriever: a thin facade that reads a question, ranks passages, decides, and assembles the answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from index.embedders import Embedder
from index.searchable import SearchableBuild
from retrieval.abstention.features import DecisionFeatures, FeatureExtractor
from retrieval.abstention.model import AbstentionModel
from retrieval.answer import answer, refusal
from retrieval.config import CONFIGS, RetrievalConfig
from retrieval.fusion import ScoreFusion, Signals, rank_fusion, top_finite
from retrieval.keyword_search import KeywordSearch
from retrieval.results import AskResult, Candidate, Explanation, SearchPage

__all__ = ["CONFIGS", "Ranking", "RetrievalConfig", "Retriever"]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Passages ranked for one question, with the decision features of the top one."""

    passages: list[int]
    scores: list[float]
    features: DecisionFeatures | None
    confidence: float


class Retriever:
    """Answers questions and keyword searches from one loaded index."""

    def __init__(self, index: SearchableBuild, embedder: Embedder, abstention: AbstentionModel | None,
                 config: RetrievalConfig = CONFIGS["default"], top_k: int = 5) -> None:
        if config.abstain and abstention is None:
            raise ValueError(f"configuration {config.name!r} needs an abstention model")
        self.index = index
        self.embedder = embedder
        self.abstention = abstention
        self.config = config
        self.top_k = top_k
        self._fusion = ScoreFusion(index, embedder, config)
        self._features = FeatureExtractor(index, embedder.name)
        self._search = KeywordSearch(index)

    def rank(self, question: str) -> Ranking:
        """Rank passages for a question and score the top one's chance of being right."""
        signals = self._fusion(question)
        return self._decide(question, signals, signals.fused)

    def rank_follow_up(self, question: str, previous_question: str, alone: Signals | None = None) -> Ranking:
        """Rank a follow-up by fusing its own ranking with that of the question joined to the previous one.

        A passage both readings support wins, so an elliptical question ("那要多久?") inherits its
        topic while a question that changes the subject keeps its own best match.
        """
        alone = alone or self._fusion(question)
        joined_question = f"{question} {previous_question}"
        joined = self._fusion(joined_question)
        both = rank_fusion(alone.fused, self.config.rrf_k) + rank_fusion(joined.fused, self.config.rrf_k)
        both[both == 0] = -np.inf  # found by neither reading
        return self._decide(joined_question, joined, both)

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, lang: str | None = None
            ) -> AskResult:
        """Answer a question, read in the light of the previous one when there is a history; the product's
        own words (refusal, notes) in `lang` ("zh" or "en"; default: the question's language)."""
        return self._answer(question, *self._rank_for(question, history), lang)

    def explain(self, question: str, history: list[tuple[str, str]] | None = None) -> Explanation:
        """A hit test: what `ask` answers, the threshold, every ranked candidate with its score, and the
        decision features of the top one."""
        ranking, used_history = self._rank_for(question, history)
        result = self._answer(question, ranking, used_history, None)
        top_signals = asdict(ranking.features) if ranking.features is not None else {}
        candidates = [
            Candidate(self.index.passages[row].id, self.index.passages[row].title, float(score),
                      top_signals if rank == 0 else {})
            for rank, (row, score) in enumerate(zip(ranking.passages, ranking.scores, strict=True))
        ]
        return Explanation(result, self._threshold, candidates, self.index.query_tokens(question))

    @property
    def _threshold(self) -> float:
        return self.abstention.threshold if self.abstention and self.config.abstain else 0.0

    def _rank_for(self, question: str, history: list[tuple[str, str]] | None) -> tuple[Ranking, bool]:
        if history:
            return self.rank_follow_up(question, history[-1][0]), True
        return self.rank(question), False

    def _answer(self, question: str, ranking: Ranking, used_history: bool, lang: str | None) -> AskResult:
        ranked = [self.index.passages[i] for i in ranking.passages]
        if ranked and ranking.confidence >= self._threshold:
            return answer(question, ranked, ranking.confidence, used_history, lang=lang)
        return refusal(question, ranked, ranking.confidence, used_history, lang=lang)

    def search(self, query: str, topic: str | None = None, limit: int = 10, offset: int = 0) -> SearchPage:
        """Keyword search with an optional exact topic filter, paged, with highlighted snippets."""
        return self._search(query, topic, limit, offset)

    def topics(self) -> list[tuple[str, int]]:
        """Every parent topic with its passage count, most passages first."""
        return self._search.topics()

    def _decide(self, question: str, signals: Signals, fused: np.ndarray) -> Ranking:
        ranked, scores = top_finite(fused, max(self.top_k, 10))
        passages = ranked.tolist()
        if not passages:
            return Ranking(passages, scores.tolist(), None, 0.0)
        features = self._features(question, signals, passages[0])
        if features is None:
            return Ranking(passages, scores.tolist(), None, 1.0)
        confidence = self.abstention.confidence(features) if self.abstention else 1.0
        return Ranking(passages, scores.tolist(), features, confidence)
