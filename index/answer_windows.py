"""Windows of a long answer: each is embedded with the passage's title, as a vector of its own.

An embedder reads about 512 tokens and sums up what it reads in one vector, so a question about one detail of a
long documentation section ("账单每月几号生成?", asked of a section on viewing bills) sits far from the section's
vector, and the part past the embedder's limit is never read at all. An answer longer than a window also gets one
vector per window of consecutive sentences; a passage scores its best vector, as it does its title's.

Only Chinese answers get windows (300 characters, about 250 of the embedder's tokens). English ones were measured
with windows of 300 and of 1,200 characters (docs/evaluation.md, "Thirteenth pass"): on the English guide they
ranked better, but changed which held-out headings self-calibration counts as unanswerable, the English bar fell
from 0.84 to 0.59–0.68, and the answers given were less often right.
"""

from __future__ import annotations

import re

WINDOW_CHARS = 300
WINDOW_LANGUAGES = frozenset({"zh"})  # the passage languages whose long answers get windows
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=\.)\s")


def answer_windows(answer: str, size: int = WINDOW_CHARS) -> list[str]:
    """`answer`'s sentences packed in order into windows of at most `size` characters (a longer sentence is cut);
    none for an answer of `size` characters or fewer, whose body vector reads it whole."""
    if len(answer) <= size:
        return []
    pieces = [sentence[start:start + size] for sentence in (s.strip() for s in _SENTENCE_END.split(answer)) if sentence
              for start in range(0, len(sentence), size)]
    windows: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > size:
            windows.append(current)
            current = ""
        current = f"{current} {piece}" if current else piece
    if current:
        windows.append(current)
    return windows
