"""`faq bench` with its scale-out parts, at tiny sizes: the answer cache over HTTP, the Milvus store against FAISS
(a `milvus-lite server` the run starts), Ray against local ingest; their rows in bench.json, bench.md, the targets.

Counts and agreements are checked, never a timing beyond being a positive number.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from eval.bench.corpora import DEV_QUESTIONS
from eval.bench.milvus import CORRECTNESS_NOTE
from eval.bench.report import scale_rows, write_report
from eval.bench.run import BenchConfig, BenchReport, run_bench
from eval.bench.scale import ScaleConfig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
QUESTIONS, REPEATS = 12, 10


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchReport, Path]:
    out = tmp_path_factory.mktemp("bench-scale")
    questions = out / "questions.jsonl"
    questions.write_text("\n".join(DEV_QUESTIONS.read_text("utf-8").splitlines()[:QUESTIONS]) + "\n", "utf-8")
    config = BenchConfig(
        sizes=["20"], out=out, cache=out / "cache", requests=5, concurrency=1, duration=1.0, load_workers=1,
        ingest_sample=0, profile_requests=3, questions=questions, seeds=[], threads_requests=0, command="pytest",
        scale=ScaleConfig(cache_repeats=REPEATS, ray_workers=1, ray_passages=4, ray_from="20"),
    )
    result = run_bench(config)
    write_report(result, out)
    return result, out


def test_the_cache_rows_count_every_miss_and_hit_and_read_the_hit_rate_from_metrics(
        report: tuple[BenchReport, Path]) -> None:
    result, _ = report
    assert result.scale is not None and result.scale.skipped == {}
    cache = result.scale.cache
    assert cache is not None
    assert (cache.miss.n, cache.hit.n, cache.healthz.n, cache.errors) == (QUESTIONS, REPEATS, REPEATS, 0)
    assert (cache.misses, cache.hits) == (QUESTIONS, REPEATS)
    assert cache.hit_rate == pytest.approx(REPEATS / (REPEATS + QUESTIONS), abs=1e-4)
    assert cache.hit.p50 > 0 and cache.miss.p50 > 0 and cache.healthz.p50 > 0


def test_the_milvus_rows_compare_both_stores_and_say_milvus_lite_is_a_correctness_server(
        report: tuple[BenchReport, Path]) -> None:
    result, out = report
    assert result.scale is not None
    milvus = result.scale.milvus
    assert milvus is not None
    assert [row.store for row in milvus.latency] == ["faiss", "milvus"]
    assert [row.note for row in milvus.latency] == ["", CORRECTNESS_NOTE]
    assert [row.requests for row in milvus.latency] == [QUESTIONS, QUESTIONS]
    assert (milvus.answers.questions, milvus.answers.same) == (QUESTIONS, QUESTIONS)
    assert milvus.keywords[0].share == 1.0  # our sparse BM25 weights rank as bm25s does
    assert all(row.seconds > 0 and row.texts == milvus.ingest[0].texts for row in milvus.ingest)
    faiss_threshold, milvus_threshold = milvus.thresholds["faiss"], milvus.thresholds["milvus"]
    assert faiss_threshold is not None and milvus_threshold == pytest.approx(faiss_threshold, abs=1e-6)
    markdown = (out / "bench.md").read_text("utf-8")
    assert "## Scale-out" in markdown and "a correctness server" in markdown
    assert CORRECTNESS_NOTE in markdown  # next to the Milvus figures themselves


def test_the_ray_rows_ingest_the_same_texts_both_ways_with_equal_vectors(report: tuple[BenchReport, Path]) -> None:
    result, _ = report
    assert result.scale is not None
    ray = result.scale.ray
    assert ray is not None
    local, on_ray = ray.ingest
    assert local.texts == on_ray.texts == ray.vectors.questions > 0
    assert (local.workers, on_ray.workers) == (1, 1)
    assert ray.vectors.share == 1.0
    assert local.texts_per_second > 0 and on_ray.texts_per_second > 0


def test_the_report_holds_the_scale_rows_and_their_targets(report: tuple[BenchReport, Path]) -> None:
    result, out = report
    assert result.scale is not None
    written = json.loads((out / "bench.json").read_text("utf-8"))["scale"]
    assert written["cache"]["hits"] == REPEATS and written["milvus"]["answers"]["same"] == QUESTIONS
    assert written["ray"]["vectors"]["share"] == 1.0
    parts = {row[0] for row in scale_rows(result.scale)}
    assert parts == {"answer cache", "Milvus vs FAISS", "Ray vs local"}
    names = {t.name for t in result.targets}
    assert {"repeated /api/ask p50 over HTTP (cache hit)", "same top passage and decision, Milvus vs FAISS",
            "Ray vectors equal local ones (cosine ≥ 0.999)"} <= names


def test_faq_bench_refuses_an_unknown_scale_part() -> None:
    outcome = CliRunner().invoke(app, ["bench", "--sizes", "20", "--scale-parts", "cache,elastic"])
    assert outcome.exit_code == 2
    assert "scale parts are a comma-separated subset of cache,milvus,ray" in outcome.output
