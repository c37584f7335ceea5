"""Milvus faults, against a real `milvus-lite server` of this module's own: down at start, down mid-traffic.

Either way `/readyz` says not ready and why, `/api/ask` and `/api/search` answer 503 JSON within a
bounded time, and the replica serves again by itself once Milvus is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.embedders import Embedder
from tests.milvus import MilvusServer, stop
from tests.service.conftest import PO_QUESTION
from tests.service.milvus_replicas import MILVUS_TIMEOUT_S, milvus_env, publish_corpus, start_replica, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
BOUNDED_S = 4 * MILVUS_TIMEOUT_S + 2  # a few Milvus calls, each with its timeout, and the HTTP round trip


@pytest.fixture(scope="module")
def own_milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """A Milvus this module stops and starts again (same port, same data)."""
    server = MilvusServer(tmp_path_factory.mktemp("milvus-faults") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _unavailable(url: str) -> None:
    """/api/ask and /api/search answer 503 JSON naming the store, within the bound."""
    for method, path, kwargs in (("POST", "/api/ask", {"json": {"question": f"{PO_QUESTION} {uuid.uuid4().hex}"}}),
                                 ("GET", "/api/search", {"params": {"q": "PSM"}})):
        started = time.monotonic()
        response = httpx.request(method, f"{url}{path}", timeout=BOUNDED_S * 3, **kwargs)
        assert time.monotonic() - started < BOUNDED_S, path
        assert response.status_code == 503, (path, response.text)
        assert "vector store is unavailable" in response.json()["detail"], response.text
        assert response.headers["retry-after"] == "5"


def test_milvus_down_at_start_then_back(own_milvus: MilvusServer, embedder: Embedder, tmp_path: Path) -> None:
    base = f"f_{uuid.uuid4().hex[:8]}"
    publish_corpus(own_milvus, base, embedder, tmp_path / "lock")
    own_milvus.stop()
    replica = start_replica(milvus_env(own_milvus, base, tmp_path), tmp_path, "down-at-start")
    try:
        ready = wait_until(replica, ready=False)
        assert ready["store"] == "milvus" and "Milvus at" in ready["reason"], ready
        assert httpx.get(f"{replica.url}/readyz", timeout=10).status_code == 503
        _unavailable(replica.url)
        own_milvus.start()
        ready = wait_until(replica, ready=True, timeout=90)
        assert ready["reason"] == "" and ready["passages"] > 0
        answer = httpx.post(f"{replica.url}/api/ask", json={"question": PO_QUESTION}, timeout=30)
        assert answer.status_code == 200 and answer.json()["answered"] is True
    finally:
        stop(replica.process)
        if not own_milvus.running:
            own_milvus.start()


def test_milvus_down_mid_traffic_then_back(own_milvus: MilvusServer, embedder: Embedder, tmp_path: Path) -> None:
    base = f"g_{uuid.uuid4().hex[:8]}"
    publish_corpus(own_milvus, base, embedder, tmp_path / "lock")
    replica = start_replica(milvus_env(own_milvus, base, tmp_path), tmp_path, "down-mid-traffic")
    try:
        before = wait_until(replica, ready=True)
        assert httpx.post(f"{replica.url}/api/ask", json={"question": PO_QUESTION}, timeout=30).status_code == 200
        own_milvus.stop()
        _unavailable(replica.url)  # the first request that meets the dead store already gets a 503
        ready = wait_until(replica, ready=False, timeout=30)
        assert "Milvus at" in ready["reason"] and ready["store"] == "milvus"
        _unavailable(replica.url)
        own_milvus.start()
        after = wait_until(replica, ready=True, timeout=90)
        assert after["build_id"] == before["build_id"]
        with httpx.Client(base_url=replica.url, timeout=30) as http:
            assert http.post("/api/ask", json={"question": PO_QUESTION}).status_code == 200
            assert http.get("/api/search", params={"q": "PSM"}).status_code == 200
    finally:
        stop(replica.process)

