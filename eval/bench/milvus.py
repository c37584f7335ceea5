"""The Milvus store against FAISS on the same passages: ingest, in-process latency, answer parity, keywords.

Both builds are ingested as `faq ingest` does (embedded, self-calibrated, published: a folder, or a
collection behind an alias) and served as a replica serves them (`load_retriever`). Without a URI,
a `milvus-lite server` is started for the run. **Milvus Lite is a correctness server**: its
latencies say nothing about a Milvus cluster's, and every Milvus row says so next to its figures.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.milvus_server import MilvusServer
from eval.bench.rows import IngestRow, LatencyRow, MemoryRow, ParityRow
from eval.bench.stats import Log, quiet, summarize, timed
from index.build import build_index
from index.embedders import Embedder
from index.index_dir import current_build
from index.milvus_publish import MilvusTarget
from index.searchable import SearchableBuild
from index.tokenizer import tokenize
from ingest.passage import Passage
from retrieval.loading import load_retriever, make_calibrator, milvus_config
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings

CORRECTNESS_NOTE = "milvus-lite server: a correctness server, not a performance figure for Milvus"


@dataclass(frozen=True, slots=True)
class MilvusComparison:
    """Every row of the comparison, and the self-calibrated threshold each store's build fitted."""

    uri: str
    note: str
    ingest: list[IngestRow]
    latency: list[LatencyRow]
    answers: ParityRow  # the same top passage and decision
    keywords: list[ParityRow]
    memory: list[MemoryRow]
    thresholds: dict[str, float | None]


@contextlib.contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    """A `milvus-lite server` on a free port over `data_dir` for the block; yields its URI."""
    server = MilvusServer(data_dir)
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


def bench_milvus(passages: list[Passage], embedder: Embedder, questions: Sequence[str], folder: Path,
                 uri: str | None = None, log: Log = quiet) -> MilvusComparison:
    """Ingest `passages` into a folder and into Milvus (at `uri`, or a `milvus-lite server` of its own), then
    ask `questions` of both."""
    with contextlib.ExitStack() as stack:
        uri = uri or stack.enter_context(milvus_lite_server(folder / "milvus-data"))
        faiss = _settings(folder / "faiss", folder / "cache", embedder)
        milvus = _settings(folder / "milvus-lock", folder / "cache", embedder, uri)
        ingest = []
        for store, settings in (("faiss", faiss), ("milvus", milvus)):
            log(f"Milvus vs FAISS: ingest {len(passages)} passages into {store} (embed, self-calibrate, publish)")
            target = MilvusTarget(milvus_config(settings)) if store == "milvus" else None
            seconds, report = timed(lambda s=settings, t=target: build_index(
                passages, s.index_dir, embedder, calibrate=make_calibrator(s, embedder), target=t))
            ingest.append(IngestRow.of(f"ingest into {store}: embed, self-calibrate, publish", report.vectors,
                                       seconds / 1000, 1, CORRECTNESS_NOTE if store == "milvus" else ""))
        retrievers = {store: load_retriever(settings, embedder=embedder)
                      for store, settings in (("faiss", faiss), ("milvus", milvus))}
        try:
            log(f"Milvus vs FAISS: {len(questions)} questions through each store")
            latency, answers = _ask_both(retrievers, questions)
            keywords = [_keyword_parity(retrievers, questions), milvus_bm25_parity(retrievers["faiss"].index,
                                                                                   questions, uri)]
        finally:
            retrievers["milvus"].close()
        thresholds = {store: (r.index.manifest.calibration or {}).get("threshold") for store, r in retrievers.items()}
    return MilvusComparison(uri=uri, note=CORRECTNESS_NOTE, ingest=ingest, latency=latency, answers=answers,
                            keywords=keywords, memory=memory_rows(faiss.index_dir, len(passages)),
                            thresholds=thresholds)


def _settings(root: Path, cache: Path, embedder: Embedder, uri: str | None = None) -> RetrievalSettings:
    extra: dict[str, Any] = {} if uri is None else {
        "vector_store": "milvus", "milvus_uri": uri, "milvus_collection": f"bench_{uuid.uuid4().hex[:10]}",
        "milvus_timeout_seconds": 30.0}
    return RetrievalSettings(_env_file=None, index_dir=root, cache_dir=cache, embedder=embedder.name,  # type: ignore[call-arg]
                             **extra)


def _ask_both(retrievers: dict[str, Retriever], questions: Sequence[str]) -> tuple[list[LatencyRow], ParityRow]:
    """In-process `ask` per store, the stores alternating question by question; the same top passage and decision."""
    times: dict[str, list[float]] = {store: [] for store in retrievers}
    tops: dict[str, list[str]] = {store: [] for store in retrievers}
    for i, question in enumerate(questions):
        for store in list(retrievers) if i % 2 == 0 else list(retrievers)[::-1]:
            ms, result = timed(lambda r=retrievers[store], q=question: r.ask(q))
            times[store].append(ms)
            ranked = result.citations[0].passage_id if result.citations else (
                result.suggestions[0].passage_id if result.suggestions else "")
            tops[store].append(f"{result.answered}:{ranked}")
    latency = []
    for store, ms in times.items():
        summary = summarize(ms)
        latency.append(LatencyRow("Retriever.ask in process", store, summary.n, summary.p50, summary.p95,
                                  CORRECTNESS_NOTE if store == "milvus" else ""))
    same = sum(a == b for a, b in zip(tops["faiss"], tops["milvus"], strict=True))
    return latency, ParityRow.of("question set: same top passage and decision, Milvus vs FAISS", len(questions), same,
                                 "the test requires ≥ 99 %")


def _keyword_parity(retrievers: dict[str, Retriever], questions: Sequence[str]) -> ParityRow:
    faiss, milvus = retrievers["faiss"].index, retrievers["milvus"].index
    with_keywords = [t for t in map(tokenize, questions) if faiss.keyword_scores(t).any()]
    same = sum(int(np.argmax(faiss.keyword_scores(t))) == int(np.argmax(milvus.keyword_scores(t)))
               for t in with_keywords)
    return ParityRow.of("keywords: sparse BM25 weights of our tokenizer vs bm25s, top-1", len(with_keywords), same,
                        "chosen: the same scores as bm25s up to float rounding")


def milvus_bm25_parity(build: SearchableBuild, questions: Sequence[str], uri: str) -> ParityRow:
    """Milvus's own BM25 full-text search (jieba analyzer) against bm25s over our tokens: top-1 agreement."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(uri=uri, timeout=60)
    name = f"bm25probe_{uuid.uuid4().hex[:10]}"
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
    try:
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
            hits = client.search(name, data=[question], anns_field="sparse", limit=1,
                                 search_params={"metric_type": "BM25"})
            same += bool(hits[0]) and int(hits[0][0]["passage"]) == int(np.argmax(scores))
    finally:
        client.drop_collection(name)
        client.close()
    return ParityRow.of("keywords: Milvus BM25 (jieba analyzer) vs bm25s, top-1", total, same, "not chosen")


def memory_rows(root: Path, passages: int) -> list[MemoryRow]:
    """Bytes per passage of the current build folder under `root`, and of its vectors alone."""
    build = current_build(root)
    if build is None:
        raise ValueError(f"no build under {root}")
    total = sum(p.stat().st_size for p in build.rglob("*") if p.is_file())
    return [MemoryRow("FAISS build folder (vectors, passages, BM25)", passages, round(total / passages, 1)),
            MemoryRow("vectors alone", passages, round((build / "vectors.npy").stat().st_size / passages, 1))]
