"""Smoke test of `faq bench`: the whole benchmark on the 20-passage corpus with tiny counts.

It checks that every figure comes out as a positive number (and that nothing failed), never a timing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.bench import THREAD_VARIANTS, BenchConfig, run_bench, write_report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# Context rather than figures (a load average may be 0.00 on an idle machine), or signed by nature.
NOT_FIGURES = {"loadavg_at_start", "loadavg_at_end", "loadavg_during", "http_overhead_ask_p50_ms",
               "paired_ask_minus_embed_ms"}
MUST_BE_ZERO = {"errors"}


def numbers(node: Any, path: str = "") -> Iterator[tuple[str, str, float]]:
    """(path, key, value) for every number below `node` (booleans are not numbers here)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in NOT_FIGURES:
                continue
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                yield f"{path}.{key}", key, float(value)
            else:
                yield from numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield f"{path}[{i}]", "", float(value)
            else:
                yield from numbers(value, f"{path}[{i}]")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    config = BenchConfig(
        sizes=["20"], out=out, cache=out / "cache", requests=5, concurrency=2, duration=1.0, load_workers=1,
        ingest_sample=4, ingest_from="20", ingest_rounds=2, profile_requests=3, seeds=[], threads_requests=2,
        command="pytest",
    )
    result = run_bench(config)
    write_report(result, out)
    return result, out


def test_every_figure_is_a_positive_number(report: tuple[dict[str, Any], Path]) -> None:
    result, _ = report
    entry = result["sizes"]["20"]
    assert entry["passages"] == 20
    for section in ("inprocess", "http", "load", "memory", "ratios"):
        assert section in entry, section
    for endpoint in ("embed", "ask", "search"):
        assert entry["http"][endpoint]["n"] == 5
        assert entry["inprocess"][endpoint]["n"] == 5
    assert entry["load"]["ask"]["requests"] > 0 and entry["load"]["search"]["requests"] > 0
    assert len(result["threads"]) == 2 * len(THREAD_VARIANTS)
    found = list(numbers({"size": entry, "ingest": result["ingest"], "threads": result["threads"]}))
    assert len(found) > 50
    not_positive = [(path, value) for path, key, value in found if key not in MUST_BE_ZERO and not value > 0]
    assert not not_positive, not_positive
    errors = [(path, value) for path, key, value in found if key in MUST_BE_ZERO and value != 0]
    assert not errors, errors


def test_reports_are_written(report: tuple[dict[str, Any], Path]) -> None:
    result, out = report
    assert json.loads((out / "bench.json").read_text("utf-8"))["sizes"]["20"]["passages"] == 20
    markdown = (out / "bench.md").read_text("utf-8")
    assert "/api/ask" in markdown and "## Targets" in markdown
    names = {t["name"] for t in result["targets"]}
    assert any("ingest" in name for name in names)
    assert all(isinstance(t["met"], bool) for t in result["targets"])
