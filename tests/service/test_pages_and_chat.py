"""What issue 13 added to the API and pages: reply language, follow-up reading, hand-off, feedback reasons,
suggested questions, quieter keyword search, the passage page and the landing page."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.passage import Passage
from retrieval.results import AskResult, Citation, Suggestion
from tests.service.conftest import OFF_TOPIC, PO_QUESTION, PO_TITLE, PO_TOPIC, ClientFactory

ENGLISH = Passage.create(title="How do I reset my password?", answer="Use the login page.", topic="Account",
                         source="faq.jsonl", kind="faq")


def _stub(result: AskResult, calls: list[dict[str, Any]]) -> SimpleNamespace:
    """A retriever that records how it was asked and answers `result`."""

    def ask(question: str, history: Any = None, lang: str | None = None) -> AskResult:
        calls.append({"question": question, "history": history, "lang": lang})
        return result

    passages = {ENGLISH.id: ENGLISH}
    index = SimpleNamespace(passage=passages.get, manifest=SimpleNamespace(build_id="b1"))
    return SimpleNamespace(ask=ask, index=index)


def _answered(used_history: bool, read_as: str | None) -> AskResult:
    return AskResult(True, "Use the login page.", [Citation(ENGLISH.id, ENGLISH.title, "Account", None, 0.9)], 0.9,
                     [Suggestion("x", "other")], used_history=used_history, read_as=read_as)


# ---- /api/ask: language, follow-up reading, hand-off ------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en", None])
def test_the_widget_language_reaches_the_retriever(make_app: Any, lang: str | None) -> None:
    calls: list[dict[str, Any]] = []
    app = make_app()
    app.state.services.retrievers.swap(_stub(_answered(False, None), calls))
    payload = {"question": "reset password", **({"lang": lang} if lang else {})}
    body = TestClient(app).post("/api/ask", json=payload).json()
    assert calls == [{"question": "reset password", "history": None, "lang": lang}]
    assert body["citations"][0]["lang"] == "en"


def test_an_unknown_language_is_a_422(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": PO_QUESTION, "lang": "fr"})
    assert response.status_code == 422 and "lang" in response.json()["detail"]


def test_the_chinese_widget_gets_a_chinese_refusal_for_an_english_question(client: TestClient) -> None:
    english = "What is the capital of Australia?"
    assert client.post("/api/ask", json={"question": english}).json()["answer"].startswith("Sorry")
    body = client.post("/api/ask", json={"question": english, "lang": "zh"}).json()
    assert body["answered"] is False and body["answer"].startswith("抱歉")
    body = client.post("/api/ask", json={"question": OFF_TOPIC, "lang": "en"}).json()
    assert body["answer"].startswith("Sorry")


def test_how_a_follow_up_was_read_is_passed_on(make_app: Any) -> None:
    calls: list[dict[str, Any]] = []
    app = make_app()
    app.state.services.retrievers.swap(_stub(_answered(True, "reset password after login"), calls))
    history = [{"question": "login", "answer": "a"}]
    body = TestClient(app).post("/api/ask", json={"question": "and then?", "history": history}).json()
    assert calls[0]["history"] == [("login", "a")]
    assert body["used_history"] is True and body["read_as"] == "reset password after login"


def test_read_as_is_dropped_when_the_history_was_not_used(make_app: Any) -> None:
    app = make_app()
    app.state.services.retrievers.swap(_stub(_answered(False, "stale reading"), []))
    body = TestClient(app).post("/api/ask", json={"question": "q"}).json()
    assert body["used_history"] is False and body["read_as"] is None


def test_refusals_carry_the_hand_off_link(make_client: ClientFactory) -> None:
    client = make_client(handoff_url="https://support.example.com/contact")
    refused = client.post("/api/ask", json={"question": OFF_TOPIC}).json()
    assert refused["answered"] is False and refused["handoff_url"] == "https://support.example.com/contact"
    answered = client.post("/api/ask", json={"question": PO_QUESTION}).json()
    assert answered["answered"] is True and answered["handoff_url"] is None


def test_a_hand_off_link_must_be_a_web_address(make_settings: Any) -> None:
    with pytest.raises(ValueError, match="handoff_url"):
        make_settings(handoff_url="javascript:alert(1)")


# ---- feedback reasons ----------------------------------------------------------------------------


def _po_passage_id(client: TestClient) -> str:
    return client.post("/api/ask", json={"question": PO_QUESTION}).json()["citations"][0]["passage_id"]


def test_thumbs_down_stores_its_reason(make_client: ClientFactory, make_settings: Any) -> None:
    client = make_client()
    passage_id = _po_passage_id(client)
    for reason in ("wrong_answer", "outdated", "not_what_i_asked", None):
        payload = {"passage_id": passage_id, "question": PO_QUESTION, "helpful": False}
        response = client.post("/api/feedback", json={**payload, **({"reason": reason} if reason else {})})
        assert response.status_code == 201
    records = [json.loads(line) for line in make_settings().feedback_log.read_text("utf-8").splitlines()]
    assert [r.get("reason") for r in records] == ["wrong_answer", "outdated", "not_what_i_asked", None]


@pytest.mark.parametrize(("reason", "helpful", "message"), [
    ("because", False, "reason"), (3, False, "reason"), ("outdated", True, "only with helpful: false")])
def test_feedback_reasons_are_checked(client: TestClient, reason: Any, helpful: bool, message: str) -> None:
    payload = {"passage_id": _po_passage_id(client), "question": PO_QUESTION, "helpful": helpful, "reason": reason}
    response = client.post("/api/feedback", json=payload)
    assert response.status_code == 422 and message in response.json()["detail"]


# ---- suggested questions -------------------------------------------------------------------------


def test_without_feedback_one_question_per_topic(client: TestClient, retriever: Any) -> None:
    body = client.get("/api/suggested-questions", params={"limit": 3}).json()
    assert body["source"] == "topics"
    questions = body["questions"]
    assert len(questions) == 3
    assert questions[0] == {"question": next(
        p.title for p in retriever.index.passages if p.topic == PO_TOPIC and p.title == questions[0]["question"]),
        "topic": PO_TOPIC}, "the biggest topic comes first"
    assert len({q["topic"] for q in questions}) == 3
    titles = {p.title for p in retriever.index.passages}
    assert all(q["question"] in titles for q in questions)


def test_the_most_often_helpful_questions_come_first(client: TestClient) -> None:
    passage_id = _po_passage_id(client)
    votes = [("PO多久验证完", True)] * 3 + [("PO验证时效", True)] * 2 + [("没用的问题", False)] * 5

    for question, helpful in votes:
        assert client.post("/api/feedback", json={"passage_id": passage_id, "question": question,
                                                  "helpful": helpful}).status_code == 201
    body = client.get("/api/suggested-questions").json()
    assert body == {"source": "feedback", "questions": [
        {"question": "PO多久验证完", "topic": PO_TOPIC}, {"question": "PO验证时效", "topic": PO_TOPIC}]}


def test_suggested_questions_limit_is_checked(client: TestClient) -> None:
    assert client.get("/api/suggested-questions", params={"limit": 0}).status_code == 422
    assert client.get("/api/suggested-questions", params={"limit": 11}).status_code == 422
    assert client.get("/api/suggested-questions", params={"lang": "de"}).status_code == 422


# ---- keyword search noise ------------------------------------------------------------------------


def test_a_single_shared_character_is_no_match(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "zzzqqq不存在的词"}).json() == {"total": 0, "results": []}
    # One- and two-term queries keep matching any of their terms.
    assert client.get("/api/search", params={"q": "PSM"}).json()["total"] >= 2
    either = client.get("/api/search", params={"q": "PSM 发票"}).json()
    assert {"PSM", "发票"} <= {term for hit in either["results"] for term in ("PSM", "发票") if term in hit["snippet"]}


# ---- pages ---------------------------------------------------------------------------------------


def _page_of(client: TestClient, retriever: Any, title: str) -> str:
    passage = next(p for p in retriever.index.passages if p.title == title)
    page = client.get(f"/passages/{passage.id}")
    assert page.status_code == 200
    return page.text


def test_passage_page_has_breadcrumb_related_entries_and_ways_on(client: TestClient, retriever: Any) -> None:
    html = _page_of(client, retriever, PO_TITLE)
    assert '<nav class="crumbs" aria-label="位置 · Breadcrumb">' in html
    topic = "%E5%85%B1%E4%BA%AB%E7%BB%99%E5%8D%8E%E4%B8%BA%28PO%29"
    assert f'<a href="/search?q={topic}&amp;topic={topic}"' in html
    assert f'<li aria-current="page">{PO_TITLE}</li>' in html
    assert "相关条目 · Related entries" in html
    same_topic = [p for p in retriever.index.passages if p.topic == PO_TOPIC and p.title != PO_TITLE]
    assert sum(f'href="/passages/{p.id}"' in html for p in same_topic) >= 3
    assert "搜索相关内容 · Search for more" in html and 'href="/search?q=' in html
    assert f'data-faq-ask="{PO_TITLE}"' in html and 'href="/?ask=' in html
    assert f'href="/passages/{next(p.id for p in retriever.index.passages if p.title == PO_TITLE)}"' not in html


def test_scenario_page_lists_its_api_documentation(client: TestClient, retriever: Any) -> None:
    html = _page_of(client, retriever, "管理客户")
    assert "接口文档 · API reference" in html
    assert 'href="http://support.huaweicloud.com/api-bpconsole/mc_00021"' in html
    assert "开放接口场景" in html


def test_a_web_source_links_to_the_original_page(make_app: Any) -> None:
    passage = Passage.create(title="t", answer="a", topic="", source="https://help.example.com/faq/1", kind="faq")
    app = make_app()
    app.state.services.retrievers.swap(SimpleNamespace(
        index=SimpleNamespace(passage=lambda _id: passage, passages=[passage]),
        search=lambda *_a, **_k: SimpleNamespace(results=[])))
    html = TestClient(app).get(f"/passages/{passage.id}").text
    assert '<a href="https://help.example.com/faq/1" rel="noopener noreferrer">在帮助中心查看原文' in html


def test_landing_page_shows_the_product(client: TestClient) -> None:
    html = client.get("/").text
    assert '<script src="/widget.js" data-lang="zh"' in html
    assert '<form class="search" role="search" action="/search" method="get">' in html
    assert html.count('class="ask"') == 4, "four example questions"
    assert "FAQWidget.open" in html


def test_widget_bundle_defines_only_its_api(client: TestClient) -> None:
    script = client.get("/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    text = script.text
    assert text.startswith("(function () {") and text.rstrip().endswith("})();")
    assert "FAQMarkdown" in text and "window.FAQWidget" in text and ".innerHTML" not in text
