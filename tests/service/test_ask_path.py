"""How /api/ask reaches the retriever: exactly what `Retriever.ask` decides, rate-limited before the retriever is
read, with no request parameter besides the body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from retrieval.retriever import Retriever
from service.app import create_app
from tests.service.conftest import SettingsFactory

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions"


def _cases() -> list[dict[str, Any]]:
    dev = [json.loads(line) for line in (QUESTIONS / "dev.jsonl").read_text("utf-8").splitlines() if line.strip()]
    chats = [json.loads(line) for line in (QUESTIONS / "conversations.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
    return dev[::12] + chats[::4]


def test_the_answer_is_what_the_retriever_decides(make_settings: SettingsFactory, retriever: Retriever) -> None:
    app = create_app(make_settings(answer_cache_size=0))
    app.state.services.retrievers.swap(retriever)
    client = TestClient(app)  # not entered: no lifespan, the retriever is injected
    for case in _cases():
        history = [{"question": turn["question"], "answer": turn.get("answer", "")} for turn in case.get("history", [])]
        body = client.post("/api/ask", json={"question": case["question"], "history": history}).json()
        expected = retriever.ask(case["question"], history=[(t["question"], t["answer"]) for t in history] or None)
        assert body["answered"] is expected.answered, case["question"]
        assert body["confidence"] == round(expected.confidence, 4)
        assert [c["passage_id"] for c in body["citations"]] == [c.passage_id for c in expected.citations]
        assert [c["score"] for c in body["citations"]] == [c.score for c in expected.citations]
        assert [s["passage_id"] for s in body["suggestions"]] == [s.passage_id for s in expected.suggestions]
        assert body["answer"] == expected.answer
        assert body["used_history"] is expected.used_history
        assert body["read_as"] == (expected.read_as if expected.used_history else None)


def test_the_rate_limit_comes_before_the_retriever(make_settings: SettingsFactory) -> None:
    client = TestClient(create_app(make_settings(rate_limit_per_minute=1)), raise_server_exceptions=False)
    assert client.post("/api/ask", json={"question": "PO"}).status_code == 503  # counted, then no index yet
    limited = client.post("/api/ask", json={"question": "PO"})
    assert limited.status_code == 429 and limited.headers["Retry-After"]


def test_ask_takes_no_parameter_besides_its_body(make_settings: SettingsFactory) -> None:
    operation = create_app(make_settings()).openapi()["paths"]["/api/ask"]["post"]
    assert "parameters" not in operation
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AskIn"}
