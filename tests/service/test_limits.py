"""Request limits and cross-origin rules: body size (413), per-client rate (429), CORS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.ratelimit import RateLimiter
from tests.service.conftest import PO_QUESTION, ClientFactory

PARTNER = "https://partner.example.com"


# ---- body size ----------------------------------------------------------------------------------


def test_declared_oversize_body_is_refused_before_reading(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    body = b'{"question": "' + b"x" * 4096 + b'"}'
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "request body too large: the limit is 2048 bytes"}


def test_streamed_oversize_body_is_counted_and_refused(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"question": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    for path in ("/api/ask", "/api/feedback"):
        response = client.post(path, content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413, path
        assert "too large" in response.json()["detail"]


def test_body_under_the_limit_is_served(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=2048)
    history = [{"question": "PO", "answer": "a" * 300}] * 5  # ~1.7 kB in all
    assert client.post("/api/ask", json={"question": PO_QUESTION, "history": history}).status_code == 200


# ---- rate limit -----------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(make_client: ClientFactory) -> None:
    client = make_client(rate_limit_per_minute=3, cors_origins=[PARTNER])
    for _ in range(3):
        assert client.get("/api/topics").status_code == 200
    limited = client.get("/api/topics", headers={"Origin": PARTNER})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "too many requests" in limited.json()["detail"]
    # The widget can read the 429 cross-origin.
    assert limited.headers["access-control-allow-origin"] == PARTNER
    # Every API route shares the client's budget.
    assert client.post("/api/ask", json={"question": PO_QUESTION}).status_code == 429
    assert client.get("/api/search", params={"q": "PO"}).status_code == 429
    # Health, readiness, metrics, widget, pages of static files are never limited.
    for path in ("/healthz", "/readyz", "/metrics", "/widget.js", "/search", "/static/search.css", "/"):
        for _ in range(5):
            assert client.get(path).status_code == 200, path


def test_rate_limit_zero_disables_it(make_client: ClientFactory) -> None:
    client = make_client(rate_limit_per_minute=0)
    assert all(client.get("/api/topics").status_code == 200 for _ in range(30))


class FakeClock:
    """A controllable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_and_keeps_clients_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, clock=clock)  # one request per second on average
    assert all(limiter.acquire("a") == 0 for _ in range(60))
    wait = limiter.acquire("a")
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("b") == 0  # another client has its own budget
    clock.now += 1.0
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0
    clock.now += 3600
    assert all(limiter.acquire("a") == 0 for _ in range(60))  # refills to the burst size, not beyond
    assert limiter.acquire("a") > 0


def test_token_bucket_forgets_idle_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.ratelimit.MAX_TRACKED_CLIENTS", 3)
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    for client in ("a", "b", "c"):
        limiter.acquire(client)
    clock.now += 61
    limiter.acquire("d")
    assert set(limiter._buckets) == {"d"}


# ---- CORS ---------------------------------------------------------------------------------------


def _preflight(client: TestClient, origin: str) -> object:
    return client.options("/api/ask", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})


def test_cors_allows_only_configured_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=[PARTNER])
    allowed = _preflight(client, PARTNER)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == PARTNER
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()
    refused = _preflight(client, "https://evil.example.com")
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    actual = client.post("/api/ask", json={"question": PO_QUESTION}, headers={"Origin": PARTNER})
    assert actual.headers["access-control-allow-origin"] == PARTNER
    other = client.post("/api/ask", json={"question": PO_QUESTION}, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-credentials" not in actual.headers


def test_cors_is_closed_by_default(client: TestClient) -> None:
    assert "access-control-allow-origin" not in _preflight(client, PARTNER).headers
    response = client.get("/api/topics", headers={"Origin": PARTNER})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
