"""Tokenisation for keyword search: jieba search-mode for Chinese, case-folded Latin terms."""

from __future__ import annotations

import logging
import re
from functools import cache

from ingest.normalize import normalize_for_matching

# Function words that carry no topic; dropped from the keyword index and from queries.
_STOPWORD_TEXT = """
的 了 吗 呢 吧 啊 呀 么 嘛 是 在 和 与 及 或 也 都 就 还 又 把 被 让 给 对 从 到 向 有 没 没有
我 你 您 他 她 它 我们 你们 他们 这 那 这个 那个 哪 哪个 什么 怎么 怎样 如何 为什么 请问
一下 可以 能 能否 会 要 需要 应该 个 请 谢谢
a an the is are was were be been do does did to of in on at for and or with by from as it this
that what how why when where which who can could should would will my your i you we me please
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD_RE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")


@cache
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first request."""
    _jieba()


def tokenize(text: str) -> list[str]:
    """Search-mode tokens of `text`: normalised, lower-cased, punctuation and stopwords dropped."""
    normalized = normalize_for_matching(text)
    return [
        token
        for raw in _jieba().cut_for_search(normalized)
        if (token := raw.strip()) and _WORD_RE.search(token) and token not in STOPWORDS
    ]


def tokenize_many(texts: list[str]) -> list[list[str]]:
    """`tokenize` for each text."""
    return [tokenize(text) for text in texts]
