"""Security gaps not covered elsewhere: only http(s) citation links, the admin token check, admin brute force.

Elsewhere: hostile text and filter expressions (test_fuzz_api.py), escaped HTML pages
(test_api.py::test_passage_views_escape_everything_and_link_only_http), CORS and rate limits
(test_limits.py), the widget's and search page's own defences (tests/browser).
"""

from __future__ import annotations

import hmac
import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index.embedders import Embedder
from index.pipeline import run_ingest
from retrieval.loading import load_retriever
from retrieval.results import AskResult, Citation, SearchHit, SearchPage, Suggestion
from tests.conftest import CORPUS
from tests.service.conftest import ADMIN_TOKEN, PO_QUESTION, ClientFactory, SettingsFactory

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SAFE_URL = "https://help.example.com/faq/safe"
UNSAFE_SOURCES = [
    "javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example.com/x",
    "https:evil.example.com", "http://", "file:///etc/passwd", "java\tscript:alert(1)",
]
TOPIC = "链接安全测试"


def _own_page(passage_id: str) -> str:
    return f"http://testserver/passages/{passage_id}"


def _assert_link(url: str, passage_id: str, source: str) -> None:
    assert urlsplit(url).scheme in ("http", "https"), url
    assert url == (SAFE_URL if source == SAFE_URL else _own_page(passage_id)), (source, url)


@pytest.fixture(scope="module")
def hostile_index(corpus_index: Path, embedder: Embedder,
                                  tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The corpus plus one FAQ entry per unsafe source address (and one safe one), really indexed."""
    folder = tmp_path_factory.mktemp("hostile-sources")
    root = folder / "index"
    shutil.copytree(corpus_index, root)
    entries = [{"question": f"{TOPIC}{i}号:怎样打开第{i}个链接?", "answer": f"第{i}个链接的答案。", "topic": TOPIC,
                "url": source} for i, source in enumerate([*UNSAFE_SOURCES, SAFE_URL])]
    extra = folder / "hostile.jsonl"
    extra.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries), "utf-8")
    run_ingest([CORPUS, extra], root, embedder)  # corpus vectors are reused
    return root, entries


def test_citations_and_links_are_http_or_the_services_own_page(
        hostile_index: Any, make_settings: SettingsFactory, embedder: Embedder) -> None:
    from service.app import create_app

    root, entries = hostile_index
    settings = make_settings(index_dir=root, index_check_seconds=0)
    app = create_app(settings)
    app.state.services.retrievers.swap(load_retriever(settings, embedder=embedder))
    client = TestClient(app)
    by_title = {p.title: p for p in app.state.services.retrievers.current.index.passages if p.topic == TOPIC}
    sources = {p.id: p.source for p in by_title.values()}
    assert sorted(sources.values()) == sorted(e["url"].strip() or e["url"] for e in entries)

    search = client.get("/api/search", params={"q": TOPIC, "topic": TOPIC, "limit": 50}).json()
    assert search["total"] == len(entries)
    for hit in search["results"]:
        _assert_link(hit["url"], hit["passage_id"], sources[hit["passage_id"]])
    answered = 0
    for entry in entries:
        body = client.post("/api/ask", json={"question": entry["question"]}).json()
        for citation in body["citations"]:
            answered += 1
            _assert_link(citation["url"], citation["passage_id"], sources.get(citation["passage_id"], ""))
    assert answered >= len(entries) // 2  # the exact questions are mostly answered, with citations
    for passage_id, source in sources.items():
        data = client.get(f"/api/passages/{passage_id}").json()
        _assert_link(data["url"], passage_id, source)
    unsafe = [passage_id for passage_id, source in sources.items() if source != SAFE_URL]
    assert len(unsafe) == len(sources) - 1
    for passage_id in unsafe:
        page = client.get(f"/passages/{passage_id}").text
        assert "href" not in page.split("来源")[1]  # the source is shown as text, not a link


def test_route_never_passes_on_a_non_http_url_even_if_the_retriever_did(make_app: Any) -> None:
    """Defence in depth: the retriever already drops such sources; the routes check again."""
    urls = [*UNSAFE_SOURCES, SAFE_URL]
    citations = [Citation(f"p{i}", "t", "", url, 0.9) for i, url in enumerate(urls)]
    hits = [SearchHit(f"p{i}", "t", "", url, "s", 1.0) for i, url in enumerate(urls)]
    manifest = SimpleNamespace(build_id="stub")
    stub = SimpleNamespace(
        ask=lambda question, history=None: AskResult(True, "a", citations, 0.9, [Suggestion("p0", "t")]),
        search=lambda query, topic=None, limit=10, offset=0: SearchPage(len(hits), hits),
        index=SimpleNamespace(manifest=manifest, path=Path("stub")),
    )
    app: FastAPI = make_app(index_check_seconds=0)
    app.state.services.retrievers.swap(stub)
    client = TestClient(app)
    asked = client.post("/api/ask", json={"question": PO_QUESTION}).json()["citations"]
    found = client.get("/api/search", params={"q": "PO", "limit": 50}).json()["results"]
    for results in (asked, found):
        assert [r["url"] for r in results] == [_own_page(f"p{i}") for i in range(len(UNSAFE_SOURCES))] + [SAFE_URL]


# ---- admin token ------------------------------------------------------------------------------


def test_admin_token_is_checked_with_compare_digest(make_client: ClientFactory,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    verdict: list[bool] = []

    def spy(given: bytes, expected: bytes) -> bool:
        calls.append((given, expected))
        return verdict[0] if verdict else hmac_compare(given, expected)

    hmac_compare = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", spy)
    client = make_client(admin_token=ADMIN_TOKEN, index_check_seconds=0)
    client.app.state.services.retrievers.loader = lambda previous: previous  # "reload" the same retriever

    assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert calls[-1] == (b"wrong-token", ADMIN_TOKEN.encode())
    assert client.post("/admin/reload", headers=AUTH).status_code == 200
    assert calls[-1] == (ADMIN_TOKEN.encode(), ADMIN_TOKEN.encode())
    # The decision is compare_digest's alone (no `==` short cut before or after it).
    verdict.append(False)
    assert client.post("/admin/reload", headers=AUTH).status_code == 401
    verdict[0] = True
    assert client.post("/admin/reload", headers={"Authorization": "Bearer guess"}).status_code == 200
    assert len(calls) == 4


def test_admin_token_guessing_is_rate_limited(make_client: ClientFactory) -> None:
    client = make_client(admin_token=ADMIN_TOKEN, rate_limit_per_minute=3, index_check_seconds=0)
    for guess in ("a", "b", "c"):
        assert client.post("/admin/reload", headers={"Authorization": f"Bearer {guess}"}).status_code == 401
    blocked = client.post("/admin/reload", headers=AUTH)  # even the right token waits: no oracle
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


def test_admin_is_never_offered_cross_origin(make_client: ClientFactory) -> None:
    client = make_client(admin_token=ADMIN_TOKEN, cors_origins=["https://partner.example.com"])
    preflight = client.options("/admin/reload", headers={
        "Origin": "https://partner.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 400  # Authorization is not an allowed header: browsers cannot send it
    assert "authorization" not in preflight.headers.get("access-control-allow-headers", "").lower()


def test_widget_can_read_the_build_and_retry_after_headers(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["https://partner.example.com"])
    response = client.post("/api/ask", json={"question": PO_QUESTION}, headers={"Origin": "https://partner.example.com"})
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-index-build", "retry-after"} <= exposed
