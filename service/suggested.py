"""Questions the widget offers in its greeting: the ones most often found helpful, else one per topic."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.passage import Passage

TAIL_BYTES = 2 * 1024 * 1024  # only the newest records count: enough for tens of thousands of votes


@dataclass(frozen=True, slots=True)
class SuggestedQuestion:
    """A question to offer, with the topic of the passage that answers it."""

    question: str
    topic: str


def representative_questions(passages: list[Passage], limit: int, lang: str | None = None) -> list[SuggestedQuestion]:
    """One entry per topic, biggest topics first: the first complete FAQ of the topic (else any entry).

    Passages in `lang` are preferred when there are any.
    """
    pool = ([p for p in passages if p.lang == lang] if lang else []) or passages
    by_topic: dict[str, list[Passage]] = {}
    for passage in pool:
        by_topic.setdefault(passage.topic, []).append(passage)
    ordered = sorted(by_topic.items(), key=lambda item: (-len(item[1]), item[0]))
    chosen = []
    for topic, members in ordered:
        best = min(members, key=lambda p: (p.kind != "faq", p.truncated, len(p.title)))
        chosen.append(SuggestedQuestion(best.title, topic))
    return chosen[:limit]


class PopularQuestions:
    """The questions of the feedback log most often marked helpful, re-read only when the log changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._counts: Counter[tuple[str, str]] = Counter()

    def top(self, passage: Callable[[str], Passage | None], limit: int) -> list[SuggestedQuestion]:
        """The most often helpful questions whose passage is still indexed, most often first."""
        counts = self._read()
        chosen: list[SuggestedQuestion] = []
        seen: set[str] = set()
        for (question, passage_id), _ in counts.most_common():
            answered_by = passage(passage_id)
            if answered_by is None or question.casefold() in seen:
                continue
            seen.add(question.casefold())
            chosen.append(SuggestedQuestion(question, answered_by.topic))
            if len(chosen) == limit:
                break
        return chosen

    def _read(self) -> Counter[tuple[str, str]]:
        try:
            stat = self.path.stat()
        except OSError:
            return Counter()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key != self._seen:
                self._counts = _count_helpful(self.path, stat.st_size)
                self._seen = key
            return self._counts


def _count_helpful(path: Path, size: int) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    with path.open("rb") as handle:
        if size > TAIL_BYTES:
            handle.seek(size - TAIL_BYTES, os.SEEK_SET)
            handle.readline()  # drop the partial first line
        for line in handle:
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(record, dict) and record.get("helpful") is True and isinstance(record.get("question"), str) \
                    and isinstance(record.get("passage_id"), str):
                counts[(record["question"].strip(), record["passage_id"])] += 1
    return counts
