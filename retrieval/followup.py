"""Follow-ups decided, not blended: does a question lean on the conversation, or stand alone?

A question leans on the conversation when it is elliptical: it opens like a continuation ("那…",
"还有…", "and what about…"), ends on a bare "…呢", points back ("它", "this", "it"), or is a
fragment too short to name its own subject ("超时了会怎样", "要多久?"). Only such a question is read
joined to the previous one; a question that stands alone keeps its own reading, so a topic switch
gets its own answer and an off-topic question is refused whatever came before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.passage import detect_lang

_ZH_OPENERS = re.compile(r"^\s*(那么?|那如果|那要是|还有|另外|然后|此外|以及|并且|而且)")
_ZH_ENDS = re.compile(r"呢\s*[?？!！。.]*\s*$")
_ZH_POINTERS = re.compile(r"(它们?|上述|上面|刚才|前面|之前说的|这种情况|这样的话|这个|那个|该(?=[\u4e00-\u9fff]))")
_EN_OPENERS = re.compile(r"^\s*(and|also|so|then|what about|how about|what if|but)\b", re.IGNORECASE)
_EN_POINTERS = re.compile(r"\b(it|its|that|this|they|them|those|these|there)\b", re.IGNORECASE)
# A fragment: at most this many keyword tokens and this many characters (Chinese) or words (English).
FRAGMENT_TOKENS = 2
FRAGMENT_CHARS = 12
FRAGMENT_WORDS = 5


def is_elliptical(question: str, tokens: list[str]) -> bool:
    """Whether the question reads as a continuation of the conversation rather than on its own."""
    if detect_lang(question) == "en":
        words = re.findall(r"[A-Za-z']+", question)
        return bool(_EN_OPENERS.search(question) or _EN_POINTERS.search(question)
                    or (len(tokens) <= FRAGMENT_TOKENS and len(words) <= FRAGMENT_WORDS))
    if _ZH_OPENERS.search(question) or _ZH_ENDS.search(question) or _ZH_POINTERS.search(question):
        return True
    return len(tokens) <= FRAGMENT_TOKENS and len(question.strip()) <= FRAGMENT_CHARS


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read the question: the text that is ranked, and whether it takes in the conversation.

    `anchor` is the conversation's last self-standing question, the one that set its topic (None when
    the question is read alone).
    """

    text: str
    used_history: bool
    anchor: str | None = None


def joined_reading(question: str, history: list[tuple[str, str]], tokens_of: Callable[[str], list[str]]) -> Reading:
    """The question read after the conversation's last self-standing question (and what followed it)."""
    previous = [q for q, _ in history if q.strip()]
    context: list[str] = []
    for earlier in reversed(previous):
        context.insert(0, earlier)
        if not is_elliptical(earlier, tokens_of(earlier)) or len(context) == 2:
            break
    return Reading(" ".join([*context, question]), True, context[0] if context else None)
