"""BM25 keyword index (bm25s) over jieba tokens; scores every passage for filtering and paging."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from index.tokenizer import Tokenizer

logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """BM25 over passage texts; row i of the index is passage i."""

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self._bm25 = bm25
        self.size = size
        # bm25s keeps one column of scores per token: its length is the token's document frequency.
        self._document_frequency = np.diff(np.asarray(bm25.scores["indptr"], dtype=np.int64))

    @classmethod
    def build(cls, texts: list[str], tokenizer: Tokenizer | None = None) -> KeywordIndex:
        """Index `texts` (one per passage, in passage order), tokenised by `tokenizer` (default: no user words)."""
        bm25 = bm25s.BM25()
        corpus_tokens = (tokenizer or Tokenizer.for_words()).tokenize_many(texts)
        # bm25s needs at least one token per document to keep rows aligned.
        bm25.index([tokens or ["\x00"] for tokens in corpus_tokens], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for already-tokenised query terms (unknown terms ignored)."""
        known = [token for token in query_tokens if token in self._bm25.vocab_dict]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def document_frequency(self, tokens: list[str]) -> np.ndarray:
        """How many passages contain each token (0 for a token the corpus never uses)."""
        ids = [self._bm25.vocab_dict.get(token) for token in tokens]
        return np.array([0 if i is None or i >= self._document_frequency.size else self._document_frequency[i]
                         for i in ids], dtype=np.int64)

    def document_terms(self) -> list[dict[str, float]]:
        """For each passage, the BM25 weight of each of its terms. A passage's score for a query is the sum
        of the weights of the query's terms (repeats counted), so a sparse-vector store reproduces `scores`."""
        matrix = self._bm25.scores  # CSC: column j (a term) lists the passages holding it and their weights
        terms = {j: term for term, j in self._bm25.vocab_dict.items()}
        documents: list[dict[str, float]] = [{} for _ in range(self.size)]
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        for j in range(len(indptr) - 1):
            term = terms[j]
            for row, weight in zip(indices[indptr[j]:indptr[j + 1]].tolist(), data[indptr[j]:indptr[j + 1]].tolist(),
                                   strict=True):
                documents[row][term] = weight
        return documents

    def save(self, folder: Path) -> None:
        """Write the index files into `folder` (numpy arrays and JSON, no pickle)."""
        self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        """Read an index written by `save`, refusing pickled arrays."""
        return cls(bm25s.BM25.load(str(folder), mmap=False, allow_pickle=False), size)


def top_positive(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the k highest positive scores (best first) and those scores."""
    positive = np.flatnonzero(scores > 0)
    if positive.size == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if positive.size > k:
        positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
    order = positive[np.argsort(-scores[positive], kind="stable")]
    return order, scores[order]
