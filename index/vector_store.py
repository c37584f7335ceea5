"""FAISS vector store: inner product over unit vectors, so every score is a cosine similarity.

Several vectors may belong to one passage (its title alone, its title + answer, and windows of a long
answer); each row records its passage and field, and searches report the best row of each passage per field.

Up to `EXACT_SEARCH_MAX_VECTORS` vectors the search is exact (`IndexFlatIP`). Above it, exact search
is memory-bound (120,000 × 384 floats is 184 MB read per question, ~14-20 ms on 2 cores), so an
HNSW graph (`IndexHNSWFlat`, built once per build and saved beside the vectors) finds the nearest
vectors in under a millisecond; the scores it reports are still exact cosines of the vectors found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from index.omp_lane import run_in_lane

FIELD_BODY = 0
FIELD_TITLE = 1
FIELD_WINDOW = 2  # the title + one window of a long answer (see `index.answer_windows`)
FIELDS = 3
EXACT_SEARCH_MAX_VECTORS = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
GRAPH_FILE = "vectors.hnsw"
HNSW_EF_SEARCH = 128  # measured at 120k vectors: same top-1 as exact search, 99% of the top 10, 0.6 ms


def needs_graph(vector_count: int) -> bool:
    """Whether a store of this many vectors searches an HNSW graph rather than every vector."""
    return vector_count > EXACT_SEARCH_MAX_VECTORS


def build_graph(vectors: np.ndarray) -> faiss.IndexHNSWFlat:
    """An HNSW graph over unit vectors, scored by inner product (cosine)."""
    graph = faiss.IndexHNSWFlat(int(vectors.shape[1]), HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return graph


def write_graph(graph: faiss.IndexHNSWFlat, path: Path) -> None:
    """Save a graph in FAISS's own binary format (no pickle)."""
    faiss.write_index(graph, str(path))


def read_graph(path: Path, vector_count: int, dim: int) -> faiss.IndexHNSWFlat:
    """Load a saved graph; `ValueError` when it is not an HNSW graph of exactly these vectors."""
    try:
        graph = faiss.read_index(str(path))  # returned as its concrete class
    except RuntimeError as err:  # FAISS reports unreadable files this way
        raise ValueError(f"{path.name} is not a FAISS index: {str(err).strip().splitlines()[0]}") from err
    if not isinstance(graph, faiss.IndexHNSWFlat) or graph.ntotal != vector_count or graph.d != dim:
        raise ValueError(f"{path.name} does not index the {vector_count} vectors of dimension {dim}")
    return graph


@dataclass(frozen=True, slots=True)
class DenseHits:
    """Per-passage best cosine for the passages found, per field (NaN where the field was not hit)."""

    passages: np.ndarray  # passage rows, best first by max over fields
    body: np.ndarray
    title: np.ndarray
    window: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """Best cosine over fields."""
        return np.fmax(np.fmax(self.body, self.title), self.window)

    @classmethod
    def of(cls, passages: np.ndarray, per_field: np.ndarray) -> DenseHits:
        """The hits of `passages` (in any order) with their cosines per field (`per_field[field]`), best first."""
        order = np.argsort(-np.fmax.reduce(per_field, axis=0), kind="stable")  # by the best field (NaN: not hit)
        per_field = per_field[:, order]
        return cls(passages[order], per_field[FIELD_BODY], per_field[FIELD_TITLE], per_field[FIELD_WINDOW])


class VectorStore:
    """Cosine search over passage vectors: exact for small stores, an HNSW graph for large ones."""

    def __init__(self, vectors: np.ndarray, row_passage: np.ndarray, row_field: np.ndarray,
                 graph: faiss.IndexHNSWFlat | None = None) -> None:
        if vectors.ndim != 2 or len(vectors) != len(row_passage) or len(row_passage) != len(row_field):
            raise ValueError("vectors, row_passage and row_field must have one row each")
        self.dim = int(vectors.shape[1])
        self.row_passage = row_passage.astype(np.int64)
        self.row_field = row_field.astype(np.int8)
        if graph is None and needs_graph(len(vectors)):
            graph = build_graph(vectors)  # a build saved without its graph: slower start, same answers
        if graph is not None:
            if graph.ntotal != len(vectors) or graph.d != self.dim:
                raise ValueError("the graph does not index these vectors")
            graph.hnsw.efSearch = HNSW_EF_SEARCH
        self.graph = graph  # None: every vector is compared
        if graph is not None:
            self._index: faiss.Index = graph
        else:
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
            return DenseHits.of(np.zeros(0, dtype=np.int64), np.zeros((FIELDS, 0), dtype=np.float32))
        scores, rows = run_in_lane(self._index.search, np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        found = rows[0] >= 0
        rows, scores = rows[0][found], scores[0][found]
        passage, field = self.row_passage[rows], self.row_field[rows]
        # Rows come best first: a passage is listed where its first row is, with its first row's score per field.
        ids, first, slot = np.unique(passage, return_index=True, return_inverse=True)
        listed = np.argsort(first)
        position = np.empty_like(listed)
        position[listed] = np.arange(listed.size)
        slot = position[slot]
        _, best = np.unique(slot * FIELDS + field, return_index=True)  # the first row of each passage and field
        per_field = np.full((FIELDS, ids.size), np.nan, dtype=np.float32)
        per_field[field[best], slot[best]] = scores[best]
        return DenseHits.of(ids[listed], per_field)
