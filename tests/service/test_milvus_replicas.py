"""Two `faq serve` replicas on one real Milvus (`milvus-lite server`): identical answers, and a re-index under
load across both with no failed request and no answer mixing two builds."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from eval.bench.load import run_in_fresh_loop
from index.embedders import Embedder
from index.milvus_build import MilvusBuild
from index.milvus_store import MilvusConfig, MilvusStore, build_id_of
from tests.conftest import CORPUS, PROJECT
from tests.milvus import MilvusServer, stop
from tests.service.milvus_replicas import Replica, milvus_env, publish_corpus, start_replica, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
CLIENTS = 8
INGEST_TIMEOUT_S = 180
NEW_FAQS = [
    {"question": "副本测试专用:演示环境怎么申请?", "answer": "在伙伴中心提交演示环境申请,三个工作日内开通。",
     "topic": "副本测试"},
    {"question": "副本测试专用:沙箱账号多久过期?", "answer": "沙箱账号自开通起九十天后自动过期,可申请延期一次。",
     "topic": "副本测试"},
]
DEV = [json.loads(line)["question"] for line in (PROJECT / "eval" / "questions" / "dev.jsonl").read_text("utf-8")
       .splitlines() if line]


@dataclass(frozen=True)
class Cluster:
    replicas: tuple[Replica, Replica]
    config: MilvusConfig
    env: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def cluster(milvus_server: MilvusServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    """The corpus published to Milvus and two replicas following its alias."""
    folder = tmp_path_factory.mktemp("replicas")
    base = f"r_{uuid.uuid4().hex[:8]}"
    publish_corpus(milvus_server, base, embedder, folder / "lock")
    env = milvus_env(milvus_server, base, folder)
    first = start_replica(env, folder, "replica-a")
    try:
        second = start_replica(env, folder, "replica-b")
    except BaseException:
        stop(first.process)
        raise
    try:
        for replica in (first, second):
            wait_until(replica, ready=True)
        yield Cluster((first, second), MilvusConfig(uri=milvus_server.uri, base=base, timeout=10), env, folder)
    finally:
        stop(first.process)
        stop(second.process)


def test_two_replicas_give_identical_answers_and_hold_no_index_files(cluster: Cluster) -> None:
    bodies = []
    for replica in cluster.replicas:
        ready = httpx.get(f"{replica.url}/readyz", timeout=10).json()
        assert ready["ready"] is True and ready["store"] == "milvus" and ready["reason"] == ""
        with httpx.Client(base_url=replica.url, timeout=30) as http:
            answers = [http.post("/api/ask", json={"question": q}) for q in DEV[:40]]
            search = http.get("/api/search", params={"q": "PSM"})
        assert all(a.status_code == 200 for a in answers) and search.status_code == 200
        # Links to this service's passage pages name the replica answering; everything else must be equal.
        bodies.append(json.loads(json.dumps([[a.json() for a in answers], [a.headers["x-index-build"] for a in answers],
                                             search.json()]).replace(replica.url, "<replica>")))
    assert bodies[0] == bodies[1]
    assert sum(a["answered"] for a in bodies[0][0]) > 20
    assert not (cluster.folder / "no-index").exists() or not any((cluster.folder / "no-index").rglob("*.npy"))


@dataclass(frozen=True)
class Answer:
    status: int
    build: str
    passage_ids: tuple[str, ...]
    started: float


async def _load(urls: tuple[str, ...], questions: list[str], stop_event: asyncio.Event, answers: list[Answer],
                errors: list[str]) -> None:
    async def client(number: int) -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            turn = number
            while not stop_event.is_set():
                question, url = questions[turn % len(questions)], urls[turn % len(urls)]
                turn += CLIENTS
                started = time.monotonic()
                try:
                    response = await http.post(f"{url}/api/ask", json={"question": question})
                    body = response.json()
                    ids = tuple(c["passage_id"] for c in body.get("citations", ())) + tuple(
                        s["passage_id"] for s in body.get("suggestions", ()))
                    answers.append(Answer(response.status_code, response.headers.get("x-index-build", ""), ids,
                                          started))
                except (httpx.HTTPError, ValueError) as err:
                    errors.append(f"{url} {question!r}: {err!r}")

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))


def test_reindex_under_load_across_both_replicas(cluster: Cluster) -> None:
    store = MilvusStore(cluster.config)
    old = build_id_of(store.alias_target() or "", cluster.config.base)
    extra = cluster.folder / "new-faqs.jsonl"
    extra.write_text("\n".join(json.dumps(faq, ensure_ascii=False) for faq in NEW_FAQS), "utf-8")
    questions = [faq["question"] for faq in NEW_FAQS] + DEV
    answers: list[Answer] = []
    errors: list[str] = []
    urls = tuple(r.url for r in cluster.replicas)
    settled: dict[str, float] = {}

    async def scenario() -> None:
        stop_event = asyncio.Event()
        load = asyncio.create_task(_load(urls, questions, stop_event, answers, errors))
        try:
            await asyncio.sleep(1)
            ingest = await asyncio.create_subprocess_exec(
                sys.executable, str(PROJECT / "cli.py"), "ingest", str(CORPUS), str(extra), cwd=PROJECT,
                env=cluster.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, stderr = await asyncio.wait_for(ingest.communicate(), INGEST_TIMEOUT_S)
            assert ingest.returncode == 0, stderr.decode(errors="replace")
            new = build_id_of(await asyncio.to_thread(store.alias_target) or "", cluster.config.base)
            deadline = time.monotonic() + 60
            async with httpx.AsyncClient(timeout=30) as http:
                while {(await http.get(f"{u}/readyz")).json()["build_id"] for u in urls} != {new}:
                    assert time.monotonic() < deadline, "a replica still serves the old build"
                    await asyncio.sleep(0.5)
            settled["at"] = time.monotonic()
            await asyncio.sleep(2)
        finally:
            stop_event.set()
            await load

    run_in_fresh_loop(scenario())
    new = build_id_of(store.alias_target() or "", cluster.config.base)
    assert new is not None and new != old
    ids_of = {build: {p.id for p in MilvusBuild.open(cluster.config, build_id=build).passages} for build in (old, new)}
    added = ids_of[new] - ids_of[old]
    assert len(added) == len(NEW_FAQS)
    assert errors == []
    assert answers and all(a.status == 200 for a in answers), {a.status for a in answers}
    for answer in answers:  # each answer from the one build its header names
        assert answer.build in ids_of and set(answer.passage_ids) <= ids_of[answer.build], answer
    by_build = {build: [a for a in answers if a.build == build] for build in ids_of}
    assert by_build[old] and by_build[new]
    assert any(set(a.passage_ids) & added for a in by_build[new])
    assert not any(set(a.passage_ids) & added for a in by_build[old])
    after = [a for a in answers if a.started > settled["at"]]
    assert after and {a.build for a in after} == {new}
