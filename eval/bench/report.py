"""The report of a run: `bench.json` (every figure) and `bench.md` (the tables), plus timestamped copies."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench.machine import LoadWindow
from eval.bench.rows import ParityRow
from eval.bench.run import BenchReport, SizeResult
from eval.bench.scale import ScaleReport
from eval.bench.stats import Latency

Cell = float | int | bool | str | tuple[float, ...]

ROWS: list[tuple[str, str, Callable[[SizeResult], Cell]]] = [
    ("passages", "", lambda e: e.passages),
    ("vectors", "", lambda e: e.vectors),
    ("raw query embedding p50 (in process)", "ms", lambda e: e.inprocess.embed.p50),
    ("Retriever.ask p50 / p95 / p99", "ms", lambda e: e.inprocess.ask.triple),
    ("Retriever.search p50 / p95 / p99", "ms", lambda e: e.inprocess.search.triple),
    ("raw query embedding p50 / p95 / p99 (HTTP run)", "ms", lambda e: e.http.embed.triple),
    ("HTTP /api/ask p50 / p95 / p99", "ms", lambda e: e.http.ask.triple),
    ("HTTP /api/search p50 / p95 / p99", "ms", lambda e: e.http.search.triple),
    ("HTTP /healthz p50 (stack baseline)", "ms", lambda e: e.http.healthz.p50),
    ("/api/ask p50 ÷ raw embedding p50", "×", lambda e: e.ratios.http_ask_over_embed_p50),
    ("/api/ask − raw embedding, median of per-block differences", "ms", lambda e: e.http.paired_ask_minus_embed_ms),
    ("HTTP /api/ask p50 / p95 / p99, lean client (http.client)", "ms", lambda e: e.http.ask_lean.triple),
    ("/api/ask − raw embedding, lean client, median of per-block differences", "ms",
     lambda e: e.http.paired_lean_ask_minus_embed_ms),
    ("Retriever.ask − raw embedding, median of pairs", "ms", lambda e: e.inprocess.paired_ask_minus_embed_ms),
    ("/api/ask split (Server-Timing): round trip − app (client, network, uvicorn)", "ms",
     lambda e: e.http.ask_split.transport_ms),
    ("/api/ask split: app − retrieval (middleware, validation, thread hop, JSON)", "ms",
     lambda e: e.http.ask_split.framework_ms),
    ("/api/ask split: retrieval in the server − raw embedding, per-block medians", "ms",
     lambda e: e.http.ask_split.paired_retrieval_minus_embed_ms),
    ("HTTP overhead on ask (HTTP p50 − in-process p50)", "ms", lambda e: e.ratios.http_overhead_ask_p50_ms),
    ("first /api/ask after /readyz (cold)", "ms", lambda e: e.http.cold_ask_ms),
    ("cold ÷ warm /api/ask p50", "×", lambda e: e.ratios.cold_over_warm_ask),
    ("start-up to /readyz, 1 worker", "s", lambda e: e.http.startup_s),
    ("RSS after start, 1 worker", "MiB", lambda e: e.memory.rss_mb),
    ("RSS per 1,000 passages (total ÷ size)", "MiB", lambda e: e.memory.rss_per_1k_passages_mb),
    ("RSS after the sequential requests", "MiB", lambda e: e.memory.rss_after_requests_mb),
    ("start-up, all workers ready (load server)", "s", lambda e: e.load.startup_s),
    ("RSS of the load server (all processes)", "MiB", lambda e: e.load.rss_after_start.total_mb),
    ("load /api/ask: req/s", "req/s", lambda e: e.load.ask.rps),
    ("load /api/ask: p50 / p95", "ms", lambda e: (e.load.ask.p50, e.load.ask.p95)),
    ("load /api/ask: errors", "", lambda e: e.load.ask.errors),
    ("load /api/search: req/s", "req/s", lambda e: e.load.search.rps),
    ("load /api/search: p50 / p95", "ms", lambda e: (e.load.search.p50, e.load.search.p95)),
    ("load /api/search: errors", "", lambda e: e.load.search.errors),
    ("load average (1 min) during this size: mean / max", "",
     lambda e: (e.loadavg_during.mean, e.loadavg_during.max)),
]


def fmt(value: Cell) -> str:
    """A figure as the tables show it ("–" for one that was not measured)."""
    if isinstance(value, tuple):
        return " / ".join(fmt(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table_rows(report: BenchReport) -> list[list[str]]:
    """Metric rows (label, unit, one cell per size) shared by the terminal and Markdown tables."""
    return [[label, unit, *(fmt(getter(entry)) for entry in report.sizes.values())] for label, unit, getter in ROWS]


def scale_rows(scale: ScaleReport) -> list[list[str]]:
    """The scale-out figures as (part, figure, value, note) rows, for the terminal and Markdown tables."""
    rows = []
    if scale.cache is not None:
        c = scale.cache
        rows += [["answer cache", "/api/ask over HTTP, first time (miss) p50 / p95, ms", _pair(c.miss),
                  f"{c.miss.n} questions, one worker"],
                 ["answer cache", "/api/ask over HTTP, repeated (hit) p50 / p95, ms", _pair(c.hit),
                  f"{c.hit.n} requests; target ≤ 2 ms"],
                 ["answer cache", "/healthz over HTTP (the HTTP floor) p50 / p95, ms", _pair(c.healthz),
                  f"{c.healthz.n} requests, interleaved with the hits"],
                 ["answer cache", "hit rate (faq_answer_cache_total in /metrics)", fmt(c.hit_rate),
                  f"{c.hits} hits, {c.misses} misses, {c.errors} errors"]]
    if scale.milvus is not None:
        m = scale.milvus
        rows += [["Milvus vs FAISS", r.name, f"{fmt(r.seconds)} s ({r.texts} texts)", r.note] for r in m.ingest]
        rows += [["Milvus vs FAISS", f"{r.name} ({r.store}) p50 / p95, ms", f"{fmt(r.p50_ms)} / {fmt(r.p95_ms)}",
                  r.note] for r in m.latency]
        rows += [["Milvus vs FAISS", r.name, _share(r), r.note] for r in (m.answers, *m.keywords)]
        rows.append(["Milvus vs FAISS", "self-calibrated answer threshold, faiss / milvus",
                     " / ".join(fmt(m.thresholds.get(s) or math.nan) for s in ("faiss", "milvus")),
                     "fitted on each build at ingest"])
        rows += [["Milvus vs FAISS", f"{r.name}, bytes per passage", fmt(r.bytes_per_passage),
                  f"{r.passages} passages"] for r in m.memory]
    if scale.ray is not None:
        rows += [["Ray vs local", r.name, f"{fmt(r.seconds)} s, {fmt(r.texts_per_second)} texts/s",
                  "; ".join(filter(None, [f"{r.texts} texts, {r.workers} worker(s)", r.note]))]
                 for r in scale.ray.ingest]
        rows.append(["Ray vs local", scale.ray.vectors.name, _share(scale.ray.vectors), scale.ray.vectors.note])
    rows += [[part, "skipped", "–", reason] for part, reason in scale.skipped.items()]
    return rows


def _pair(latency: Latency) -> str:
    return f"{fmt(latency.p50)} / {fmt(latency.p95)}"


def _share(row: ParityRow) -> str:
    return f"{row.same} / {row.questions} ({fmt(row.share)})"


def to_markdown(report: BenchReport) -> str:
    """The report as Markdown: machine, figures per size, ingestion, OpenMP settings, load variants, profile,
    targets."""
    m = report.machine
    sizes = list(report.sizes)
    settings = json.dumps(dataclasses.asdict(report.settings), ensure_ascii=False)
    lines = [
        f"# Benchmark run {report.started_at}", "",
        f"Command: `{report.command or 'faq bench'}`", "",
        f"Machine: {m.nproc} cores ({m.cpu_model}), {m.ram_gb} GiB RAM, Python {m.python}, "
        f"OMP_NUM_THREADS={m.omp_num_threads}. Load average at start {list(report.loadavg_start)}, "
        f"at end {list(report.loadavg_end)}.", "",
        f"Embedder: {report.embedder}. Settings: {settings}", "",
        "| figure | unit | " + " | ".join(sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    if report.scaling:
        lines += ["", "Marginal RSS per 1,000 passages: " + ", ".join(
            f"{k} vs {v.vs}: {v.marginal_rss_per_1k_passages_mb} MiB" for k, v in report.scaling.items())]
    ingest = report.ingest
    if ingest is not None:
        lines += ["", "## Ingestion", "",
                  f"{ingest.passages} passages ({ingest.texts} texts), {ingest.rounds} rounds alternated "
                  f"(raw, pipeline, pipeline, raw); load average {_window(report.ingest_loadavg_during)}.", "",
                  "| raw encode passages/s | pipeline passages/s | ratio | raw s | pipeline s | pipeline embed s |",
                  "|---|---|---|---|---|---|",
                  f"| {ingest.raw_passages_per_s} | {ingest.pipeline_passages_per_s} | {ingest.ratio} | "
                  f"{ingest.raw_seconds} | {ingest.pipeline_seconds} | {ingest.pipeline_embed_seconds} |"]
    if report.threads:
        lines += ["", "## Raw query embedding by OpenMP setting", "",
                  "Fresh processes, alone or while a second process embeds without pause, rounds mirrored.", "",
                  f"Load average during: {_window(report.threads_loadavg_during)}.", "",
                  "| setting | p50 ms | p95 ms | p99 ms | n |", "|---|---|---|---|---|"]
        for name, st in report.threads.items():
            lines.append(f"| {name} | {fmt(st.p50)} | {fmt(st.p95)} | {fmt(st.p99)} | {st.n} |")
    variants = [(s, name, v) for s in sizes for name, v in report.sizes[s].load_variants.items()]
    if variants:
        lines += ["", "## Load with other server settings (same clients and duration)", "",
                  "| size | server env | endpoint | req/s | p50 ms | p95 ms | errors |",
                  "|---|---|---|---|---|---|---|"]
        for size, name, variant in variants:
            base = report.sizes[size].load
            for endpoint in ("ask", "search"):
                for label, run in (("(default)", base), (name, variant)):
                    figures = getattr(run, endpoint)
                    lines.append(f"| {size} | {label} | {endpoint} | {fmt(figures.rps)} | {fmt(figures.p50)} | "
                                 f"{fmt(figures.p95)} | {figures.errors} |")
    for path in ("ask", "search"):
        if not sizes:
            break
        steps = list(getattr(report.sizes[sizes[0]].profile, path))
        lines += ["", f"## {path} path, p50 per step (ms, in process)", "",
                  "| step | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(sizes)]
        for step in steps:
            lines.append(f"| {step} | " + " | ".join(
                fmt(getattr(report.sizes[s].profile, path).get(step, math.nan)) for s in sizes) + " |")
    if report.scale is not None:
        lines += ["", "## Scale-out: answer cache, Milvus store, Ray ingest", "",
                  f"Load average during: {_window(report.scale.loadavg_during)}. Milvus figures come from "
                  "`milvus-lite server`, **a correctness server**: its latencies say nothing about a Milvus "
                  "cluster's.", "", "| part | figure | value | note |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in scale_rows(report.scale)]
    lines += ["", "## Targets", "", "| target | size | value | limit | rule | met |", "|---|---|---|---|---|---|"]
    for t in report.targets:
        lines.append(f"| {t.name} | {t.size} | {fmt(t.value)} | {fmt(t.limit)} | {t.rule} | "
                     f"{'met' if t.met else '**not met**'} |")
    return "\n".join(lines) + "\n"


def _window(window: LoadWindow | None) -> str:
    return "–" if window is None else f"mean {window.mean}, max {window.max}"


def to_json(report: BenchReport) -> str:
    """Every figure of the report as JSON (a figure that was not measured is null)."""
    return json.dumps(_plain(dataclasses.asdict(report)), ensure_ascii=False, indent=2)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(value) for value in node]
    if isinstance(node, float) and math.isnan(node):
        return None
    if isinstance(node, Path):
        return str(node)
    return node


def write_report(report: BenchReport, out: Path) -> tuple[Path, Path]:
    """Write `bench.json` and `bench.md` (plus a timestamped copy of each) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = report.started_at.replace(":", "").replace("-", "")
    text_json, text_md = to_json(report), to_markdown(report)
    for name, text in ((f"bench-{stamp}.json", text_json), (f"bench-{stamp}.md", text_md),
                       ("bench.json", text_json), ("bench.md", text_md)):
        (out / name).write_text(text, "utf-8")
    return out / "bench.json", out / "bench.md"
