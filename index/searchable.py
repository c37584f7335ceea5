"""The seam between a published build and retrieval: what retrieval reads, wherever the build is stored.

`LoadedBuild` (a FAISS build folder held in memory) implements it; a shared store (Milvus) can too.
Vectors live in named spaces, one per embedder (`space` is the embedder's name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.vector_store import DenseHits
from ingest.passage import Passage

if TYPE_CHECKING:
    from index.index_dir import Manifest


@dataclass(frozen=True, slots=True)
class PassageVectors:
    """Some passages' vectors in one space: for each row its passage, its field and the unit vector."""

    passage: np.ndarray  # int64
    field: np.ndarray    # int8 (FIELD_BODY, FIELD_TITLE, ...)
    vectors: np.ndarray  # float32, one unit row each


class SearchableBuild(Protocol):
    """One published, immutable build as retrieval sees it; passages are addressed by their row."""

    @property
    def build_id(self) -> str:
        """The build's id (what `CURRENT` names)."""
        ...

    @property
    def manifest(self) -> Manifest:
        """What the build holds and how it was made."""
        ...

    @property
    def passages(self) -> list[Passage]:
        """Every passage, row i being passage i."""
        ...

    @property
    def spaces(self) -> tuple[str, ...]:
        """The vector spaces (embedder names) the build holds."""
        ...

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with that id, if present."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """Keyword tokens of `text`, the way this build's keyword index was tokenised."""
        ...

    def nouns(self, tokens: list[str]) -> list[str]:
        """The keyword tokens (from `tokenize`) that are nouns, by this build's dictionary."""
        ...

    def with_synonyms(self, tokens: list[str]) -> list[str]:
        """A query's keyword tokens (from `tokenize`) followed by the tokens of the synonyms of its terms."""
        ...

    def bigram_scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for the character bigrams of `text` (`index.bigram_index`)."""
        ...

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for already-tokenised query terms."""
        ...

    def document_frequency(self, tokens: list[str]) -> np.ndarray:
        """How many passages contain each token (0 for a token the corpus never uses)."""
        ...

    def dense_search(self, space: str, query: np.ndarray, k: int) -> DenseHits:
        """The passages of the top-k vectors of `space`, with their best cosine per field."""
        ...

    def passage_vectors(self, space: str, passages: Sequence[int]) -> PassageVectors:
        """Every vector of these passages in `space`."""
        ...

    def centroid(self, space: str) -> np.ndarray | None:
        """Mean of the body vectors of `space` (None for an empty build)."""
        ...

    def close(self) -> None:
        """Release connections the build holds (a replica calls it once no request uses the build)."""
        ...
