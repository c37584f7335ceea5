"""The on-disk index: one folder of immutable builds and a `CURRENT` pointer swapped atomically.

    <root>/CURRENT                 name of the active build (replaced with os.replace)
    <root>/builds/<id>/manifest.json, passages.jsonl, vectors.npy, rows.json, keyword/, bigrams/
                                   [vectors.hnsw: FAISS HNSW graph, above 20,000 vectors]

A build is written under a temporary name and renamed into place before `CURRENT` moves, so a
crash at any point leaves the previous build serving. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.bigram_index import CharacterBigramIndex
from index.keyword_index import KeywordIndex
from index.searchable import PassageVectors
from index.synonyms import Synonyms
from index.tokenizer import Tokenizer
from index.vector_store import (
    FIELD_BODY,
    GRAPH_FILE,
    DenseHits,
    VectorStore,
    build_graph,
    needs_graph,
    read_graph,
    write_graph,
)
from ingest.passage import Passage

FORMAT_VERSION = 1
CURRENT = "CURRENT"
BUILDS = "builds"
REQUIRED_FILES = ("manifest.json", "passages.jsonl", "vectors.npy", "rows.json", "keyword")
BIGRAMS = "bigrams"  # optional: builds written before it get one made from their passages


class IndexLoadError(RuntimeError):
    """The index folder is missing, corrupted or does not fit the configured embedder."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a build holds and how it was made."""

    format_version: int
    embedder: str
    dim: int
    corpus_hash: str
    passage_count: int
    vector_count: int
    built_at: str
    build_id: str
    calibration: dict[str, Any] | None = None  # the answer threshold fitted on the build itself, if any
    # The keyword side's lexicon (curation's dictionary.txt and synonyms.txt): queries read it too.
    dictionary: tuple[tuple[str, int | None, str | None], ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Inverse of `dataclasses.asdict` after a JSON round trip (lists become tuples)."""
        return cls(**{
            **data,
            "dictionary": tuple(tuple(word) for word in data.get("dictionary", ())),
            "synonyms": tuple(tuple(group) for group in data.get("synonyms", ())),
        })


@dataclass(frozen=True, slots=True)
class VectorRows:
    """For each vector row: its passage, its field and the hash of the text that was embedded."""

    passage: np.ndarray
    field: np.ndarray
    text_key: list[str]


class LoadedBuild:
    """An opened, fully loaded build: passages, vectors and keyword index, read-only."""

    def __init__(self, path: Path, manifest: Manifest, passages: list[Passage], vectors: np.ndarray,
                 rows: VectorRows, keyword: KeywordIndex, graph: faiss.IndexHNSWFlat | None = None,
                 bigrams: CharacterBigramIndex | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self.passages = passages
        self.vectors = vectors
        self.rows = rows
        self.keyword = keyword
        if bigrams is None:  # a build written before the bigram index existed: made from its passages
            bigrams = CharacterBigramIndex.for_passages(passages)
        self.bigrams = bigrams
        self.tokenizer = Tokenizer.for_words(manifest.dictionary)
        self.synonyms = Synonyms(manifest.synonyms, self.tokenizer)
        self.store = VectorStore(vectors, rows.passage, rows.field, graph)
        self.by_id = {passage.id: i for i, passage in enumerate(passages)}
        self._rows_of: list[list[int]] = [[] for _ in passages]
        for row, passage in enumerate(rows.passage.tolist()):
            self._rows_of[passage].append(row)
        body = rows.field == FIELD_BODY
        self._centroid = vectors[body].mean(axis=0) if body.any() else None

    @classmethod
    def open(cls, root: Path, embedder: str | None = None, dim: int | None = None) -> LoadedBuild:
        """Load the current build under `root`, checking it against the expected embedder and dimension."""
        build = current_build(root)
        if build is None:
            raise IndexLoadError(f"no index at {root}: run `faq ingest` first")
        return cls.load_build(build, embedder=embedder, dim=dim)

    @classmethod
    def load_build(cls, build: Path, embedder: str | None = None, dim: int | None = None) -> LoadedBuild:
        """Load one build folder, refusing anything incomplete or inconsistent."""
        missing = [name for name in REQUIRED_FILES if not (build / name).exists()]
        if missing:
            raise IndexLoadError(f"index at {build} is incomplete: missing {', '.join(missing)}")
        try:
            manifest = Manifest.from_dict(json.loads((build / "manifest.json").read_text("utf-8")))
            passages = [
                Passage.from_dict(json.loads(line))
                for line in (build / "passages.jsonl").read_text("utf-8").splitlines()
                if line
            ]
            vectors = np.load(build / "vectors.npy", allow_pickle=False)
            raw_rows = json.loads((build / "rows.json").read_text("utf-8"))
            rows = VectorRows(
                np.asarray(raw_rows["passage"], dtype=np.int64),
                np.asarray(raw_rows["field"], dtype=np.int8),
                list(raw_rows["text_key"]),
            )
            keyword = KeywordIndex.load(build / "keyword", len(passages))
            bigrams = CharacterBigramIndex.load(build / BIGRAMS, len(passages)) if (build / BIGRAMS).exists() else None
            graph_file = build / GRAPH_FILE
            graph = read_graph(graph_file, len(vectors), manifest.dim) if graph_file.exists() else None
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise IndexLoadError(f"index at {build} is corrupted: {err}") from err
        _check(build, manifest, passages, vectors, rows, embedder, dim)
        return cls(build, manifest, passages, vectors, rows, keyword, graph, bigrams)

    @property
    def build_id(self) -> str:
        """The build's id (the build folder's name, what `CURRENT` names)."""
        return self.manifest.build_id

    @property
    def spaces(self) -> tuple[str, ...]:
        """The vector spaces this build holds: its embedder's."""
        return (self.manifest.embedder,)

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with that id, if present."""
        row = self.by_id.get(passage_id)
        return None if row is None else self.passages[row]

    def tokenize(self, text: str) -> list[str]:
        """Keyword tokens of `text`, as the keyword index was tokenised (with the build's user dictionary)."""
        return self.tokenizer.tokenize(text)

    def nouns(self, tokens: list[str]) -> list[str]:
        """The keyword tokens that are nouns, by the build's user dictionary and jieba's."""
        return self.tokenizer.nouns(tokens)

    def with_synonyms(self, tokens: list[str]) -> list[str]:
        """A query's keyword tokens followed by the tokens of the synonyms of its terms."""
        return self.synonyms.expand(tokens)

    def bigram_scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for the character bigrams of `text`."""
        return self.bigrams.scores(text)

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for already-tokenised query terms."""
        return self.keyword.scores(tokens)

    def document_frequency(self, tokens: list[str]) -> np.ndarray:
        """How many passages contain each token (0 for a token the corpus never uses)."""
        return self.keyword.document_frequency(tokens)

    def dense_search(self, space: str, query: np.ndarray, k: int) -> DenseHits:
        """The passages of the top-k vectors, with their best cosine per field."""
        self._check_space(space)
        return self.store.search(query, k)

    def passage_vectors(self, space: str, passages: Sequence[int]) -> PassageVectors:
        """Every vector of these passages."""
        self._check_space(space)
        rows = [row for passage in passages for row in self._rows_of[passage]]
        return PassageVectors(self.rows.passage[rows], self.rows.field[rows], self.vectors[rows])

    def centroid(self, space: str) -> np.ndarray | None:
        """Mean of the body vectors."""
        self._check_space(space)
        return self._centroid

    def close(self) -> None:
        """Nothing to release: a folder build is arrays in memory, freed with the object."""

    def _check_space(self, space: str) -> None:
        if space not in self.spaces:
            raise KeyError(f"build {self.build_id} holds no vectors of {space!r} (only {', '.join(self.spaces)})")


def _check(build: Path, manifest: Manifest, passages: list[Passage], vectors: np.ndarray, rows: VectorRows,
           embedder: str | None, dim: int | None) -> None:
    problems = []
    if manifest.format_version != FORMAT_VERSION:
        problems.append(f"format version {manifest.format_version}, expected {FORMAT_VERSION}")
    if embedder is not None and manifest.embedder != embedder:
        problems.append(f"built with embedder {manifest.embedder!r}, configured {embedder!r}")
    if dim is not None and manifest.dim != dim:
        problems.append(f"vectors have dimension {manifest.dim}, the embedder gives {dim}")
    if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[1] != manifest.dim:
        problems.append(f"vectors.npy has shape {vectors.shape} {vectors.dtype}, expected (*, {manifest.dim})")
    if len(passages) != manifest.passage_count:
        problems.append(f"{len(passages)} passages, manifest says {manifest.passage_count}")
    if not (len(vectors) == len(rows.passage) == len(rows.field) == len(rows.text_key) == manifest.vector_count):
        problems.append("vector rows do not match the manifest")
    elif len(rows.passage) and (rows.passage.min() < 0 or rows.passage.max() >= len(passages)):
        problems.append("vector rows point outside the passages")
    if problems:
        raise IndexLoadError(f"index at {build} refused: " + "; ".join(problems))


def read_manifest(build: Path) -> Manifest:
    """The manifest of a build folder."""
    try:
        return Manifest.from_dict(json.loads((build / "manifest.json").read_text("utf-8")))
    except (OSError, ValueError, TypeError) as err:
        raise IndexLoadError(f"index at {build} is corrupted: {err}") from err


def current_build(root: Path) -> Path | None:
    """The build `CURRENT` points at, or None when there is none."""
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text("utf-8").strip()
    if not name or "/" in name or name.startswith("."):
        raise IndexLoadError(f"{pointer} is corrupted: {name!r}")
    return root / BUILDS / name


def write_build(root: Path, build_id: str, manifest: Manifest, passages: list[Passage], vectors: np.ndarray,
                rows: VectorRows, keyword: KeywordIndex,
                calibrate: Callable[[LoadedBuild], dict[str, Any]] | None = None) -> Path:
    """Write a complete build under a temporary name, then rename it into place (not yet current).

    `calibrate` is given the complete build, still under its temporary name; what it returns is
    recorded in the manifest. If it raises, the temporary build is removed and nothing is published.
    """
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / f".{build_id}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as out:
        for passage in passages:
            out.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    rows_json: dict[str, Any] = {
        "passage": rows.passage.tolist(), "field": rows.field.tolist(), "text_key": rows.text_key,
    }
    (tmp / "rows.json").write_text(json.dumps(rows_json), "utf-8")
    if needs_graph(len(vectors)):
        write_graph(build_graph(vectors), tmp / GRAPH_FILE)
    (tmp / "keyword").mkdir()
    keyword.save(tmp / "keyword")
    (tmp / BIGRAMS).mkdir()
    CharacterBigramIndex.for_passages(passages).save(tmp / BIGRAMS)
    # The manifest goes last: a build folder without one is never loaded.
    _write_manifest(tmp, manifest)
    if calibrate is not None:
        try:
            calibration = calibrate(LoadedBuild.load_build(tmp))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _write_manifest(tmp, replace(manifest, calibration=calibration))
    _fsync_tree(tmp)
    final = builds / build_id
    os.replace(tmp, final)
    return final


def make_current(root: Path, build: Path, keep: int = 2) -> None:
    """Atomically point `CURRENT` at `build`, then drop crashed builds and all but `keep` older ones."""
    pointer_tmp = root / f".{CURRENT}.tmp"
    pointer_tmp.write_text(build.name, "utf-8")
    with pointer_tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, root / CURRENT)
    others = [p for p in (root / BUILDS).iterdir() if p != build]
    # Hidden folders are leftovers of crashed builds (builds are serialised, so none is in progress).
    stale = [p for p in others if p.name.startswith(".")]
    previous = sorted((p for p in others if p not in stale), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stale + previous[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    partial = folder / ".manifest.json.tmp"
    partial.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), "utf-8")
    os.replace(partial, folder / "manifest.json")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
