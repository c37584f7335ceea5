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
) -> None:
    """Benchmark ingestion, query latency (in process and HTTP), load, memory and start-up per corpus size."""
    from eval.bench.corpora import DEFAULT_OUT
    from eval.bench.report import table_rows, write_report
    from eval.bench.run import BenchConfig, run_bench

    config = BenchConfig(
        sizes=_sizes(sizes), out=out or DEFAULT_OUT, cache=cache or DEFAULT_OUT, requests=requests,
        concurrency=concurrency, duration=duration, load_workers=workers, ingest_sample=ingest_sample,
        threads_requests=threads_requests, load_variants=[_env(v) for v in load_variant or []],
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
    targets = Table(title="targets")
    for column in ("target", "size", "value", "limit", "rule", "met"):
        targets.add_column(column)
    for t in report.targets:
        targets.add_row(t.name, t.size, f"{t.value:.3g}", f"{t.limit:.3g}", t.rule,
                        "[green]met[/green]" if t.met else "[red]not met[/red]")
    console.print(targets)
    console.print(f"wrote {json_path} and {md_path}")
