"""Smoke test of `faq bench`: the whole benchmark on the 20-passage corpus with tiny counts.

It checks that every figure comes out as a positive number (and that nothing failed), never a timing,
through what the benchmark offers: `run_bench`, `write_report` and the files it writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.bench.openmp import THREAD_VARIANTS
from eval.bench.report import table_rows, write_report
from eval.bench.run import BenchConfig, BenchReport, run_bench

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# Context rather than figures (a load average may be 0.00 on an idle machine), or signed by nature.
NOT_FIGURES = {"loadavg_at_start", "loadavg_at_end", "loadavg_during", "http_overhead_ask_p50_ms",
               "paired_ask_minus_embed_ms", "paired_lean_ask_minus_embed_ms",
               "paired_retrieval_minus_embed_ms", "error_samples"}
MUST_BE_ZERO = {"errors"}


def numbers(node: Any, path: str = "") -> Iterator[tuple[str, str, float | None]]:
    """(path, key, value) for every figure below `node` of a bench.json; None for a figure not measured."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in NOT_FIGURES or isinstance(value, bool | str):
                continue
            if value is None or isinstance(value, int | float):
                yield f"{path}.{key}", key, None if value is None else float(value)
            else:
                yield from numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
                yield f"{path}[{i}]", "", None if value is None else float(value)
            else:
                yield from numbers(value, f"{path}[{i}]")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchReport, Path]:
    out = tmp_path_factory.mktemp("bench")
    config = BenchConfig(
        sizes=["20"], out=out, cache=out / "cache", requests=5, concurrency=2, duration=1.0, load_workers=1,
        ingest_sample=4, ingest_from="20", ingest_rounds=2, profile_requests=3, seeds=[], threads_requests=2,
        load_variants=[{"OMP_NUM_THREADS": "1"}], command="pytest",
    )
    result = run_bench(config)
    write_report(result, out)
    return result, out


def test_every_figure_is_a_positive_number(report: tuple[BenchReport, Path]) -> None:
    _, out = report
    written = json.loads((out / "bench.json").read_text("utf-8"))
    entry = written["sizes"]["20"]
    assert entry["passages"] == 20
    for endpoint in ("embed", "ask", "search"):
        assert entry["http"][endpoint]["n"] == 5
        assert entry["inprocess"][endpoint]["n"] == 5
    assert entry["http"]["ask_lean"]["n"] == 5
    assert entry["load"]["ask"]["requests"] > 0 and entry["load"]["search"]["requests"] > 0
    assert list(entry["load_variants"]) == ["OMP_NUM_THREADS=1"]
    assert len(written["threads"]) == 2 * len(THREAD_VARIANTS)
    found = list(numbers({"size": entry, "ingest": written["ingest"], "threads": written["threads"]}))
    assert len(found) > 50
    missing = [path for path, _, value in found if value is None]
    assert not missing, missing
    not_positive = [(path, value) for path, key, value in found if key not in MUST_BE_ZERO and not value > 0]
    assert not not_positive, not_positive
    errors = [(path, value) for path, key, value in found if key in MUST_BE_ZERO and value != 0]
    assert not errors, errors


def test_the_profile_times_every_step_through_the_public_seams(report: tuple[BenchReport, Path]) -> None:
    result, _ = report
    profile = result.sizes["20"].profile
    steps = {"tokenize (jieba)", "bm25 scores", "query embedding", "dense search (faiss)", "passage vectors",
             "abstention model", "the rest", "total (in process)"}
    assert steps <= set(profile.ask), steps - set(profile.ask)
    assert profile.ask["query embedding"] < profile.ask["total (in process)"]
    assert {"tokenize (jieba)", "bm25 scores", "the rest", "total (in process)"} <= set(profile.search)
    assert "query embedding" not in profile.search  # keyword search embeds nothing


def test_reports_are_written(report: tuple[BenchReport, Path]) -> None:
    result, out = report
    markdown = (out / "bench.md").read_text("utf-8")
    for heading in ("## Ingestion", "## Raw query embedding by OpenMP setting", "## Load with other server settings",
                    "## ask path, p50 per step", "## search path, p50 per step", "## Targets"):
        assert heading in markdown, heading
    for label, _unit, cell in table_rows(result):
        assert f"| {label} |" in markdown
        assert cell != "–", label
    names = {t.name for t in result.targets}
    assert any("ingest" in name for name in names)
    assert all(isinstance(t.met, bool) for t in result.targets)
