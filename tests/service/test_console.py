"""The maintainers' console API: the queue (recorded, grouped, resolved), curation writes, hit test, feedback,
analytics, the rebuild; every endpoint behind the bearer token."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.index_dir import LoadedBuild, current_build
from ingest.curation import load_curation
from ingest.passage import Passage
from retrieval.abstention.features import FEATURES
from retrieval.retriever import Retriever
from tests.conftest import CORPUS
from tests.service.conftest import ADMIN_TOKEN, OFF_TOPIC, PO_QUESTION, PO_TITLE, ClientFactory

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WEATHER = [OFF_TOPIC, "北京今天天气如何", "今天北京的天气怎么样?"]
COOKING = "红烧肉怎么做才好吃"
ENDPOINTS = [("get", "/admin/queue", None), ("post", "/admin/alternates", {"entry": "x", "questions": ["q"]}),
             ("post", "/admin/entries", {"question": "q", "answer": "a"}), ("get", "/admin/analytics", None),
             ("post", "/admin/explain", {"question": "q"}), ("get", "/admin/feedback", None),
             ("get", "/admin/rebuild", None), ("post", "/admin/rebuild", {})]


@pytest.fixture
def console(make_client: ClientFactory) -> TestClient:
    # Below the PO answer's confidence (0.65 with the shipped model): these tests queue refusals and thumbs-down
    # votes; unsure answers have a test of their own.
    return make_client(admin_token=ADMIN_TOKEN, review_below=0.5)


def call(client: TestClient, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
    return client.request(method.upper(), path, json=body, **kwargs)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_console_endpoints_are_off_without_a_configured_token(client: TestClient, method: str, path: str,
                                                              body: Any) -> None:
    assert call(client, method, path, body, headers=AUTH).status_code == 404
    assert client.get("/admin").status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer wrong", ADMIN_TOKEN])
def test_console_endpoints_need_the_bearer_token(console: TestClient, method: str, path: str, body: Any,
                                                 header: str | None) -> None:
    response = call(console, method, path, body, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json() == {"detail": "a valid admin bearer token is required"}


def test_the_console_page_is_served_with_a_strict_policy(console: TestClient) -> None:
    page = console.get("/admin")  # the page holds no secret: it asks for the token, the API checks it
    assert page.status_code == 200 and 'id="token"' in page.text and "/static/admin.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert console.get("/static/admin.js").status_code == 200


def test_refusals_are_queued_and_grouped_by_meaning(console: TestClient, retriever: Retriever) -> None:
    for question in [*WEATHER, WEATHER[0], COOKING, PO_QUESTION]:
        assert console.post("/api/ask", json={"question": question}).status_code == 200
    history = [{"question": COOKING, "answer": ""}]
    followup = console.post("/api/ask", json={"question": "那要多久?", "history": history})
    assert followup.json()["answered"] is False and followup.json()["used_history"] is True

    queue = console.get("/admin/queue", headers=AUTH)
    assert queue.status_code == 200, queue.text
    clusters = queue.json()["clusters"]
    assert [(c["question"], c["count"]) for c in clusters] == [(OFF_TOPIC, 4), (COOKING, 1), ("那要多久?", 1)]
    weather = clusters[0]
    assert {v["question"]: v["count"] for v in weather["questions"]} == {OFF_TOPIC: 2, WEATHER[1]: 1, WEATHER[2]: 1}
    assert weather["kinds"] == {"refused": 4} and weather["used_history"] == 0
    assert (clusters[1]["used_history"], clusters[2]["used_history"]) == (0, 1)  # PO was answered: not queued
    assert weather["closest"]["passage_id"] in {p.id for p in retriever.index.passages}
    assert weather["margin"] is not None and weather["confidence"] < retriever.threshold

    record = console.app.state.services.queue.open_records()[-1]  # the oldest: the first weather question
    assert (record.question, record.kind, record.used_history) == (OFF_TOPIC, "refused", False)
    assert record.build_id == retriever.index.build_id and record.confidence is not None
    assert len(record.suggestions) == 3 and set(record.suggestions[0]) == {"passage_id", "title"}


def test_unsure_answers_are_queued_below_the_review_threshold(make_client: ClientFactory) -> None:
    client = make_client(admin_token=ADMIN_TOKEN, review_below=1.0)  # every answer is "unsure"
    answer = client.post("/api/ask", json={"question": PO_QUESTION}).json()
    assert answer["answered"] is True
    cluster = client.get("/admin/queue", headers=AUTH).json()["clusters"][0]
    assert cluster["kinds"] == {"low_confidence": 1} and cluster["closest"]["title"] == PO_TITLE


def test_thumbs_down_is_queued_and_shown_with_the_answer(console: TestClient, retriever: Retriever) -> None:
    answer = console.post("/api/ask", json={"question": PO_QUESTION}).json()
    passage_id = answer["citations"][0]["passage_id"]
    for helpful in (False, True, False):
        body = {"passage_id": passage_id, "question": PO_QUESTION, "helpful": helpful}
        assert console.post("/api/feedback", json=body).status_code == 201

    queue = console.get("/admin/queue", headers=AUTH).json()
    assert queue["clusters"][0]["kinds"] == {"thumbs_down": 2}
    assert queue["disliked"] == [{"entry": {"passage_id": passage_id, "title": PO_TITLE}, "count": 2,
                                  "questions": [PO_QUESTION]}]
    record = console.app.state.services.queue.open_records()[0]
    assert record.confidence == pytest.approx(answer["confidence"], abs=1e-4)  # copied from the answer shown
    assert [s["passage_id"] for s in record.suggestions] == [s["passage_id"] for s in answer["suggestions"]]

    thumbs = console.get("/admin/feedback", headers=AUTH).json()
    assert [t["helpful"] for t in thumbs] == [False, True, False]  # newest first
    assert thumbs[0]["question"] == PO_QUESTION and thumbs[0]["title"] == PO_TITLE
    assert thumbs[0]["answer"] == retriever.index.passage(passage_id).answer


def test_accepting_a_cluster_writes_alternates_and_resolves_it(console: TestClient, make_settings: Any,
                                                               retriever: Retriever) -> None:
    for question in WEATHER:
        console.post("/api/ask", json={"question": question})
    target = retriever.index.passages[0]
    body = {"entry": target.id, "questions": [*WEATHER, WEATHER[0]]}
    response = console.post("/admin/alternates", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.json() == {"entry": {"passage_id": target.id, "title": target.title}, "added": WEATHER,
                               "resolved": 3}
    again = console.post("/admin/alternates", json=body, headers=AUTH).json()
    assert again["added"] == [] and again["resolved"] == 0  # nothing written twice
    assert console.get("/admin/queue", headers=AUTH).json()["clusters"] == []

    curation = load_curation(make_settings().curation_dir)
    assert [(a.entry, a.question, a.line) for a in curation.alternates] == [(target.id, q, i + 1)
                                                                           for i, q in enumerate(WEATHER)]
    unknown = console.post("/admin/alternates", json={"entry": "0000", "questions": ["x"]}, headers=AUTH)
    assert unknown.status_code == 422 and "no entry with passage id '0000'" in unknown.json()["detail"]
    blank = console.post("/admin/alternates", json={"entry": target.id, "questions": ["  "]}, headers=AUTH)
    assert blank.status_code == 422


def test_drafting_an_entry_writes_entries_jsonl(console: TestClient, make_settings: Any) -> None:
    console.post("/api/ask", json={"question": COOKING})
    body = {"question": "红烧肉的做法?", "answer": "先焯水，再炒糖色，小火炖一小时。", "topic": "测试",
            "url": "https://help.example.com/hongshao", "questions": [COOKING]}
    response = console.post("/admin/entries", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    made = response.json()
    expected_id = Passage.create(title=body["question"], answer=body["answer"], topic="", source="", kind="faq").id
    assert made == {"passage_id": expected_id, "title": "红烧肉的做法?", "alternates_added": [COOKING], "resolved": 1}
    curation = load_curation(make_settings().curation_dir)
    assert [(p.title, p.topic, p.source) for p in curation.entries] == [("红烧肉的做法?", "测试", body["url"])]
    assert [(a.entry, a.question) for a in curation.alternates] == [(expected_id, COOKING)]
    assert console.post("/admin/entries", json={"question": "q", "answer": " "}, headers=AUTH).status_code == 422


FEE_QUESTION = "先进云软件方案认证要收费吗"  # the certification entry says nothing of a fee


@pytest.mark.parametrize("question", [PO_QUESTION, OFF_TOPIC, "PO验证SLA", FEE_QUESTION])
def test_hit_test_is_what_ask_answers(console: TestClient, retriever: Retriever, question: str) -> None:
    asked = console.post("/api/ask", json={"question": question}).json()
    explained = console.post("/admin/explain", json={"question": question}, headers=AUTH).json()
    assert (explained["answered"], explained["answer"]) == (asked["answered"], asked["answer"])
    assert explained["confidence"] == pytest.approx(asked["confidence"], abs=1e-4)
    assert explained["threshold"] == retriever.threshold
    assert (explained["confidence"] >= explained["threshold"]) is explained["answered"]
    top = explained["candidates"][0]
    assert set(top["signals"]) == set(FEATURES) and all(not c["signals"] for c in explained["candidates"][1:])
    shown = [*(c["passage_id"] for c in asked["citations"]), *(s["passage_id"] for s in asked["suggestions"])]
    assert [c["passage_id"] for c in explained["candidates"][:len(shown)]] == shown
    assert explained["tokens"] == retriever.index.with_synonyms(retriever.index.tokenize(question))


def test_hit_test_says_which_kind_of_answer_the_top_entry_does_not_state(console: TestClient) -> None:
    explained = console.post("/admin/explain", json={"question": FEE_QUESTION}, headers=AUTH).json()
    assert explained["unstated"] == ["amount"]
    assert not explained["answered"] and explained["confidence"] == 0.0
    timed = console.post("/admin/explain", json={"question": PO_QUESTION}, headers=AUTH).json()
    assert timed["unstated"] == [] and timed["unnamed"] == []


def test_hit_test_says_which_name_of_a_support_question_the_help_center_never_uses(console: TestClient) -> None:
    explained = console.post("/admin/explain", json={"question": "伙伴中心支持SAML单点登录吗"}, headers=AUTH).json()
    assert explained["unnamed"] == ["saml"] and explained["unstated"] == []
    assert not explained["answered"] and explained["confidence"] == 0.0


def test_analytics_count_questions_answers_and_thumbs(console: TestClient) -> None:
    for question in [PO_QUESTION, PO_QUESTION, OFF_TOPIC, COOKING]:
        console.post("/api/ask", json={"question": question})
    passage_id = console.post("/api/ask", json={"question": PO_QUESTION}).json()["citations"][0]["passage_id"]
    for helpful in (True, True, False):
        console.post("/api/feedback", json={"passage_id": passage_id, "question": PO_QUESTION, "helpful": helpful})
    data = console.get("/admin/analytics", headers=AUTH).json()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert (data["asked"], data["answered"], data["refused"]) == (5, 3, 2)
    assert data["answered_share"] == pytest.approx(0.6)
    assert data["per_day"] == [{"day": today, "asked": 5, "answered": 3, "refused": 2}]
    assert data["top_questions"][0] == {"question": PO_QUESTION, "count": 3, "answered": 3}
    assert data["thumbs"] == {"up": 2, "down": 1, "up_share": pytest.approx(2 / 3)}
    assert data["top_refused_clusters"] == [{"question": OFF_TOPIC, "count": 1, "variants": 1},  # ties: by text
                                            {"question": COOKING, "count": 1, "variants": 1}]


def test_a_broken_queue_never_fails_an_answer(make_client: ClientFactory, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    client = make_client(queue_db=blocker / "queue.sqlite3")
    response = client.post("/api/ask", json={"question": OFF_TOPIC})
    assert response.status_code == 200 and response.json()["answered"] is False


@pytest.mark.slow
def test_console_rebuild_publishes_the_alternates(make_client: ClientFactory, corpus_index: Path, tmp_path: Path,
                                                  retriever: Retriever) -> None:
    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    client = make_client(admin_token=ADMIN_TOKEN, index_dir=index, corpus_dir=CORPUS)
    old = current_build(index)
    target = next(p for p in retriever.index.passages if p.title == PO_TITLE)
    added = client.post("/admin/alternates", json={"entry": target.id, "questions": ["商机审核到底要花几天"]},
                        headers=AUTH)
    assert added.status_code == 201
    started = client.post("/admin/rebuild", headers=AUTH, json={})
    assert started.status_code == 202 and started.json()["state"] == "running"
    assert client.post("/admin/rebuild", headers=AUTH, json={}).status_code == 409  # one at a time
    deadline = time.monotonic() + 300
    while (status := client.get("/admin/rebuild", headers=AUTH).json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status["state"] == "succeeded" and status["returncode"] == 0, status
    assert "1 embedded" in " ".join(status["output"].split())  # only the new question
    build = LoadedBuild.open(index)
    assert build.build_id != old.name
    assert build.passage(target.id).alternates == ("商机审核到底要花几天",)
    assert json.loads((build.path / "manifest.json").read_text("utf-8"))["passage_count"] == 20


def test_appending_keeps_hand_edited_lines(tmp_path: Path) -> None:
    from service.curation_files import add_alternates

    (tmp_path / "alternates.jsonl").write_text('{"entry": "a1", "question": "手写的问法"}', "utf-8")  # no final newline
    assert add_alternates(tmp_path, "a1", ["手写的问法", "新问法"]) == ["新问法"]
    assert add_alternates(tmp_path, "a2", ["再一个"]) == ["再一个"]
    assert [(a.entry, a.question, a.line) for a in load_curation(tmp_path).alternates] == [
        ("a1", "手写的问法", 1), ("a1", "新问法", 2), ("a2", "再一个", 3)]
