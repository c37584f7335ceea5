"""Parser for JSON Lines FAQ files: one `{"question", "answer", "topic", "url"|"source"}` per line."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ingest.errors import ParseError
from ingest.markdown import markdown_to_text
from ingest.normalize import clean_display
from ingest.passage import Passage

log = logging.getLogger(__name__)

# Keys naming where an entry came from, in order of preference.
SOURCE_KEYS = ("url", "source")


def parse_jsonl(path: Path, text: str, root: Path | None = None) -> list[Passage]:
    """Parse FAQ records into passages; bad lines are skipped and counted (logged as a warning).

    Raises `ParseError` naming the first problem and its line number when no line is usable.
    """
    passages: list[Passage] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            passages.append(record_passage(line, str(path)))
        except ParseError as err:
            problems.append(f"line {number}: {err}")
    if not passages:
        raise ParseError(f"no usable records ({problems[0]})" if problems else "no records")
    if problems:
        log.warning("%s: skipped %d bad line(s), first %s", path, len(problems), problems[0])
    return passages


def record_passage(line: str, default_source: str) -> Passage:
    """One JSON line → a passage; `ParseError` says what is wrong with the line."""
    try:
        record: Any = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ParseError(f"invalid JSON ({err})") from None
    if not isinstance(record, dict):
        raise ParseError(f"not a JSON object (got {type(record).__name__})")
    question = _text_field(record, "question", required=True)
    answer_markdown = _text_field(record, "answer", required=True)
    answer, links = markdown_to_text(answer_markdown)
    title = " ".join(markdown_to_text(question)[0].split())
    if not title or not answer:
        raise ParseError(f"{'question' if not title else 'answer'} has no text")
    source = next((s for key in SOURCE_KEYS if (s := _text_field(record, key).strip())), default_source)
    return Passage.create(
        title=title,
        answer=answer,
        topic=clean_display(_text_field(record, "topic")).replace("\n", " "),
        source=source,
        kind="faq",
        links=links,
    )


def _text_field(record: dict[str, Any], key: str, *, required: bool = False) -> str:
    """A string field ('' when absent or null); a wrong type or a missing required field is an error."""
    value = record.get(key)
    if value is None:
        if required:
            raise ParseError(f"missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise ParseError(f"{key!r} is {type(value).__name__}, not a string")
    if required and not value.strip():
        raise ParseError(f"empty {key!r}")
    return value
