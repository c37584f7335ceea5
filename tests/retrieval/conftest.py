"""Retrieval fixtures: the retriever the service would load for the shipped corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embedders import Embedder
from retrieval.loading import load_retriever
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings


@pytest.fixture(scope="module")
def retriever(corpus_index: Path, embedder: Embedder, cache_dir: Path) -> Retriever:
    """Loaded like the service loads it: shipped model, the build's self-calibrated threshold, background."""
    settings = RetrievalSettings(_env_file=None, index_dir=corpus_index, cache_dir=cache_dir)  # type: ignore[call-arg]
    return load_retriever(settings, embedder=embedder)
