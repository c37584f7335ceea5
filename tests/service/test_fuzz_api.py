"""Schema-based fuzzing of the JSON API, and hostile text that must stay plain text.

Schemathesis generates requests from the app's own OpenAPI document (valid ones, and for the
operations that take input, invalid ones too) and checks every response: never a 5xx, status
codes, content types, headers and bodies as documented, valid data accepted, invalid data
refused. The app serves the shipped corpus's index with small limits, so the 413/422 paths are
reached. (Schemathesis's pytest plugin does not run under pytest 9, hence the explicit loop.)
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.service.conftest import ADMIN_TOKEN, PO_QUESTION

MAX_EXAMPLES = int(os.environ.get("FAQ_FUZZ_EXAMPLES", "25"))  # per operation and mode; raise for a deeper run
LIMITS = {"max_question_chars": 60, "max_history_turns": 3, "search_page_max": 5, "max_body_bytes": 4096}
# Every operation of the OpenAPI document (test_every_operation_is_fuzzed keeps this list complete).
OPERATIONS = [
    ("POST", "/api/ask"), ("GET", "/api/search"), ("GET", "/api/topics"), ("GET", "/api/passages/{passage_id}"),
    ("POST", "/api/feedback"), ("GET", "/api/suggested-questions"), ("GET", "/healthz"), ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/admin/reload"), ("GET", "/admin/queue"), ("POST", "/admin/alternates"), ("POST", "/admin/entries"),
    ("POST", "/admin/rebuild"), ("GET", "/admin/rebuild"), ("POST", "/admin/explain"), ("GET", "/admin/feedback"),
    ("GET", "/admin/analytics"),
]
# Operations with inputs that can be made invalid (a free-form string path or header cannot).
WITH_INVALID_INPUT = {"/api/ask", "/api/search", "/api/feedback", "/api/suggested-questions"}
CHECKS = SchemathesisConfig.from_dict({"checks": {
    # 413 is the documented answer to a body over FAQ_MAX_BODY_BYTES, which no schema can express
    # (long history answers); and to strings over the documented maxLength.
    "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "413", "429"]},
    "negative_data_rejection": {"expected-statuses": ["400", "404", "413", "422"]},
}})


@pytest.fixture
def fuzz_app(make_app: Any) -> FastAPI:
    """The shipped corpus's index, small limits, an admin token the fuzzer cannot guess."""
    return make_app(admin_token=ADMIN_TOKEN, index_check_seconds=0, **LIMITS)


@pytest.fixture
def api_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=CHECKS)


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    documented = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [pytest.param(m, p, GenerationMode.POSITIVE, id=f"{m} {p} valid") for m, p in OPERATIONS]
    + [pytest.param(m, p, GenerationMode.NEGATIVE, id=f"{m} {p} invalid") for m, p in OPERATIONS
       if p in WITH_INVALID_INPUT],
)
def test_generated_requests_get_documented_responses(api_schema: Any, method: str, path: str,
                                                     mode: GenerationMode) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call_and_validate()  # all checks: no 5xx, schema conformance, accepted / refused
        statuses.append(response.status_code)

    run()
    assert statuses and all(status < 500 for status in statuses)


def test_the_document_states_this_instances_limits(api_schema: Any, fuzz_app: FastAPI) -> None:
    document = TestClient(fuzz_app).get("/openapi.json").json()
    components = document["components"]["schemas"]
    assert components["AskIn"]["properties"]["question"]["maxLength"] == LIMITS["max_question_chars"]
    assert components["AskIn"]["properties"]["history"]["maxItems"] == LIMITS["max_history_turns"]
    assert components["Turn"]["properties"]["question"]["maxLength"] == LIMITS["max_question_chars"]
    assert components["FeedbackIn"]["properties"]["question"]["minLength"] == 1
    search = {p["name"]: p["schema"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert search["limit"]["maximum"] == LIMITS["search_page_max"]
    assert search["q"]["maxLength"] == LIMITS["max_question_chars"]
    headers = document["paths"]["/api/ask"]["post"]["responses"]["200"]["headers"]
    assert "X-Index-Build" in headers


def test_body_that_is_not_utf8_is_a_clear_422(client: TestClient) -> None:
    for path in ("/api/ask", "/api/feedback"):
        response = client.post(path, content=b'{"question": "\xff\xfe PO"}',
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 422, path
        assert response.json() == {"detail": "request body is not valid JSON (it is not UTF-8 text)"}


# ---- text is never markup, never a filter expression --------------------------------------------

MARKUP = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>',
          "<mark>PSM</mark>", "</mark><script>x</script> PSM", "javascript:alert(1) PSM"]
_TAG = re.compile(r"<[^>]*>")


@pytest.mark.parametrize("text", MARKUP)
def test_question_text_is_never_markup(client: TestClient, text: str) -> None:
    ask = client.post("/api/ask", json={"question": text})
    assert ask.status_code == 200 and ask.headers["content-type"] == "application/json"
    search = client.get("/api/search", params={"q": text})
    assert search.status_code == 200 and search.headers["content-type"] == "application/json"
    for hit in search.json()["results"]:
        assert set(_TAG.findall(hit["snippet"])) <= {"<mark>", "</mark>"}  # only the highlight is markup
    # Echoed in JSON only (escaping is the JSON encoder's job); the HTML pages never echo it raw.
    passage_id = quote(text.replace("/", ""), safe="")  # an encoded / would be a path separator
    missing = client.get(f"/api/passages/{passage_id}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    page = client.get(f"/passages/{passage_id}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert text.replace("/", "") not in page.text and "<script" not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


FILTER_EXPRESSIONS = ['{"$ne": 1}', '{"$gt": ""}', "' OR 1=1 --", "' OR '1'='1", '" OR ""="', "*", "%", ".*",
                      "$where", "1=1", "true", "null"]


@pytest.mark.parametrize("expression", FILTER_EXPRESSIONS)
def test_filter_expressions_match_nothing(client: TestClient, expression: str) -> None:
    everything = client.get("/api/search", params={"q": "PO", "limit": 50}).json()["total"]
    assert everything > 0
    as_topic = client.get("/api/search", params={"q": "PO", "topic": expression, "limit": 50})
    assert as_topic.status_code == 200
    assert as_topic.json() == {"total": 0, "results": []}  # a topic is compared exactly, never evaluated
    as_query = client.get("/api/search", params={"q": expression, "limit": 50})
    assert as_query.status_code == 200 and as_query.json()["total"] == 0
    # Appended to a real query it adds nothing either.
    widened = client.get("/api/search", params={"q": "PO", "topic": f"共享给华为(PO){expression}"}).json()
    assert widened["total"] == 0
    ask = client.post("/api/ask", json={"question": expression})
    assert ask.status_code == 200 and ask.json()["answered"] is False


def test_filter_expression_as_json_types_is_refused(client: TestClient) -> None:
    # Operators smuggled as JSON objects or arrays never reach retrieval: the schema wants strings.
    for payload in ({"question": {"$ne": 1}}, {"question": [PO_QUESTION]}, {"question": PO_QUESTION,
                                                                            "history": {"$gt": ""}}):
        assert client.post("/api/ask", json=payload).status_code == 422
    assert client.get("/api/search", params=[("q", "PO"), ("topic[$ne]", "1")]).json()["total"] > 0  # ignored
    assert client.get("/api/search", params=[("q", "PO"), ("limit", '{"$gt": 0}')]).status_code == 422
