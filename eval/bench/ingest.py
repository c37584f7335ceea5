"""Ingestion throughput: `run_ingest` into a fresh folder against raw encoding of the same texts."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eval.bench.corpora import real_passages
from eval.bench.stats import Log, quiet, timed
from index.build import EMBED_BATCH, row_specs
from index.embedders import Embedder
from ingest.passage import Passage
from ingest.registry import parse_paths


@dataclass(frozen=True, slots=True)
class IngestThroughput:
    """Seconds per round of each kind, and passages per second."""

    passages: int
    texts: int
    rounds: int
    raw_seconds: list[float]
    pipeline_seconds: list[float]
    pipeline_embed_seconds: list[float]
    raw_passages_per_s: float
    pipeline_passages_per_s: float
    ratio: float  # pipeline ÷ raw passages per second
    pipeline_overhead_seconds: float  # per round: pipeline time not spent embedding


def embed_as_build(embedder: Embedder, passages: list[Passage]) -> int:
    """Encode exactly what `build_index` encodes for these passages, in its batches; returns the text count."""
    specs = row_specs(passages)
    for as_query in (False, True):
        texts = [s.text for s in specs if s.as_query is as_query]
        embed = embedder.embed_queries if as_query else embedder.embed_passages
        for start in range(0, len(texts), EMBED_BATCH):
            embed(texts[start:start + EMBED_BATCH])
    return len(specs)


def bench_ingest(embedder: Embedder, sample: int = 300, source_size: str = "6k", rounds: int = 2, seed: int = 0,
                 log: Log = quiet) -> IngestThroughput:
    """`run_ingest` of a sample of a corpus vs raw encoding of the same texts, alternated (ABBA) in one run."""
    from index.pipeline import run_ingest  # loads Haystack

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
        raw_s: list[float] = []
        pipe_s: list[float] = []
        embed_s: list[float] = []
        texts = 0
        for r in range(rounds):
            for kind in (("raw", "pipeline") if r % 2 == 0 else ("pipeline", "raw")):
                if kind == "raw":
                    ms, texts = timed(lambda: embed_as_build(embedder, passages))
                    raw_s.append(ms / 1000)
                else:
                    root = folder / f"index-{r}"
                    ms, report = timed(lambda root=root: run_ingest([source], root, embedder))
                    pipe_s.append(ms / 1000)
                    embed_s.append(report.build.embed_seconds)
                    if report.build.embedded != texts and texts:
                        log(f"warning: pipeline embedded {report.build.embedded} texts, raw {texts}")
                    shutil.rmtree(root, ignore_errors=True)
                log(f"  ingest round {r + 1} {kind}: {(raw_s if kind == 'raw' else pipe_s)[-1]:.1f} s")
    n = len(passages)
    raw_pps, pipe_pps = n * len(raw_s) / sum(raw_s), n * len(pipe_s) / sum(pipe_s)
    return IngestThroughput(
        passages=n, texts=texts, rounds=rounds,
        raw_seconds=[round(x, 3) for x in raw_s], pipeline_seconds=[round(x, 3) for x in pipe_s],
        pipeline_embed_seconds=[round(x, 3) for x in embed_s],
        raw_passages_per_s=round(raw_pps, 3), pipeline_passages_per_s=round(pipe_pps, 3),
        ratio=round(pipe_pps / raw_pps, 4),
        pipeline_overhead_seconds=round((sum(pipe_s) - sum(embed_s)) / len(pipe_s), 3),
    )
