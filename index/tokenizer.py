"""Tokenisation for keyword search: jieba search-mode for Chinese, case-folded Latin terms.

Each build tokenises with its own `Tokenizer`: jieba's dictionary plus the build's user words (the
curation folder's dictionary.txt), so a build and the queries asked of it always segment alike.
Every distinct dictionary gets its own `jieba.Tokenizer` instance; jieba's global one is never changed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from functools import lru_cache

from index.noun_lexicon import dictionary_nouns
from ingest.curation import UserWord
from ingest.normalize import normalize_for_matching

# Function words that carry no topic; dropped from the keyword index and from queries.
_STOPWORD_TEXT = """
的 了 吗 呢 吧 啊 呀 么 嘛 是 在 和 与 及 或 也 都 就 还 又 把 被 让 给 对 从 到 向 有 没 没有
我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 哪 哪个 什么 怎么 怎样 如何 为什么 请问
一下 可以 能 能否 会 要 需要 应该 个 请 谢谢
a an the is are was were be been do does did to of in on at for and or with by from as it this
that what how why when where which who can could should would will my your i you we me please
if so there about ok okay s t d m ll re ve isn aren wasn weren don doesn didn haven hasn hadn won wouldn
couldn shouldn
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD_RE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


class Tokenizer:
    """Search-mode tokens: normalised, lower-cased, punctuation and stopwords dropped; user words kept whole."""

    def __init__(self, words: Sequence[UserWord] = ()) -> None:
        self.words = tuple(words)
        self._jieba = None
        self._lock = threading.Lock()
        # A curation word's own tag decides whether it is a noun.
        self._user_nouns = {normalize_for_matching(word): tag.startswith("n") for word, _, tag in self.words if tag}

    @classmethod
    def for_words(cls, words: Sequence[UserWord] = ()) -> Tokenizer:
        """The shared tokenizer of this user dictionary (one jieba instance per distinct dictionary)."""
        return _shared(tuple(tuple(word) for word in words))  # type: ignore[arg-type]

    def _segmenter(self):  # type: ignore[no-untyped-def]
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    segmenter = jieba.Tokenizer()
                    segmenter.initialize()
                    for word, frequency, tag in self.words:
                        # Texts are normalised (lower-cased) before segmentation, so the words are too.
                        segmenter.add_word(normalize_for_matching(word), frequency, tag)
                    self._jieba = segmenter
        return self._jieba

    def warm_up(self) -> None:
        """Load the dictionary and the nouns now rather than on the first request."""
        self.nouns(self.tokenize("预热"))

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens of `text`."""
        normalized = normalize_for_matching(text)
        return [
            token
            for raw in self._segmenter().cut_for_search(normalized)
            if (token := raw.strip()) and _WORD_RE.search(token) and token not in STOPWORDS
        ]

    def nouns(self, tokens: list[str]) -> list[str]:
        """The tokens (from `tokenize`) that are nouns: tagged so by the curation dictionary or, untagged there,
        by jieba's. Latin words have no part of speech here, so every one counts."""
        return [token for token in tokens if not _CJK_RE.search(token) or self._is_noun(token)]

    def _is_noun(self, token: str) -> bool:
        tagged = self._user_nouns.get(token)
        return tagged if tagged is not None else token in dictionary_nouns()

    def tokenize_many(self, texts: list[str]) -> list[list[str]]:
        """`tokenize` for each text."""
        return [self.tokenize(text) for text in texts]


@lru_cache(maxsize=4)
def _shared(words: tuple[UserWord, ...]) -> Tokenizer:
    return Tokenizer(words)


def warm_up() -> None:
    """Load jieba's dictionary (of the tokenizer without user words) now rather than on the first request."""
    Tokenizer.for_words().warm_up()


def tokenize(text: str) -> list[str]:
    """Tokens of `text` with jieba's dictionary alone."""
    return Tokenizer.for_words().tokenize(text)
