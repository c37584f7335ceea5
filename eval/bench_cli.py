"""`faq bench`: the performance benchmark command, registered on the app in `cli.py`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def _sizes(value: str) -> list[str]:
    from eval.bench.corpora import SIZES

    sizes = [s.strip().lower() for s in value.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        raise typer.BadParameter(f"sizes are a comma-separated subset of {','.join(SIZES)}, got {value!r}")
    return sizes


def _parts(value: str) -> tuple[str, ...]:
    from eval.bench.scale import PARTS

    parts = tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))
    if not parts or any(p not in PARTS for p in parts):
        raise typer.BadParameter(f"scale parts are a comma-separated subset of {','.join(PARTS)}, got {value!r}")
    return parts


def _env(value: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in value.split()]
    if not pairs or any(not key or not sep for key, sep, _ in pairs):
        raise typer.BadParameter(f"--load-variant takes KEY=VALUE pairs, got {value!r}")
    return {key: val for key, _, val in pairs}


def bench_command(
    sizes: Annotated[str, typer.Option(help="Corpus sizes: 20 (shipped), 6k (+ Tencent FAQ), 60k (replicated)")]
    = "20,6k,60k",
    out: Annotated[Path | None, typer.Option(help="Report folder (default: var/bench/)")] = None,
    requests: Annotated[int, typer.Option(min=5, help="Sequential requests per endpoint and size")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Concurrent clients of the load test")] = 32,
    duration: Annotated[float, typer.Option(min=1, max=600, help="Seconds of load per endpoint")] = 20.0,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Server workers for the load test")] = 2,
    ingest_sample: Annotated[int, typer.Option(min=0, help="Passages of the ingestion test (0 skips it)")] = 300,
    cache: Annotated[Path | None, typer.Option(help="Where built indexes are cached (default: var/bench/)")] = None,
    threads_requests: Annotated[int, typer.Option(
        min=0, help="Raw embeddings per OpenMP setting in the threading comparison (0 skips it)")] = 30,
    load_variant: Annotated[list[str] | None, typer.Option(
        help="Repeat the load test with this server environment, e.g. 'OMP_NUM_THREADS=1' (repeatable; "
             "several variables separated by spaces)")] = None,
    scale: Annotated[bool, typer.Option(
        help="Also measure scale-out: the answer cache over HTTP, the Milvus store vs FAISS (on a milvus-lite "
             "server: a correctness server), Ray vs local ingest")] = True,
    scale_parts: Annotated[str, typer.Option(help="Scale-out parts: cache, milvus, ray")] = "cache,milvus,ray",
    cache_repeats: Annotated[int, typer.Option(min=5, help="Repeated (cached) /api/ask requests")] = 1000,
    milvus_uri: Annotated[str | None, typer.Option(
        help="A Milvus to measure (default: a milvus-lite server started for the run)")] = None,
    ray_workers: Annotated[int, typer.Option(min=1, max=64, help="Ray actors of the Ray ingest")] = 2,
    ray_passages: Annotated[int, typer.Option(min=1, help="Passages (of the 6k corpus) ingested with and without "
                                                         "Ray")] = 100,
) -> None:
    """Benchmark ingestion, query latency (in process and HTTP), load, memory and start-up per corpus size, and
    the scale-out paths (answer cache, Milvus, Ray)."""
    from eval.bench.corpora import DEFAULT_OUT
    from eval.bench.report import scale_rows, table_rows, write_report
    from eval.bench.run import BenchConfig, run_bench
    from eval.bench.scale import ScaleConfig

    config = BenchConfig(
        sizes=_sizes(sizes), out=out or DEFAULT_OUT, cache=cache or DEFAULT_OUT, requests=requests,
        concurrency=concurrency, duration=duration, load_workers=workers, ingest_sample=ingest_sample,
        threads_requests=threads_requests, load_variants=[_env(v) for v in load_variant or []],
        scale=ScaleConfig(parts=_parts(scale_parts), cache_repeats=cache_repeats, milvus_uri=milvus_uri,
                          ray_workers=ray_workers, ray_passages=ray_passages) if scale else None,
        command=shlex.join(["faq", *sys.argv[1:]]),
    )
    report = run_bench(config, log=lambda message: err_console.print(f"[dim]{message}[/dim]"))
    json_path, md_path = write_report(report, config.out)

    table = Table(title=f"faq bench · load average {list(report.loadavg_start)} → {list(report.loadavg_end)}")
    table.add_column("figure")
    table.add_column("unit")
    for size in report.sizes:
        table.add_column(size, justify="right")
    for row in table_rows(report):
        table.add_row(*row)
    console.print(table)
    ingest = report.ingest
    if ingest is not None:
        console.print(f"ingestion: pipeline {ingest.pipeline_passages_per_s} passages/s, raw encode "
                      f"{ingest.raw_passages_per_s} passages/s, ratio {ingest.ratio}")
    if report.scale is not None:
        rows = Table(title="scale-out (Milvus figures: milvus-lite server, a correctness server, not Milvus's "
                           "performance)")
        for column in ("part", "figure", "value", "note"):
            rows.add_column(column)
        for row in scale_rows(report.scale):
            rows.add_row(*row)
        console.print(rows)
    targets = Table(title="targets")
    for column in ("target", "size", "value", "limit", "rule", "met"):
        targets.add_column(column)
    for t in report.targets:
        targets.add_row(t.name, t.size, f"{t.value:.3g}", f"{t.limit:.3g}", t.rule,
                        "[green]met[/green]" if t.met else "[red]not met[/red]")
    console.print(targets)
    console.print(f"wrote {json_path} and {md_path}")
