"""A stand-in embedder for USE's callers (the term bridge, the second opinion)."""

from __future__ import annotations

import numpy as np


class FixedVectors:
    """Each known text has a fixed unit vector; it records what it was asked, call by call."""

    dim = 3
    name = "fixed"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {text: np.asarray(v, np.float32) / np.linalg.norm(v) for text, v in vectors.items()}
        self.asked: list[list[str]] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.asked.append(texts)
        return np.stack([self.vectors[t] for t in texts])

    embed_passages = embed_queries
