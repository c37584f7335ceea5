"""Prometheus metrics: per-route request counts and latencies, answered/abstained questions.

Without a metrics folder every app gets its own registry (so several apps in one process, as in
tests, never collide). With one, prometheus_client's multiprocess mode is switched on: each
worker process writes its values to files in that folder and `/metrics` sums all of them, so
several uvicorn workers report together and counts survive restarts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"
_multiprocess_dir: Path | None = None


class Metrics:
    """The service's metrics and their exposition."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, metrics_dir: Path | None = None) -> None:
        self.metrics_dir = metrics_dir
        if metrics_dir is not None:
            _enable_multiprocess(metrics_dir)
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "faq_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "faq_http_request_duration_seconds", "HTTP request latency by route template and method.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.answers = Counter(
            "faq_answers", "Questions answered or abstained on.", ["outcome"], registry=self.registry,
        )
        self.answer_cache = Counter(
            "faq_answer_cache", "Answer cache lookups by result (hit or miss).", ["result"], registry=self.registry,
        )
        self.feedback = Counter(
            "faq_feedback", "Feedback received, by helpfulness.", ["helpful"], registry=self.registry,
        )
        self.reloads = Counter(
            "faq_index_reloads", "Index reloads by result.", ["result"], registry=self.registry,
        )
        # In multiprocess mode each live worker reports its own value (a `pid` label is added), so
        # one scrape shows which build every worker serves.
        self.build = Gauge(
            "faq_index_build", "1 for the index build this worker serves, 0 for builds it served before.",
            ["build_id"], registry=self.registry, multiprocess_mode="liveall",
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_answer(self, answered: bool) -> None:
        """Count one question as answered or abstained."""
        self.answers.labels("answered" if answered else "abstained").inc()

    def observe_cache_lookup(self, hit: bool) -> None:
        """Count one answer cache lookup."""
        self.answer_cache.labels("hit" if hit else "miss").inc()

    def observe_build(self, build_id: str, previous_build_id: str | None) -> None:
        """Record that this process now serves `build_id` instead of `previous_build_id`."""
        if previous_build_id is not None and previous_build_id != build_id:
            self.build.labels(previous_build_id).set(0)
        self.build.labels(build_id).set(1)

    def process_exiting(self) -> None:
        """Drop this process's live-only values (the serving build) from the multiprocess folder."""
        if self.metrics_dir is not None:
            mark_process_dead(os.getpid(), str(self.metrics_dir))

    def render(self) -> bytes:
        """The Prometheus text exposition (summed over all worker processes in multiprocess mode)."""
        if self.metrics_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.metrics_dir))
        return generate_latest(registry)


def _enable_multiprocess(metrics_dir: Path) -> None:
    """Make metric values live in per-process files under `metrics_dir` (process-wide, once)."""
    global _multiprocess_dir
    if _multiprocess_dir is not None:
        if _multiprocess_dir != metrics_dir:
            raise ValueError(f"multiprocess metrics already write to {_multiprocess_dir}, not {metrics_dir}")
        return
    metrics_dir.mkdir(parents=True, exist_ok=True)
    # prometheus_client reads the folder from this variable when it creates value files.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    values.ValueClass = values.MultiProcessValue()
    _multiprocess_dir = metrics_dir


def server_timing(name: str, seconds: float) -> str:
    """One `Server-Timing` entry: `name;dur=<milliseconds>`."""
    return f"{name};dur={seconds * 1000:.3f}"


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request, labelled by route template (never the raw path).

    Each response also says how long the app took to start it, in a `Server-Timing: app;dur=<ms>` header (the
    handler's own entries, e.g. `/api/ask`'s retrieval, come beside it): what a browser's network panel and
    `faq bench` read to tell the server's time from the network's.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, mounts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                timing = server_timing("app", time.perf_counter() - start).encode("ascii")
                message = {**message, "headers": [*message.get("headers", ()), (b"server-timing", timing)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.observe_request(self.route_label(scope), scope["method"], status,
                                         time.perf_counter() - start)

    def route_label(self, scope: Scope) -> str:
        """The matched route's template (e.g. `/api/passages/{passage_id}`), a mount's prefix, or `unmatched`."""
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str) and path:
            return path
        # Mounted apps (static files) leave no route in the scope: label them by their prefix.
        request_path = scope.get("path", "")
        for mount in self.mounts:
            if request_path.startswith(mount + "/"):
                return mount + "/{path}"
        return UNMATCHED_ROUTE
