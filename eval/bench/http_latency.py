"""Sequential HTTP latency: the first request after `/readyz`, then keep-alive requests next to raw embeddings.

Each `/api/ask` response says in its `Server-Timing` header how long the app took (`app`) and, within it, the
retrieval (`retrieval`): the round trip splits into the network and uvicorn, the web framework, and retrieval.
Every client pays its own cost in the round trip. httpx, which times every kind, spends about half a millisecond of
Python on a request. So `/api/ask` is timed a second time, in the same blocks, through the standard library's
`http.client` on a keep-alive connection. The difference between the two is the client's cost, not the service's.
"""

from __future__ import annotations

import http.client
import json
import math
import statistics
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from eval.bench.machine import ProcessMemory
from eval.bench.server import RunningServer
from eval.bench.stats import Latency, cycle, paired, summarize, timed
from index.embedders import Embedder

HTTP_BLOCK = 20  # requests of one kind in a row


@dataclass(frozen=True, slots=True)
class HttpLatency:
    """One worker over HTTP: start-up, cold first requests, warm latencies per kind, memory before and after."""

    startup_s: float
    rss_after_start: ProcessMemory
    cold_ask_ms: float
    cold_search_ms: float
    embed: Latency  # raw query embedding in the benchmark's process, in the same blocks
    ask: Latency
    ask_lean: Latency  # the same requests through `http.client` (see the module's docstring)
    search: Latency
    healthz: Latency
    paired_ask_minus_embed_ms: float
    paired_lean_ask_minus_embed_ms: float
    ask_split: AskSplit
    errors: int
    rss_after_requests: ProcessMemory


@dataclass(frozen=True, slots=True)
class AskSplit:
    """Where an `/api/ask` round trip goes, from the responses' `Server-Timing` (medians of per-request values)."""

    app: Latency  # the app's time, first byte of the request to the start of the response
    retrieval: Latency  # `Retriever.ask` in the worker thread
    transport_ms: float  # round trip − app: client, loopback network, uvicorn's HTTP parsing
    framework_ms: float  # app − retrieval: middleware, validation, dependencies, thread hop, JSON
    paired_retrieval_minus_embed_ms: float  # per-block medians of retrieval minus those of the raw embedding


def server_timings(response: httpx.Response) -> dict[str, float]:
    """The response's `Server-Timing` durations (ms) by name; entries without a duration are left out."""
    timings = {}
    for header in response.headers.get_list("server-timing"):
        for entry in header.split(","):
            name, *params = (part.strip() for part in entry.split(";"))
            for param in params:
                if param.startswith("dur="):
                    timings[name] = float(param.removeprefix("dur="))
    return timings


class LeanClient:
    """A keep-alive JSON POST through the standard library, for the round trip with the least client work."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def post_json(self, path: str, payload: object) -> int:
        """POST `payload` as JSON and read the whole response; its status code."""
        self._connection.request("POST", path, body=json.dumps(payload).encode(),
                                 headers={"content-type": "application/json"})
        response = self._connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


def bench_http(server: RunningServer, embedder: Embedder, questions: Sequence[str], n: int) -> HttpLatency:
    """Cold first /api/ask, then sequential keep-alive requests in blocks, next to raw embeddings.

    Raw embeddings (in this process), /api/ask, /api/search and /healthz run in blocks of
    `HTTP_BLOCK`, the order of kinds mirrored from block to block, so that load drifts hit all
    kinds alike. Blocks rather than alternating single calls: two processes taking turns with
    two copies of the model evict each other's weights from the CPU caches at every switch,
    which no real deployment does. The first call of each block is not timed for the same reason.
    """
    with httpx.Client(base_url=server.url, timeout=60.0) as client, closing(LeanClient(server.url, 60.0)) as lean:
        client.get("/readyz").raise_for_status()
        rss_after_start = server.memory()
        first_q, second_q = questions[0], questions[1 % len(questions)]
        cold_ask, response = timed(lambda: client.post("/api/ask", json={"question": first_q}))
        response.raise_for_status()
        cold_search, response = timed(lambda: client.get("/api/search", params={"q": second_q}))
        response.raise_for_status()
        calls: dict[str, Callable[[str], object]] = {
            "embed": lambda q: embedder.embed_queries([q]),
            "ask": lambda q: client.post("/api/ask", json={"question": q}),
            "ask_lean": lambda q: lean.post_json("/api/ask", {"question": q}),
            "search": lambda q: client.get("/api/search", params={"q": q}),
            "healthz": lambda _q: client.get("/healthz"),
        }
        times: dict[str, list[float]] = {kind: [] for kind in calls}
        block_medians: dict[str, list[float]] = {kind: [] for kind in calls}
        split: dict[str, list[float]] = {"app": [], "retrieval": [], "transport": [], "framework": []}
        retrieval_medians: list[float] = []
        errors = 0
        size = min(HTTP_BLOCK, n)
        for block in range(max(1, n // size)):
            kinds = list(calls) if block % 2 == 0 else list(calls)[::-1]
            for kind in kinds:
                batch = cycle(questions, size + 1, skip=2 + block * size)
                calls[kind](batch[0])
                block_times, block_retrieval = [], []
                for q in batch[1:]:
                    ms, result = timed(lambda q=q, call=calls[kind]: call(q))
                    status = result.status_code if isinstance(result, httpx.Response) else result
                    errors += isinstance(status, int) and status != 200
                    block_times.append(ms)
                    if kind == "ask" and isinstance(result, httpx.Response):
                        timing = server_timings(result)
                        if "app" in timing and "retrieval" in timing:
                            app, retrieval = timing["app"], timing["retrieval"]
                            split["app"].append(app)
                            split["retrieval"].append(retrieval)
                            split["transport"].append(ms - app)
                            split["framework"].append(app - retrieval)
                            block_retrieval.append(retrieval)
                times[kind] += block_times
                block_medians[kind].append(statistics.median(block_times))
                if block_retrieval:
                    retrieval_medians.append(statistics.median(block_retrieval))
        return HttpLatency(
            startup_s=round(server.startup_s, 3), rss_after_start=rss_after_start,
            cold_ask_ms=round(cold_ask, 3), cold_search_ms=round(cold_search, 3),
            embed=summarize(times["embed"]), ask=summarize(times["ask"]), ask_lean=summarize(times["ask_lean"]),
            search=summarize(times["search"]), healthz=summarize(times["healthz"]),
            paired_ask_minus_embed_ms=paired(block_medians["ask"], block_medians["embed"]),
            paired_lean_ask_minus_embed_ms=paired(block_medians["ask_lean"], block_medians["embed"]),
            ask_split=_ask_split(split, retrieval_medians, block_medians["embed"]),
            errors=int(errors), rss_after_requests=server.memory(),
        )


def _ask_split(split: dict[str, list[float]], retrieval_medians: list[float], embed_medians: list[float]
               ) -> AskSplit:
    """The split of the timed asks; NaN where no response carried both timings (a server without them)."""
    complete = len(retrieval_medians) == len(embed_medians)
    return AskSplit(
        app=summarize(split["app"]), retrieval=summarize(split["retrieval"]),
        transport_ms=summarize(split["transport"]).p50, framework_ms=summarize(split["framework"]).p50,
        paired_retrieval_minus_embed_ms=paired(retrieval_medians, embed_medians) if complete else math.nan,
    )
