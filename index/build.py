"""Build an index folder from passages, re-embedding only texts that changed since the last build."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from index.answer_windows import WINDOW_LANGUAGES, answer_windows
from index.embedders import BulkEmbedder, Embedder
from index.index_dir import (
    FORMAT_VERSION,
    IndexLoadError,
    LoadedBuild,
    Manifest,
    VectorRows,
    current_build,
    make_current,
    read_manifest,
    write_build,
)
from index.keyword_index import KeywordIndex
from index.publish_target import BuildTarget
from index.tokenizer import Tokenizer
from index.vector_store import FIELD_BODY, FIELD_TITLE, FIELD_WINDOW
from ingest.curation import Lexicon
from ingest.passage import Passage

EMBED_BATCH = 16
ProgressFactory = Callable[[int, str], "ProgressBar"]
# Told of a complete build before it is published; returns what the manifest records as its calibration.
Calibrator = Callable[[LoadedBuild], dict[str, Any]]


class ProgressBar:
    """Minimal progress sink; the CLI passes a tqdm-backed one."""

    def update(self, n: int) -> None:
        """Advance by n items."""

    def close(self) -> None:
        """Finish."""


class TqdmProgressBar(ProgressBar):
    """A tqdm bar on the terminal (silent when output is not a terminal)."""

    def __init__(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="text", disable=None)

    def update(self, n: int) -> None:
        """Advance by n items."""
        self._bar.update(n)

    def close(self) -> None:
        """Finish."""
        self._bar.close()


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    build: Path | str  # the build folder, or the build's name in a target store
    passages: int
    vectors: int
    embedded: int
    reused: int
    seconds: float
    embed_seconds: float
    calibration: dict[str, Any] | None = None  # what the calibrator fitted, as the build records it


@dataclass(frozen=True, slots=True)
class RowSpec:
    """One vector to hold: which passage, which field, which text, embedded as query or passage."""

    passage: int
    field: int
    text: str
    as_query: bool

    @property
    def key(self) -> str:
        """Cache key: same text, same field, same prefix → same vector."""
        raw = f"{self.field}:{int(self.as_query)}:{self.text}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()


# What `row_specs` makes of a passage; changed whenever it does (windows-1: a long answer's windows).
ROW_RECIPE = "windows-1"


def row_specs(passages: list[Passage]) -> list[RowSpec]:
    """The vectors a set of passages needs: title + answer for every passage, and the title alone
    (embedded as a query, for question-to-question matching) wherever it differs from the body; each
    alternate question is another title row; a long answer's windows, each with the title (`answer_windows`)."""
    specs = []
    for i, passage in enumerate(passages):
        specs.append(RowSpec(i, FIELD_BODY, passage.embedding_text, as_query=False))
        if passage.title and passage.title != passage.embedding_text:
            specs.append(RowSpec(i, FIELD_TITLE, passage.title, as_query=True))
        specs.extend(RowSpec(i, FIELD_TITLE, question, as_query=True) for question in passage.alternates)
        if passage.lang in WINDOW_LANGUAGES:
            specs.extend(RowSpec(i, FIELD_WINDOW, f"{passage.title}\n{window}", as_query=False)
                         for window in answer_windows(passage.answer))
    return specs


def corpus_hash(passages: list[Passage]) -> str:
    """Order-independent hash of every passage's content and alternate questions, and of `ROW_RECIPE`: a build
    whose vectors were made by an earlier recipe is not current (its texts' vectors are reused)."""
    keys = sorted(p.hash + "\x1f".join(("", *p.alternates)) for p in passages)
    return hashlib.sha256((ROW_RECIPE + "".join(keys)).encode()).hexdigest()[:32]


def vector_rows(specs: list[RowSpec]) -> VectorRows:
    """The `VectorRows` of a build holding these specs' vectors, in order."""
    return VectorRows(
        np.array([s.passage for s in specs], dtype=np.int64),
        np.array([s.field for s in specs], dtype=np.int8),
        [s.key for s in specs],
    )


def build_is_current(root: Path, corpus_key: str, embedder: str,
                     calibrated_with: Mapping[str, str] | None = None) -> bool:
    """Whether the current build under `root` holds the corpus with that hash, embedded by `embedder` (and
    self-calibrated with these values in its manifest's calibration, when given: the model's fingerprint,
    the method); False when there is none or it cannot be read."""
    try:
        build = current_build(root)
        if build is None:
            return False
        manifest = read_manifest(build)
    except (IndexLoadError, OSError):
        return False
    calibration = manifest.calibration or {}
    return (manifest.corpus_hash == corpus_key and manifest.embedder == embedder
            and all(calibration.get(key) == value for key, value in (calibrated_with or {}).items()))


def build_lock(root: Path) -> FileLock:
    """The lock that serialises builds of one index folder across processes and threads: `with build_lock(root):`."""
    root.mkdir(parents=True, exist_ok=True)
    return FileLock(root / ".lock")


def build_index(
    passages: list[Passage],
    root: Path,
    embedder: Embedder,
    progress: ProgressFactory | None = None,
    calibrate: Calibrator | None = None,
    target: BuildTarget | None = None,
    lexicon: Lexicon | None = None,
) -> BuildReport:
    """Embed, index and atomically publish `passages` as the current build under `root`, or in `target`
    (e.g. Milvus) when given; `root` then only holds the lock that serialises builds.

    `calibrate` sees the complete build before it is published, and what it returns is recorded in
    the manifest (`calibration`: in the folder, or with the collection in Milvus, where replicas read it);
    a calibrator that fails leaves the current build serving. The
    keyword side reads with `lexicon` (user words, synonyms), which the manifest records for the queries.
    """
    if not passages:
        raise ValueError("no passages to index")
    started = time.perf_counter()
    with build_lock(root):
        cache = target.previous_vectors(embedder.name, embedder.dim) if target else previous_vectors(root, embedder)
        specs = row_specs(passages)
        vectors = np.zeros((len(specs), embedder.dim), dtype=np.float32)
        todo = [i for i, spec in enumerate(specs) if spec.key not in cache]
        for i, spec in enumerate(specs):
            if spec.key in cache:
                vectors[i] = cache[spec.key]
        embed_started = time.perf_counter()
        _embed_rows(embedder, specs, todo, vectors, progress)
        embed_seconds = time.perf_counter() - embed_started
        build, calibration = _publish(root, passages, vectors, vector_rows(specs), embedder, calibrate=calibrate,
                                      lexicon=lexicon, target=target)
    return BuildReport(
        build=build,
        passages=len(passages),
        vectors=len(specs),
        embedded=len(todo),
        reused=len(specs) - len(todo),
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        calibration=calibration,
    )


def publish_build(root: Path, passages: list[Passage], vectors: np.ndarray, rows: VectorRows, embedder: Embedder,
                  corpus_key: str | None = None) -> Path:
    """Write passages with vectors already computed (row i of `vectors` described by `rows`) as a build and
    make it current, under the build lock; `corpus_key` replaces the corpus hash in the manifest."""
    if not passages:
        raise ValueError("no passages to index")
    if len(vectors) != len(rows.passage):
        raise ValueError(f"{len(vectors)} vectors for {len(rows.passage)} rows")
    with build_lock(root):
        build, _ = _publish(root, passages, vectors, rows, embedder, corpus_key)
    return Path(build)


def _publish(root: Path, passages: list[Passage], vectors: np.ndarray, rows: VectorRows, embedder: Embedder,
             corpus_key: str | None = None, calibrate: Calibrator | None = None, lexicon: Lexicon | None = None,
             target: BuildTarget | None = None) -> tuple[Path | str, dict[str, Any] | None]:
    """The one build writer: keyword index, manifest, atomic write, then `CURRENT` (caller holds the lock);
    with a `target`, the build is published there instead (a Milvus collection behind an alias). Returns the
    build and its calibration."""
    lexicon = lexicon or Lexicon()
    keyword = KeywordIndex.build([p.keyword_text for p in passages], Tokenizer.for_words(lexicon.words))
    built_at = datetime.now(UTC)
    build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        embedder=embedder.name,
        dim=embedder.dim,
        corpus_hash=corpus_key or corpus_hash(passages),
        passage_count=len(passages),
        vector_count=len(vectors),
        built_at=built_at.isoformat(timespec="seconds"),
        build_id=build_id,
        dictionary=lexicon.words,
        synonyms=lexicon.synonyms,
    )
    if target is not None:
        if calibrate is not None:  # the complete build, held in memory as a folder build would load it
            in_memory = LoadedBuild(root, manifest, passages, vectors, rows, keyword)
            manifest = replace(manifest, calibration=calibrate(in_memory))
        return target.publish(manifest, passages, {embedder.name: vectors}, rows, keyword), manifest.calibration
    build = write_build(root, build_id, manifest, passages, vectors, rows, keyword, calibrate)
    make_current(root, build)
    return build, read_manifest(build).calibration


def _embed_rows(embedder: Embedder, specs: list[RowSpec], todo: list[int], vectors: np.ndarray,
                progress: ProgressFactory | None) -> None:
    bar = progress(len(todo), f"embedding with {embedder.name}") if progress and todo else None
    for as_query in (False, True):
        rows = [i for i in todo if specs[i].as_query is as_query]
        if isinstance(embedder, BulkEmbedder):  # e.g. spread over a Ray cluster (index/ray_embedding.py)
            vectors[rows] = embedder.embed_many([specs[i].text for i in rows], as_query, bar.update if bar else None)
            continue
        embed = embedder.embed_queries if as_query else embedder.embed_passages
        for start in range(0, len(rows), EMBED_BATCH):
            batch = rows[start:start + EMBED_BATCH]
            vectors[batch] = embed([specs[i].text for i in batch])
            if bar:
                bar.update(len(batch))
    if bar:
        bar.close()


def previous_vectors(root: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """Vectors of the current build under `root` by text key, when it was made by the same embedder (empty
    when there is none or it cannot be used)."""
    try:
        build = current_build(root)
        if build is None:
            return {}
        previous = LoadedBuild.load_build(build, embedder=embedder.name, dim=embedder.dim)
    except (IndexLoadError, OSError):
        return {}
    return dict(zip(previous.rows.text_key, previous.vectors, strict=True))
