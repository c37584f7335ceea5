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

from eval.bench.server import RunningServer, start_server

QUERIES = ["PSM", "SLA", "发票", "MDF", "机会点", "激励", "上市", "审核", "云经销商", "PO"]


def _start(tree: Path, index: Path, log: Path) -> RunningServer:
    """The tree's own index of `corpus/` (built with its `cli.py ingest` when missing) served by the tree's code."""
    if not (index / "CURRENT").exists():
        env = {key: value for key, value in os.environ.items() if not key.startswith("FAQ_")}
        subprocess.run([sys.executable, "cli.py", "ingest", "corpus"], cwd=tree, check=True,
                       env={**env, "FAQ_INDEX_DIR": str(index)}, stdout=subprocess.DEVNULL)
    server = start_server(index, log, workers=2, launcher="uvicorn", env={"PYTHONPATH": str(tree)})
    server.wait_ready()
    return server


async def _load(url: str, seconds: float, clients: int) -> tuple[float, int]:
    """Requests per second answered 200 by `clients` concurrent clients, and the other answers."""
    done, failed = 0, 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
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
    work = args.work.resolve()
    servers = {name: _start(tree, work / f"{name}-index", work / f"{name}.log") for name, tree in trees.items()}
    runs: dict[str, list[float]] = {name: [] for name in trees}
    try:
        for round_ in range(args.rounds):
            for name in (list(trees) if round_ % 2 == 0 else list(reversed(trees))):
                rate, failed = asyncio.run(_load(servers[name].url, args.seconds, args.clients))
                runs[name].append(round(rate, 1))
                print(f"round {round_} {name}: {rate:.1f} req/s, {failed} failed, load {os.getloadavg()[0]:.2f}",
                      flush=True)
    finally:
        for server in servers.values():
            server.stop()
    print(json.dumps({name: {"runs": values, "median": statistics.median(values)} for name, values in runs.items()}))


if __name__ == "__main__":
    main()
