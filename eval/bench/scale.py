"""The scale-out part of `faq bench`: the answer cache over HTTP, the Milvus store against FAISS, Ray against
local ingest. Each part is optional (`faq bench --scale-parts`); a part whose extra is not installed is
skipped with the reason, which the report states."""

from __future__ import annotations

import importlib.util
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from eval.bench.cache import CacheLatency, bench_cache
from eval.bench.corpora import bench_index, real_passages
from eval.bench.machine import LoadMonitor, LoadWindow
from eval.bench.milvus import MilvusComparison, bench_milvus
from eval.bench.ray_ingest import RayComparison, bench_ray_ingest
from eval.bench.stats import Log, quiet
from index.embedders import Embedder

PARTS = ("cache", "milvus", "ray")
EXTRAS = {"milvus": ("pymilvus", "milvus_lite"), "ray": ("ray",)}


@dataclass(slots=True)
class ScaleConfig:
    """Which scale-out parts to measure, and how much."""

    parts: tuple[str, ...] = PARTS
    cache_repeats: int = 1000  # cache hits (and /healthz requests) per server
    milvus_uri: str | None = None  # None: a `milvus-lite server` of the run's own
    ray_workers: int = 2
    ray_passages: int = 100  # passages of `ray_from` ingested both ways
    ray_from: str = "6k"


@dataclass(frozen=True, slots=True)
class ScaleReport:
    """The parts measured (None: not asked for, or skipped), why any was skipped, and the load meanwhile."""

    cache: CacheLatency | None
    milvus: MilvusComparison | None
    ray: RayComparison | None
    skipped: dict[str, str] = field(default_factory=dict)
    loadavg_during: LoadWindow | None = None


def missing_extra(part: str) -> str | None:
    """Why `part` cannot run here (its optional package is not installed), or None."""
    missing = [name for name in EXTRAS.get(part, ()) if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: pip install 'faq-assistant[{part}]'"


def run_scale(config: ScaleConfig, embedder: Embedder, questions: list[str], cache: Path, out: Path,
              monitor: LoadMonitor, log: Log = quiet) -> ScaleReport:
    """Measure the configured parts on the shipped corpus (Ray: a sample of `ray_from`); files go under `out`."""
    begin = time.monotonic()
    skipped = {part: reason for part in config.parts if (reason := missing_extra(part)) is not None}
    for part, reason in skipped.items():
        log(f"scale-out part {part} skipped: {reason}")
    wanted = [part for part in config.parts if part not in skipped]
    folder = out / "scale"
    cache_result = milvus = ray = None
    if "cache" in wanted:
        index = bench_index("20", cache, embedder, log=log)
        cache_result = bench_cache(index, questions, config.cache_repeats, out / "logs", log=log).popitem()[1]
    if "milvus" in wanted:
        milvus = bench_milvus(real_passages("20"), embedder, questions, _fresh(folder / "milvus"), config.milvus_uri,
                              log)
    if "ray" in wanted:
        pool = real_passages(config.ray_from)
        sample = random.Random(0).sample(pool, min(config.ray_passages, len(pool)))
        ray = bench_ray_ingest(sample, embedder, config.ray_workers, _fresh(folder / "ray"), log)
    return ScaleReport(cache_result, milvus, ray, skipped, monitor.window(begin, time.monotonic()))


def _fresh(folder: Path) -> Path:
    """An empty folder for this run's builds (earlier runs' builds removed)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
