"""Ingest with Ray against local ingest on the same passages: `build_index` with the embedder itself, and with a
`RayEmbedder` on a local Ray (the actors started, and their models loaded, before the clock starts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.bench.rows import IngestRow, ParityRow
from eval.bench.stats import Log, quiet, timed
from index.build import build_index
from index.embedders import Embedder
from index.index_dir import LoadedBuild
from index.ray_embedding import RayEmbedder
from ingest.passage import Passage

SAME_VECTOR_COSINE = 0.999


@dataclass(frozen=True, slots=True)
class RayComparison:
    """Both ingests, and how many texts got the same vector (cosine ≥ 0.999) both ways."""

    workers: int
    ingest: list[IngestRow]
    vectors: ParityRow


def bench_ray_ingest(passages: list[Passage], embedder: Embedder, workers: int, folder: Path,
                     log: Log = quiet) -> RayComparison:
    """Build `passages` into two fresh folders, locally and on `workers` Ray actors (no self-calibration: the same
    for both, and not embedding)."""
    log(f"Ray vs local ingest: {len(passages)} passages, locally")
    local_s, local = timed(lambda: build_index(passages, folder / "local", embedder))
    remote = RayEmbedder(embedder, workers=workers)
    try:
        log(f"Ray vs local ingest: starting {workers} Ray actors")
        remote.embed_many(["预热 warm up"] * workers * 2, as_query=False)
        log(f"Ray vs local ingest: {len(passages)} passages on Ray")
        ray_s, on_ray = timed(lambda: build_index(passages, folder / "ray", remote))
    finally:
        remote.close()
    ours, theirs = LoadedBuild.open(folder / "local"), LoadedBuild.open(folder / "ray")
    same = int(np.sum(np.einsum("ij,ij->i", ours.vectors, theirs.vectors) >= SAME_VECTOR_COSINE))
    return RayComparison(
        workers=workers,
        ingest=[IngestRow.of("ingest, local embedding", local.embedded, local_s / 1000, 1),
                IngestRow.of("ingest, Ray actors (a local Ray on this machine)", on_ray.embedded, ray_s / 1000,
                             workers, "one machine: the actors share its cores")],
        vectors=ParityRow.of(f"vectors: Ray vs local, cosine ≥ {SAME_VECTOR_COSINE}", len(ours.vectors), same),
    )
