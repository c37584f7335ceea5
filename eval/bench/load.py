"""Load: concurrent keep-alive clients on loopback for a bounded time, per endpoint."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx

from eval.bench.machine import ProcessMemory
from eval.bench.server import RunningServer
from eval.bench.stats import summarize

T = TypeVar("T")
Endpoint = Literal["ask", "search"]


@dataclass(frozen=True, slots=True)
class EndpointLoad:
    """Throughput and latency of one endpoint under `clients` concurrent clients."""

    clients: int
    seconds: float
    requests: int
    rps: float
    p50: float
    p95: float
    p99: float
    mean: float
    errors: int
    error_samples: list[str]
    client_cpu_s: float  # CPU the load generator itself used (it shares the machine)


@dataclass(frozen=True, slots=True)
class ServerLoad:
    """A server with `workers` workers under load: start-up, memory, each endpoint."""

    workers: int
    startup_s: float
    rss_after_start: ProcessMemory
    ask: EndpointLoad
    search: EndpointLoad
    rss_after_load: ProcessMemory


def run_in_fresh_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a worker thread: works even when this thread already runs a loop
    (as after Playwright's sync API in the same test session)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def load_endpoint(base_url: str, endpoint: Endpoint, questions: Sequence[str], clients: int,
                        seconds: float) -> EndpointLoad:
    """`clients` clients asking in turn for `seconds` (after one unrecorded request each)."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:

        async def one(q: str) -> None:
            started = time.perf_counter()
            try:
                if endpoint == "ask":
                    response = await client.post("/api/ask", json={"question": q})
                else:
                    response = await client.get("/api/search", params={"q": q})
            except httpx.HTTPError as err:
                errors.append(f"{type(err).__name__}: {err}")
                return
            if response.status_code != 200:
                errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            latencies.append((time.perf_counter() - started) * 1000)

        async def worker(k: int, deadline: float) -> None:
            i = k
            while time.perf_counter() < deadline:
                await one(questions[i % len(questions)])
                i += clients

        # One unrecorded request per client opens the connections.
        await asyncio.gather(*(one(questions[k % len(questions)]) for k in range(clients)))
        latencies.clear()
        cpu = os.times()
        started = time.perf_counter()
        await asyncio.gather(*(worker(k, started + seconds) for k in range(clients)))
        elapsed = time.perf_counter() - started
        client_cpu = (os.times().user - cpu.user) + (os.times().system - cpu.system)
    latency = summarize(latencies)
    return EndpointLoad(
        clients=clients, seconds=round(elapsed, 2), requests=len(latencies), rps=round(len(latencies) / elapsed, 2),
        p50=latency.p50, p95=latency.p95, p99=latency.p99, mean=latency.mean,
        errors=len(errors), error_samples=errors[:5], client_cpu_s=round(client_cpu, 2),
    )


def bench_load(server: RunningServer, questions: Sequence[str], clients: int, seconds: float) -> ServerLoad:
    """/api/ask, then /api/search, under concurrent clients on loopback, with the server's memory around it."""
    if not server.url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever generated against 127.0.0.1")
    rss_after_start = server.memory()
    ask = run_in_fresh_loop(load_endpoint(server.url, "ask", questions, clients, seconds))
    search = run_in_fresh_loop(load_endpoint(server.url, "search", questions, clients, seconds))
    return ServerLoad(server.workers, round(server.startup_s, 3), rss_after_start, ask, search, server.memory())
