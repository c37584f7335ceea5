"""BM25 over character bigrams (bm25s): a keyword signal that needs no word segmentation.

Chinese paraphrases often share characters but not jieba's words ("撞单" / "撞了", "开票" / "开发票"), so
passages are also scored by the overlapping pairs of Han characters. Latin words are left to the word index:
counted here too, they would only weigh twice. The analyzer lives here, saved with the index it made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from ingest.normalize import normalize_for_matching
from ingest.passage import Passage

logging.getLogger("bm25s").setLevel(logging.WARNING)

_HAN_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def character_bigrams(text: str) -> list[str]:
    """The analyzer: each Han run of the normalised text as its overlapping character pairs (a lone character as
    itself); nothing else."""
    terms: list[str] = []
    for run in _HAN_RUNS.findall(normalize_for_matching(text)):
        terms.extend([run[i:i + 2] for i in range(len(run) - 1)] or [run])
    return terms


class CharacterBigramIndex:
    """BM25 over `character_bigrams` of passage texts; row i of the index is passage i."""

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self._bm25 = bm25
        self.size = size

    @classmethod
    def for_passages(cls, passages: Sequence[Passage]) -> CharacterBigramIndex:
        """Index the passages' keyword texts: what every build, saved or made at load, indexes."""
        return cls.build([p.keyword_text for p in passages])

    @classmethod
    def build(cls, texts: list[str]) -> CharacterBigramIndex:
        """Index `texts`, one per passage, in passage order."""
        bm25 = bm25s.BM25()
        # bm25s needs at least one term per document to keep rows aligned.
        bm25.index([character_bigrams(text) or ["\x00"] for text in texts], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for the bigrams of `text` (terms the corpus never uses ignored)."""
        known = [term for term in character_bigrams(text) if term in self._bm25.vocab_dict]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Write the index files into `folder` (numpy arrays and JSON, no pickle)."""
        self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> CharacterBigramIndex:
        """Read an index written by `save`, refusing pickled arrays."""
        return cls(bm25s.BM25.load(str(folder), mmap=False, allow_pickle=False), size)
