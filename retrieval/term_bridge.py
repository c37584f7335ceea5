"""Words of a question that a Chinese corpus never uses, read as the corpus's own words.

An English question to a Chinese FAQ shares no keyword with it: BM25 and the keyword features see nothing, and
the cosine alone ranks and decides. The multilingual USE embeds single words across languages well ("phone" →
手机 0.84, "cancel" → 取消 0.86, "customer" → 客户 0.91, the next corpus word at 0.4–0.5), so each Latin-script
word of a question that no passage uses is replaced by the corpus's Han word nearest to it, when their cosine
reaches `MIN_COSINE`. Built only for a corpus mostly in Chinese; the words and their vectors are cached on disk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from index.embedders import Embedder, UnknownEmbedderError, make_embedder
from index.searchable import SearchableBuild
from retrieval.embedding_cache import cached_array, cached_embeddings

log = logging.getLogger(__name__)

WORD_EMBEDDER = "use"
MIN_COSINE = 0.6
MIN_CHINESE_SHARE = 0.5  # of the passages: below it the corpus has its own English words
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z][a-z'-]{2,}")


@dataclass(frozen=True, slots=True)
class TermBridge:
    """The corpus's Han words (two characters or more) and their vectors in the word embedder's space."""

    words: list[str]
    vectors: np.ndarray
    embedder: Embedder
    min_cosine: float = MIN_COSINE
    _nearest: Callable[[tuple[str, ...]], dict[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A follow-up's nouns are bridged again after its ranking bridged its tokens: the same words, read once.
        object.__setattr__(self, "_nearest", lru_cache(maxsize=1024)(self._read_as))

    def __call__(self, tokens: list[str], document_frequency: Callable[[list[str]], np.ndarray]) -> list[str]:
        """`tokens` with each Latin word that no passage uses replaced by the nearest corpus word, where one is
        near enough (`document_frequency`: the build's count of passages using each token)."""
        latin = sorted({token for token in tokens if _LATIN_WORD.fullmatch(token)})
        if not latin or not self.words:
            return tokens
        unknown = tuple(word for word, count in zip(latin, document_frequency(latin), strict=True) if count == 0)
        if not unknown:
            return tokens
        read_as = self._nearest(unknown)
        return [read_as.get(token, token) for token in tokens]

    def _read_as(self, unknown: tuple[str, ...]) -> dict[str, str]:
        """The corpus word each of `unknown` (embedded together) is read as, where one is near enough."""
        cosines = self.embedder.embed_queries(list(unknown)) @ self.vectors.T
        nearest = cosines.argmax(axis=1)
        return {word: self.words[j] for word, j, row in zip(unknown, nearest, cosines, strict=True)
                if row[j] >= self.min_cosine}


def corpus_words(index: SearchableBuild) -> list[str]:
    """The build's keyword tokens of two or more characters with a Han character, sorted."""
    return sorted({token for passage in index.passages for token in index.tokenize(passage.keyword_text)
                   if len(token) >= 2 and _HAN.search(token)})


def load_term_bridge(index: SearchableBuild, cache_dir: Path) -> TermBridge | None:
    """The bridge for a build mostly in Chinese (None otherwise, or when the word embedder is not installed)."""
    passages = index.passages
    if not passages or sum(p.lang == "zh" for p in passages) < MIN_CHINESE_SHARE * len(passages):
        return None
    try:
        embedder = word_embedder()
    except (UnknownEmbedderError, ImportError, OSError) as err:
        log.warning("English words are not read as the corpus's Chinese words: %s", err)
        return None
    words = cached_array(cache_dir, "term-bridge-words", index.build_id,
                         lambda: np.array(corpus_words(index), dtype=str),
                         lambda v: v.ndim == 1 and v.dtype.kind == "U").tolist()
    vectors = cached_embeddings(words, embedder.embed_passages, embedder.dim, cache_dir,
                                f"term-bridge-{embedder.name}")
    return TermBridge(words, vectors, embedder)


@cache
def word_embedder() -> Embedder:
    """The USE embedder, one per process whatever the number of builds that use it (the bridge, the second
    opinion); run once, so that the first question does not pay for starting its session."""
    embedder = make_embedder(WORD_EMBEDDER)
    embedder.embed_queries(["warm-up"])
    return embedder
