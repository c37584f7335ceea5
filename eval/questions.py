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

    @property
    def answerable(self) -> bool:
        """True when the knowledge base holds the answer."""
        return self.expected is not None


class QuestionSetError(ValueError):
    """A question file line is not in the documented format."""


def load_questions(path: Path) -> list[Question]:
    """Read a question set: `{"question", "expected": [str] | null, "history"?, "kind"}` per line."""
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
            ))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise QuestionSetError(f"{path}:{number}: {err}") from err
    if not questions:
        raise QuestionSetError(f"{path}: no questions")
    return questions


def is_match(passage: Passage, expected: tuple[str, ...]) -> bool:
    """True when the passage's title or text contains one of the expected strings (normalised)."""
    text = normalize_for_matching(f"{passage.title}\n{passage.answer}")
    return any(normalize_for_matching(e) in text for e in expected if e.strip())
