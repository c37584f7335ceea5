"""Re-indexing while a two-worker server is under load: no failed request, no mixed answers.

A real `uvicorn` with two worker processes serves a private copy of the shipped corpus's index.
Eight concurrent clients ask questions from eval/questions/dev.jsonl (and about the FAQ entries
being added) while `faq ingest` rebuilds the index with an extra file and `/admin/reload` is
called. Every answer must come from one build, the one its X-Index-Build header names, and in the
end both workers must serve the new build. A `faq ingest` killed mid-build changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from eval.bench.load import run_in_fresh_loop
from eval.bench.server import running_server
from index.index_dir import current_build
from tests.conftest import CORPUS, PROJECT, wait_for_build_lock
from tests.service.conftest import ADMIN_TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
CLIENTS = 8
INGEST_TIMEOUT_S = 150
SETTLE_TIMEOUT_S = 30  # after the reload: until both workers report the new build
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEW_FAQS = [
    {"question": "负载测试专用:演示环境怎么申请?", "answer": "在伙伴中心提交演示环境申请,三个工作日内开通。",
     "topic": "负载测试"},
    {"question": "负载测试专用:沙箱账号多久过期?", "answer": "沙箱账号自开通起九十天后自动过期,可申请延期一次。",
     "topic": "负载测试"},
]
DEV_QUESTIONS = [json.loads(line)["question"]
                 for line in (PROJECT / "eval" / "questions" / "dev.jsonl").read_text("utf-8").splitlines() if line]


@dataclass(frozen=True)
class Server:
    url: str
    index: Path
    folder: Path
    env: dict[str, str]  # for `faq ingest` into the served index folder


@dataclass(frozen=True)
class Answer:
    status: int
    build: str
    passage_ids: tuple[str, ...]
    started: float
    finished: float


@pytest.fixture(scope="module")
def server(corpus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two uvicorn workers over a private copy of the corpus index (following CURRENT every second)."""
    folder = tmp_path_factory.mktemp("reindex")
    index = folder / "index"
    shutil.copytree(corpus_index, index)
    env = {
        "FAQ_METRICS_DIR": str(folder / "metrics"),
        "FAQ_ADMIN_TOKEN": ADMIN_TOKEN,
        "FAQ_INDEX_CHECK_SECONDS": "1",
    }
    ingest_env = {**os.environ, "PYTHONPATH": str(PROJECT), "FAQ_INDEX_DIR": str(index)}
    with running_server(index, folder / "server.log", workers=2, launcher="uvicorn", env=env) as running:
        yield Server(running.url, index, folder, ingest_env)


def _passage_ids(index: Path, build: str) -> set[str]:
    lines = (index / "builds" / build / "passages.jsonl").read_text("utf-8").splitlines()
    return {json.loads(line)["id"] for line in lines if line}


def _builds_by_worker(url: str) -> dict[str, str]:
    """pid → the build that worker serves, from the per-process `faq_index_build` gauge."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {sample.labels["pid"]: sample.labels["build_id"] for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == "faq_index_build" and sample.value == 1}


def _ingest(server: Server, *paths: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), "ingest", *map(str, paths)], cwd=PROJECT,
                            env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def _load(url: str, questions: list[str], stop_event: asyncio.Event, answers: list[Answer],
                errors: list[str]) -> None:
    """CLIENTS concurrent clients asking in turn until `stop_event` is set."""

    async def client(number: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            turn = number
            while not stop_event.is_set():
                question = questions[turn % len(questions)]
                turn += CLIENTS
                started = time.monotonic()
                try:
                    response = await http.post("/api/ask", json={"question": question})
                    body = response.json()
                    ids = tuple(c["passage_id"] for c in body.get("citations", ())) + tuple(
                        s["passage_id"] for s in body.get("suggestions", ()))
                    answers.append(Answer(response.status_code, response.headers.get("x-index-build", ""), ids,
                                          started, time.monotonic()))
                except (httpx.HTTPError, ValueError) as err:
                    errors.append(f"{question!r}: {err!r}")

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))


def test_reindex_and_reload_under_load(server: Server) -> None:
    old = current_build(server.index).name
    old_ids = _passage_ids(server.index, old)
    assert set(_builds_by_worker(server.url).values()) == {old}
    extra = server.folder / "new-faqs.jsonl"
    extra.write_text("\n".join(json.dumps(faq, ensure_ascii=False) for faq in NEW_FAQS), "utf-8")
    questions = [faq["question"] for faq in NEW_FAQS] + DEV_QUESTIONS
    answers: list[Answer] = []
    errors: list[str] = []
    timeline: dict[str, float] = {}

    async def scenario() -> dict[str, object]:
        stop_event = asyncio.Event()
        load = asyncio.create_task(_load(server.url, questions, stop_event, answers, errors))
        try:
            await asyncio.sleep(1)
            timeline["ingest"] = time.monotonic()
            ingest = await asyncio.create_subprocess_exec(
                sys.executable, str(PROJECT / "cli.py"), "ingest", str(CORPUS), str(extra), cwd=PROJECT,
                env=server.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, stderr = await asyncio.wait_for(ingest.communicate(), INGEST_TIMEOUT_S)
            assert ingest.returncode == 0, stderr.decode(errors="replace")
            timeline["ingested"] = time.monotonic()
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
                reload = await http.post("/admin/reload", headers=AUTH)
            assert reload.status_code == 200, reload.text
            timeline["reloaded"] = time.monotonic()
            new = reload.json()["build_id"]
            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            while set((await asyncio.to_thread(_builds_by_worker, server.url)).values()) != {new}:
                assert time.monotonic() < deadline, "a worker still serves the old build"
                await asyncio.sleep(0.5)
            timeline["settled"] = time.monotonic()
            await asyncio.sleep(2)  # keep the load on the new build for a while
            return reload.json()
        finally:
            stop_event.set()
            await load

    reload = run_in_fresh_loop(scenario())
    new = current_build(server.index).name
    new_ids = _passage_ids(server.index, new)
    added = new_ids - old_ids
    assert reload["build_id"] == new != old and len(added) == len(NEW_FAQS)

    assert errors == []
    assert answers and all(a.status == 200 for a in answers), {a.status for a in answers}
    ids_of = {old: old_ids, new: new_ids}
    for answer in answers:  # each answer comes from the one build its header names, never a mix
        assert answer.build in ids_of, answer
        assert set(answer.passage_ids) <= ids_of[answer.build], answer
    by_build = {build: [a for a in answers if a.build == build] for build in ids_of}
    during_ingest = [a for a in answers if timeline["ingest"] <= a.finished <= timeline["ingested"]]
    assert by_build[old] and by_build[new] and during_ingest  # the load really spanned the swap
    assert any(set(a.passage_ids) & added for a in by_build[new])  # the new entries are found...
    assert not any(set(a.passage_ids) & added for a in by_build[old])  # ...only in the new build
    # Requests already holding the old build finish on it (they may still be queued); every request
    # sent once all workers serve the new build gets the new one.
    after = [a for a in answers if a.started > timeline["settled"]]
    assert after and {a.build for a in after} == {new}
    assert set(_builds_by_worker(server.url).values()) == {new}
    assert len(_builds_by_worker(server.url)) == 2


def test_killed_ingest_leaves_the_served_build_alone(server: Server) -> None:
    serving = current_build(server.index).name
    builds_before = sorted(p.name for p in (server.index / "builds").iterdir())
    big = server.folder / "big.jsonl"
    big.write_text("\n".join(json.dumps({"question": f"批量条目{i}:第{i}号流程怎么走?",
                                         "answer": f"第{i}号流程:先提交申请,再等待审核{i % 7 + 1}个工作日。"},
                                        ensure_ascii=False) for i in range(600)), "utf-8")
    process = _ingest(server, CORPUS, big)
    try:
        wait_for_build_lock(server.index, process, INGEST_TIMEOUT_S)  # parsing done, building under way
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    assert current_build(server.index).name == serving
    assert sorted(p.name for p in (server.index / "builds").iterdir() if not p.name.startswith(".")) == [
        b for b in builds_before if not b.startswith(".")]
    time.sleep(2)  # past a check interval: the workers looked at CURRENT and found nothing new
    for _ in range(6):
        response = httpx.post(f"{server.url}/api/ask", json={"question": DEV_QUESTIONS[0]}, timeout=60)
        assert response.status_code == 200 and response.headers["x-index-build"] == serving
    reload = httpx.post(f"{server.url}/admin/reload", headers=AUTH, timeout=120)
    assert reload.status_code == 200 and reload.json()["build_id"] == serving
    assert set(_builds_by_worker(server.url).values()) == {serving}
