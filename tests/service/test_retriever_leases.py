"""A replaced retriever is closed once the requests that hold it are done: through the app with stand-ins,
and a replica following a Milvus alias to a new build (real `milvus-lite server`), whose old client is closed."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.build import build_index
from index.embedders import Embedder
from index.milvus_publish import MilvusTarget
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.loading import build_pointer, load_retriever, milvus_config
from retrieval.results import AskResult
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from service.state import RetrieverState
from tests.conftest import CORPUS
from tests.milvus import MilvusServer
from tests.service.conftest import PO_QUESTION, PO_TITLE


class Stub:
    """A stand-in retriever that counts its closes and whose `ask` can be held mid-request."""

    def __init__(self, build: str, gate: threading.Event | None = None,
                 entered: threading.Semaphore | None = None) -> None:
        self.closes = 0
        self.gate, self.entered = gate, entered
        manifest = SimpleNamespace(build_id=build)
        self.index = SimpleNamespace(manifest=manifest, build_id=build, passage=lambda _id: None)

    def ask(self, question: str, history: Any = None, lang: str | None = None) -> AskResult:
        if self.entered is not None:
            self.entered.release()
        assert self.gate is None or self.gate.wait(30)
        assert self.closes == 0, "asked after it was closed"
        return AskResult(answered=True, answer=self.index.build_id, citations=[], confidence=1.0, suggestions=[])

    def close(self) -> None:
        self.closes += 1


def _state() -> RetrieverState:
    return RetrieverState(Path("unused"), lambda _previous: Stub("never"), check_interval=0)


def test_a_retriever_no_request_holds_is_closed_when_replaced() -> None:
    state, old, new = _state(), Stub("old"), Stub("new")
    state.swap(old)
    assert state.swap(new) is old
    assert (old.closes, new.closes) == (1, 0)
    state.close()
    assert (old.closes, new.closes) == (1, 1) and state.current is None


def test_a_leased_retriever_is_closed_when_its_last_lease_ends() -> None:
    state, old, new = _state(), Stub("old"), Stub("new")
    state.swap(old)
    with state.lease() as first, state.lease() as second:
        assert first is second is old
        state.swap(new)
        assert old.closes == 0
        with state.lease() as third:
            assert third is new
    assert (old.closes, new.closes) == (1, 0)


def test_requests_in_flight_keep_the_old_retriever_open_until_they_answer(make_app: Any) -> None:
    app = make_app(index_check_seconds=0)
    gate, entered = threading.Event(), threading.Semaphore(0)
    state = app.state.services.retrievers
    old, new = Stub("old", gate, entered), Stub("new")
    state.swap(old)
    client = TestClient(app)
    with ThreadPoolExecutor(3) as pool:
        in_flight = [pool.submit(client.post, "/api/ask", json={"question": f"q{i}"}) for i in range(3)]
        for _ in in_flight:
            assert entered.acquire(timeout=30)
        state.swap(new)
        assert client.post("/api/ask", json={"question": "q"}).json()["answer"] == "new"
        assert old.closes == 0
        gate.set()
        assert [f.result().json()["answer"] for f in in_flight] == ["old"] * 3
    assert (old.closes, new.closes) == (1, 0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_replica_following_the_alias_closes_the_old_build_s_client_after_its_requests(
        milvus_server: MilvusServer, embedder: Embedder, cache_dir: Path, tmp_path: Path) -> None:
    settings = RetrievalSettings(  # type: ignore[call-arg]
        _env_file=None, index_dir=tmp_path / "lock", cache_dir=cache_dir, vector_store="milvus",
        milvus_uri=milvus_server.uri, milvus_collection=f"lease_{uuid.uuid4().hex[:10]}",
        milvus_timeout_seconds=10)
    passages = parse_paths([CORPUS]).passages

    def publish(extra: int) -> None:
        more = [Passage.create(title=f"沙箱账号 {i} 多久过期?", answer="九十天后自动过期。", topic="测试",
                               source="test", kind="faq") for i in range(extra)]
        build_index([*passages, *more], settings.index_dir, embedder, target=MilvusTarget(milvus_config(settings)))

    def load(previous: Retriever | None) -> Retriever:
        return load_retriever(settings, embedder=previous.embedder if previous else embedder)

    publish(0)
    state = RetrieverState(build_pointer(settings), load, check_interval=0)
    first, _ = state.reload()
    with state.lease() as in_flight:
        publish(1)  # a new build behind the alias: the replica follows it
        second, previous = state.reload()
        assert previous is first and second is not first
        assert not first.index.closed  # type: ignore[attr-defined]
        assert in_flight is first and in_flight.ask(PO_QUESTION).citations[0].title == PO_TITLE  # still searches
    assert first.index.closed and not second.index.closed  # type: ignore[attr-defined]
    assert second.ask(PO_QUESTION).citations[0].title == PO_TITLE
    publish(2)
    third, _ = state.reload()  # no request holds the second build: closed at once
    assert second.index.closed and not third.index.closed  # type: ignore[attr-defined]
    state.close()
    assert third.index.closed  # type: ignore[attr-defined]
