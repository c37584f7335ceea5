"""The background: questions no help center answers, shipped with the product, embedded once per embedder.

A question that sits closer to everyday chit-chat than to anything in the corpus is off-topic,
whatever the raw cosine says: the abstention features and the follow-up decision both measure the
top passage against the nearest background question. Vectors are cached on disk per embedder and
text set (written atomically), so only the first start of an embedder pays for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embedders import Embedder
from ingest.passage import detect_lang
from retrieval.embedding_cache import cached_embeddings

BACKGROUND_FILE = Path(__file__).resolve().parent / "background" / "offtopic.txt"


def background_questions(path: Path = BACKGROUND_FILE) -> list[str]:
    """The questions of a background file: one a line, `#` comments and blank lines skipped."""
    lines = (line.strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass(frozen=True, slots=True)
class Background:
    """Background questions and their unit vectors in one embedder's space."""

    questions: list[str]
    vectors: np.ndarray
    languages: np.ndarray = field(init=False, repr=False)  # of each question, as `detect_lang` tells

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", np.array([detect_lang(q) for q in self.questions], dtype=str))

    def best_cosine(self, vector: np.ndarray, exclude: int | None = None, language: str | None = None) -> float:
        """The cosine of the nearest background question (leaving out question `exclude`), among those in
        `language` when there are any: a multilingual embedder scores text in the question's own language higher,
        so an English question to a Chinese passage is measured against the Chinese background, not the English."""
        if not len(self.vectors):
            return -1.0
        cosines = self.vectors @ vector
        candidates = np.ones(cosines.size, dtype=bool)
        if exclude is not None:
            candidates[exclude] = False
        if language is not None and (same := candidates & (self.languages == language)).any():
            candidates = same
        return float(cosines[candidates].max()) if candidates.any() else -1.0


def load_background(embedder: Embedder, cache_dir: Path, path: Path = BACKGROUND_FILE) -> Background:
    """The background embedded by `embedder`, from the cache under `cache_dir` when it holds it."""
    questions = background_questions(path)
    vectors = cached_embeddings(questions, embedder.embed_queries, embedder.dim, cache_dir,
                                f"background-{embedder.name}")
    return Background(questions, vectors)
