"""The names a "is X supported?" question asks about, and whether a passage names them.

"cdn支持http3和quic协议吗" was answered at 0.77 with "CDN 支持非 HTTP 协议加速吗？", and "Is there a Partner Center
mobile app for iPhone or Android?" at 0.95 with "Partner Center Login". Neither passage names what was asked about.
A question that asks whether something is supported, or whether there is one, asks about the thing it names. A
help center that never uses the name cannot say yes or no.
- The names are the Latin-script terms of such a question: every one in a Chinese question ("HTTP3", "QUIC"); in an
  English one, the words written as names ("iPhone", "HTTP/2", "TLS", "Android" mid-sentence).
- A passage names a term when its title or answer holds it, or its singular ("PSMs").
- A name the corpus uses somewhere is not held against the top passage: the help center's own names ("Tencent", in
  the address of a console page) are seldom repeated in the passage that answers.
- A name no passage uses still counts as named when the top passage holds the word the term bridge reads it as
  ("iPhone" read as 手机).
- Question-only passages are exempt, as for answer kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from ingest.normalize import normalize_for_matching
from ingest.passage import Passage

_ASKS_SUPPORT = re.compile(
    r"支持[^，,。？?！!]*吗|是否支持|支不支持|有没有|能不能用|可以用[^，,。？?！!]*吗"
    r"|\b(?:is|are) there\b|\bsupports?\b|\bsupported\b|\bcan (?:i|we) use\b|\bavailable (?:for|on|in)\b",
    re.IGNORECASE)
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['./+-][A-Za-z0-9]+)*")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def named_terms(question: str) -> tuple[str, ...]:
    """The names a question asks to be supported or to exist (casefolded); empty for any other question."""
    if not _ASKS_SUPPORT.search(question):
        return ()
    chinese = bool(_HAN.search(question))
    terms = [match.group(0).casefold() for match in _TERM.finditer(question)
             if len(match.group(0)) >= 2 and (chinese or _written_as_name(match.group(0), match.start() == 0))]
    return tuple(dict.fromkeys(terms))


def unnamed_terms(question: str, passage: Passage, document_frequency: Callable[[list[str]], np.ndarray],
                  read_as: Callable[[list[str]], list[str]] | None = None) -> tuple[str, ...]:
    """The names the question asks about that no passage of the corpus uses (`document_frequency`: the build's count
    of passages using each token) and that `passage` does not name either, as itself or as the word `read_as` (the
    term bridge) reads it as."""
    terms = named_terms(question)
    if not terms or passage.is_question_only:
        return ()
    text = _named_text(passage)
    missing = [term for term in terms if not _names(text, term)]
    if missing:
        missing = [term for term, count in zip(missing, document_frequency(missing), strict=True) if count == 0]
    if missing and read_as is not None:
        missing = [term for term, read in zip(missing, read_as(missing), strict=True) if read not in text]
    return tuple(missing)


def _names(text: str, term: str) -> bool:
    """`text` holds the term, or its singular ("PSMs" → "psm")."""
    return term in text or (len(term) > 2 and term.endswith("s") and term[:-1] in text)


def _written_as_name(word: str, first: bool) -> bool:
    """An English word written as a name: with a digit, a capital inside, or a capital not at the start."""
    return (any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:])
            or (word[0].isupper() and not first))


@lru_cache(maxsize=4096)
def _named_text(passage: Passage) -> str:
    return normalize_for_matching(f"{passage.title}\n{passage.answer}").casefold()
