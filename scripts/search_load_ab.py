"""Interleaved A/B load on `/api/search`: the same index content served by two source trees, 2 workers each.

    python scripts/search_load_ab.py --before /tmp/before-wt --after . --rounds 4

Each tree gets its own index of `corpus/` (built with that tree's `cli.py ingest` when missing) and its own
server; rounds alternate the order (A B, B A, ...), so drift in the machine's load hits both alike. Prints
req/s per run and the medians. The load clients share the machine with the servers: compare, don't quote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from eval.bench.server import free_port

QUERIES = ["PSM", "SLA", "发票", "MDF", "机会点", "激励", "上市", "审核", "云经销商", "PO"]


def _start(tree: Path, index: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, FAQ_INDEX_DIR=str(index), FAQ_PORT=str(port), FAQ_HOST="127.0.0.1", FAQ_WORKERS="2",
               FAQ_RATE_LIMIT_PER_MINUTE="0")
    if not (index / "CURRENT").exists():
        subprocess.run([sys.executable, "cli.py", "ingest", "corpus"], cwd=tree, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    server = subprocess.Popen([sys.executable, "cli.py", "serve"], cwd=tree, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server of {tree} did not become ready")


async def _load(port: int, seconds: float, clients: int) -> tuple[float, int]:
    """Requests per second answered 200 by `clients` concurrent clients, and the other answers."""
    done, failed = 0, 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        async def worker(start: int) -> None:
            nonlocal done, failed
            n = start
            while time.perf_counter() < stop:
                response = await client.get("/api/search", params={"q": QUERIES[n % len(QUERIES)]})
                n += 1
                done, failed = (done + 1, failed) if response.status_code == 200 else (done, failed + 1)
        await asyncio.gather(*(worker(i) for i in range(clients)))
    return done / seconds, failed


def main() -> None:
    """Start both servers, alternate load rounds, print every run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=Path("."))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--work", type=Path, default=Path("var/search-load-ab"))
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    ports = {name: free_port() for name in trees}
    servers = {name: _start(tree, args.work.resolve() / f"{name}-index", ports[name]) for name, tree in trees.items()}
    runs: dict[str, list[float]] = {name: [] for name in trees}
    try:
        for round_ in range(args.rounds):
            for name in (list(trees) if round_ % 2 == 0 else list(reversed(trees))):
                rate, failed = asyncio.run(_load(ports[name], args.seconds, args.clients))
                runs[name].append(round(rate, 1))
                print(f"round {round_} {name}: {rate:.1f} req/s, {failed} failed, load {os.getloadavg()[0]:.2f}",
                      flush=True)
    finally:
        for server in servers.values():
            server.terminate()
    print(json.dumps({name: {"runs": values, "median": statistics.median(values)} for name, values in runs.items()}))


if __name__ == "__main__":
    main()
