"""A second opinion on the top passage: does an independent embedder pick the same one among the candidates?

The ranking leans on multilingual-e5. The multilingual USE, the other embedder that ships, was trained apart
from it; when it reads the question and the ranking's first candidates (title and answer) and scores the same
passage highest, the answer is more often right than when it prefers a neighbour. The abstention model weighs
that agreement as one of its decision features. (A margin in its place, USE's cosine of the top minus its best of
the others, separated right from wrong as well but set the model's threshold lower: more answers, more of them
wrong; docs/evaluation.md, "Tenth pass".) Each passage's USE vector (title and answer, as the passage is
embedded) is computed once and cached on disk as float16, so a new build embeds only its new texts; only the few
candidates of a question are ever compared.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.embedders import Embedder, UnknownEmbedderError
from index.searchable import SearchableBuild
from retrieval.embedding_cache import cache_lock, store_atomically
from retrieval.term_bridge import word_embedder

log = logging.getLogger(__name__)

CANDIDATES = 10  # the ranking's first passages the second opinion chooses among
DIGEST_BYTES = 16  # of a passage text's SHA-256: the key its vector is stored under
KEEP_BUILDS = 3  # stored builds' vectors kept in the cache (a service may still answer from an older build)


@dataclass(frozen=True, slots=True)
class SecondOpinion:
    """Every passage's vector in the second embedder's space (row i: passage i)."""

    vectors: np.ndarray  # float16 unit rows
    embedder: Embedder
    _embed: Callable[[str], np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_embed", lru_cache(maxsize=256)(self._vector))

    def agrees(self, question: str, candidates: Sequence[int]) -> float:
        """1.0 when the second embedder scores the first of `candidates` highest among them, else 0.0 (NaN with
        nothing to compare it to)."""
        if len(candidates) < 2:
            return math.nan
        chosen = list(candidates[:CANDIDATES])
        cosines = self.vectors[chosen].astype(np.float32) @ self._embed(question)
        return float(cosines[0] >= cosines[1:].max())

    def _vector(self, question: str) -> np.ndarray:
        return self.embedder.embed_queries([question])[0]


def load_second_opinion(index: SearchableBuild, cache_dir: Path) -> SecondOpinion | None:
    """The second opinion on a build (None when the second embedder is not installed: the feature is then left to
    the model's mean, as if unmeasured)."""
    try:
        embedder = word_embedder()
    except (UnknownEmbedderError, ImportError, OSError) as err:
        log.warning("no second opinion on the top passage: %s", err)
        return None
    return SecondOpinion(passage_vectors([p.embedding_text for p in index.passages], embedder, cache_dir), embedder)


def passage_vectors(texts: list[str], embedder: Embedder, cache_dir: Path) -> np.ndarray:
    """The vectors of `texts` (float16 rows), from the cache when a build of the same texts stored them.

    Stored per build, each row under its text's digest: a new build embeds only the texts no stored build had (an
    edited page costs its passages, not the corpus). The newest `KEEP_BUILDS` are kept.
    Each text is embedded alone (3.6 ms a passage, against 3.3 ms in batches): batched, a vector moved with its
    batch-mates (cosine down to 0.991), so the same passage could get another second opinion in another build.
    """
    keys = np.array([hashlib.sha256(text.encode("utf-8")).digest()[:DIGEST_BYTES] for text in texts],
                    dtype=f"S{DIGEST_BYTES}")
    prefix = f"second-opinion-{embedder.name}-"
    path = cache_dir / f"{prefix}{hashlib.sha256(keys.tobytes()).hexdigest()[:16]}.npz"
    shape = (len(texts), embedder.dim)
    if (stored := _stored(path, keys, shape)) is not None:
        return stored
    # One process embeds, those starting beside it wait and read its file (or reuse its rows for another build).
    with cache_lock(cache_dir / f"second-opinion-{embedder.name}.lock"):
        if (stored := _stored(path, keys, shape)) is not None:
            return stored
        known: dict[bytes, np.ndarray] = {}
        for earlier in _stored_builds(cache_dir, prefix):  # the newest last: its rows win
            if (previous := _read(earlier)) is not None and previous[1].shape[1:] == shape[1:]:
                known.update(zip(previous[0].tolist(), previous[1], strict=True))
        vectors = np.zeros(shape, dtype=np.float16)
        todo = [i for i, key in enumerate(keys.tolist()) if key not in known]
        for i, key in enumerate(keys.tolist()):
            if key in known:
                vectors[i] = known[key]
        for i in todo:  # one at a time: USE quantizes per batch, and alone a text's vector is the same in every build
            vectors[i] = embedder.embed_passages([texts[i]])[0]
        _write(path, keys, vectors, prefix)
    return vectors


def _stored(path: Path, keys: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The vectors stored at `path`, when they are those of `keys`."""
    stored = _read(path)
    if stored is not None and stored[1].shape == shape and np.array_equal(stored[0], keys):
        return stored[1]
    return None


def _stored_builds(cache_dir: Path, prefix: str) -> list[Path]:
    """The builds' files stored under `prefix`, oldest first (not those of an embedder whose name merely starts with
    this one's: `use-large` beside `use`)."""
    return sorted(cache_dir.glob(f"{glob.escape(prefix)}{'[0-9a-f]' * 16}.npz"), key=_mtime)


def _read(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
    except (OSError, ValueError, KeyError):
        return None  # missing or unreadable: embedded again
    if vectors.dtype != np.float16 or vectors.ndim != 2 or len(keys) != len(vectors):
        return None
    return keys, vectors


def _write(path: Path, keys: np.ndarray, vectors: np.ndarray, prefix: str) -> None:
    """Store atomically, then drop all but the newest `KEEP_BUILDS`; a read-only or full cache costs the next start
    the embedding, nothing else."""
    if not store_atomically(path, lambda handle: np.savez(handle, keys=keys, vectors=vectors)):
        return
    try:
        for old in _stored_builds(path.parent, prefix)[:-KEEP_BUILDS]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
