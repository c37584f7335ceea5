"""Question sets (JSONL) and the rule that decides whether a cited passage is the right one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ingest.normalize import normalize_for_matching
from ingest.passage import Passage


@dataclass(frozen=True, slots=True)
class Question:
    """One evaluation question; `expected` None means it must be refused."""

    question: str
    expected: tuple[str, ...] | None
    history: tuple[tuple[str, str], ...]
    kind: str
    match: str = "substring"

    @property
    def answerable(self) -> bool:
        """True when the knowledge base holds the answer."""
        return self.expected is not None


MATCH_MODES = ("substring", "title")


class QuestionSetError(ValueError):
    """A question file line is not in the documented format."""


def load_questions(path: Path) -> list[Question]:
    """Read a question set: `{"question", "expected": [str] | null, "history"?, "kind", "match"?}` per line.

    `match` is "substring" (default: an expected string occurs in the passage's title or text) or
    "title" (an expected string is the passage's whole title), for corpora of near-identical entries.
    """
    questions = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            expected = data.get("expected")
            questions.append(Question(
                question=str(data["question"]),
                expected=None if expected is None else tuple(str(e) for e in expected),
                history=tuple((str(t["question"]), str(t.get("answer", ""))) for t in data.get("history") or ()),
                kind=str(data.get("kind", "default")),
                match=str(data.get("match", "substring")),
            ))
            if questions[-1].match not in MATCH_MODES:
                raise QuestionSetError(f"{path}:{number}: match must be one of {MATCH_MODES}")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise QuestionSetError(f"{path}:{number}: {err}") from err
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions


def is_match(passage: Passage, expected: tuple[str, ...], match: str = "substring") -> bool:
    """True when the passage's title or text contains one of the expected strings (normalised);
    with `match="title"`, when its whole title equals one of them."""
    if match == "title":
        title = normalize_for_matching(passage.title)
        return any(normalize_for_matching(e) == title for e in expected if e.strip())
    text = normalize_for_matching(f"{passage.title}\n{passage.answer}")
    return any(normalize_for_matching(e) in text for e in expected if e.strip())
