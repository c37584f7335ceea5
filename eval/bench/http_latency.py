"""Sequential HTTP latency: the first request after `/readyz`, then keep-alive requests next to raw embeddings."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    search: Latency
    healthz: Latency
    paired_ask_minus_embed_ms: float
    errors: int
    rss_after_requests: ProcessMemory


def bench_http(server: RunningServer, embedder: Embedder, questions: Sequence[str], n: int) -> HttpLatency:
    """Cold first /api/ask, then sequential keep-alive requests in blocks, next to raw embeddings.

    Raw embeddings (in this process), /api/ask, /api/search and /healthz run in blocks of
    `HTTP_BLOCK`, the order of kinds mirrored from block to block, so that load drifts hit all
    kinds alike. Blocks rather than alternating single calls: two processes taking turns with
    two copies of the model evict each other's weights from the CPU caches at every switch,
    which no real deployment does. The first call of each block is not timed for the same reason.
    """
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
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
            "search": lambda q: client.get("/api/search", params={"q": q}),
            "healthz": lambda _q: client.get("/healthz"),
        }
        times: dict[str, list[float]] = {kind: [] for kind in calls}
        block_medians: dict[str, list[float]] = {kind: [] for kind in calls}
        errors = 0
        size = min(HTTP_BLOCK, n)
        for block in range(max(1, n // size)):
            kinds = list(calls) if block % 2 == 0 else list(calls)[::-1]
            for kind in kinds:
                batch = cycle(questions, size + 1, skip=2 + block * size)
                calls[kind](batch[0])
                block_times = []
                for q in batch[1:]:
                    ms, result = timed(lambda q=q, call=calls[kind]: call(q))
                    errors += isinstance(result, httpx.Response) and result.status_code != 200
                    block_times.append(ms)
                times[kind] += block_times
                block_medians[kind].append(statistics.median(block_times))
        return HttpLatency(
            startup_s=round(server.startup_s, 3), rss_after_start=rss_after_start,
            cold_ask_ms=round(cold_ask, 3), cold_search_ms=round(cold_search, 3),
            embed=summarize(times["embed"]), ask=summarize(times["ask"]), search=summarize(times["search"]),
            healthz=summarize(times["healthz"]),
            paired_ask_minus_embed_ms=paired(block_medians["ask"], block_medians["embed"]),
            errors=int(errors), rss_after_requests=server.memory(),
        )
