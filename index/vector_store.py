"""FAISS vector store: inner product over unit vectors, so every score is a cosine similarity.

Several vectors may belong to one passage (its title alone and its title + answer); each row
records its passage and field, and searches report the best row of each passage per field.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

FIELD_BODY = 0
FIELD_TITLE = 1


@dataclass(frozen=True, slots=True)
class DenseHits:
    """Per-passage best cosine for the passages found, per field (NaN where the field was not hit)."""

    passages: np.ndarray  # passage rows, best first by max over fields
    body: np.ndarray
    title: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """Best cosine over fields."""
        return np.fmax(self.body, self.title)


class VectorStore:
    """Exact cosine search (faiss.IndexFlatIP) over passage vectors."""

    def __init__(self, vectors: np.ndarray, row_passage: np.ndarray, row_field: np.ndarray) -> None:
        if vectors.ndim != 2 or len(vectors) != len(row_passage) or len(row_passage) != len(row_field):
            raise ValueError("vectors, row_passage and row_field must have one row each")
        self.dim = int(vectors.shape[1])
        self.row_passage = row_passage.astype(np.int64)
        self.row_field = row_field.astype(np.int8)
        self._index = faiss.IndexFlatIP(self.dim)
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> DenseHits:
        """The passages of the top-k vectors, with their best cosine per field."""
        k = min(k, self.size)
        if k == 0:
            empty = np.zeros(0, dtype=np.float32)
            return DenseHits(np.zeros(0, dtype=np.int64), empty, empty)
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        found: dict[int, list[float]] = {}
        for score, row in zip(scores[0], rows[0], strict=True):
            if row < 0:
                continue
            per_field = found.setdefault(int(self.row_passage[row]), [np.nan, np.nan])
            field = int(self.row_field[row])
            if np.isnan(per_field[field]):
                per_field[field] = float(score)
        passages = np.fromiter(found, dtype=np.int64, count=len(found))
        body = np.array([v[FIELD_BODY] for v in found.values()], dtype=np.float32)
        title = np.array([v[FIELD_TITLE] for v in found.values()], dtype=np.float32)
        order = np.argsort(-np.fmax(body, title), kind="stable")
        return DenseHits(passages[order], body[order], title[order])
