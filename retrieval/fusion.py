"""Score fusion: one reading of a question through the keyword and dense indexes, fused into passage scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embedders import Embedder
from index.keyword_index import top_positive
from index.searchable import SearchableBuild
from index.vector_store import DenseHits
from retrieval.config import RetrievalConfig
from retrieval.term_bridge import TermBridge

# Longer questions are cut: the embedder reads ~512 tokens, and segmenting more only costs time.
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Signals:
    """What one reading of a question yields: its keywords, its vector and the fused passage scores."""

    tokens: list[str]
    keyword_order: np.ndarray
    vector: np.ndarray | None
    hits: DenseHits | None
    fused: np.ndarray  # one score per passage; -inf where neither index found it


class ScoreFusion:
    """Reads a question through the configured signals and fuses them into one score per passage."""

    def __init__(self, index: SearchableBuild, embedder: Embedder, config: RetrievalConfig,
                 bridge: TermBridge | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config
        self.bridge = bridge  # reads words the corpus never uses as its own words in another script
        self.space = embedder.name

    def __call__(self, question: str, vector: np.ndarray | None = None, bigrams: bool = True) -> Signals:
        """The signals of `question` and its fused passage scores (`vector`: its embedding, when known;
        `bigrams`: whether the character-bigram signal counts)."""
        config = self.config
        question = question[:MAX_QUESTION_CHARS]
        tokens = self.keyword_tokens(question)
        keyword_order, keyword_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if config.keyword:
            keyword_order, keyword_scores = top_positive(self.index.keyword_scores(tokens), config.candidates)
        query_vector, hits = None, None
        fused = np.full(len(self.index.passages), -np.inf)
        if config.dense:
            query_vector = self.embedder.embed_queries([question])[0] if vector is None else vector
            hits = self.index.dense_search(self.space, query_vector, config.candidates * 2)
            cosines = hits.best
            # Keyword-only candidates were not among the nearest vectors: they get the lowest cosine seen.
            floor = float(cosines.min()) if cosines.size else 0.0
            fused[keyword_order] = floor
            fused[hits.passages] = cosines
            if keyword_order.size:
                fused[keyword_order] += config.keyword_weight * keyword_scores / keyword_scores[0]
            if bigrams and config.keyword and config.bigram_weight:
                self._add_bigrams(fused, question, floor)
        else:
            fused[keyword_order] = keyword_scores
        return Signals(tokens, keyword_order, query_vector, hits, fused)

    def keyword_tokens(self, question: str) -> list[str]:
        """The question's keyword tokens as they are ranked: bridged where the corpus never uses a word, with
        the curation's synonyms."""
        tokens = self.index.tokenize(question)
        if self.bridge is not None:
            tokens = self.bridge(tokens, self.index.document_frequency)
        return self.index.with_synonyms(tokens)

    def _add_bigrams(self, fused: np.ndarray, question: str, floor: float) -> None:
        """Add the character-bigram signal; its best passages that neither index found join at `floor`."""
        order, scores = top_positive(self.index.bigram_scores(question), self.config.candidates)
        if not order.size:
            return
        new = order[~np.isfinite(fused[order])]
        fused[new] = floor
        fused[order] += self.config.bigram_weight * scores / scores[0]


def top_finite(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the k highest finite scores (best first) and those scores; -inf marks non-candidates."""
    candidates = np.flatnonzero(np.isfinite(scores))
    order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
    return order, scores[order]


def rank_fusion(scores: np.ndarray, k: int = 60) -> np.ndarray:
    """Re-express the candidates' scores as reciprocal-rank contributions (0 elsewhere)."""
    fused = np.zeros_like(scores)
    order, _ = top_finite(scores, scores.size)
    fused[order] = 1.0 / (k + 1 + np.arange(order.size))
    return fused
