"""Curation data that maintainers keep beside the corpus (FAQ_CURATION_DIR), reviewable in git.

    alternates.jsonl  {"entry": "<passage id or exact title>", "question": "<another way to ask it>"} a line
    synonyms.txt      one group a line, terms separated by spaces or commas: `商机 机会点`
    dictionary.txt    jieba's user-dictionary format, `word [frequency] [tag]` a line
    entries.jsonl     new FAQ entries, `{"question", "answer", "topic", "url"}` a line

Lines starting with `#` in the two text files are comments. Every line that cannot be used is
reported with its file and line number; the rest is used.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.errors import ParseError
from ingest.jsonl import record_passage
from ingest.passage import Passage

ALTERNATES = "alternates.jsonl"
SYNONYMS = "synonyms.txt"
DICTIONARY = "dictionary.txt"
ENTRIES = "entries.jsonl"
FILES = (ALTERNATES, SYNONYMS, DICTIONARY, ENTRIES)

# A jieba user word: the word, its frequency (None: jieba picks one that keeps it whole), its tag.
UserWord = tuple[str, int | None, str | None]
_TAG = re.compile(r"^[a-z]+$")
_TERM_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True, slots=True)
class CurationProblem:
    """A curation line that was not used, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Alternate:
    """Another way to ask an entry, named by passage id or exact title."""

    entry: str
    question: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Lexicon:
    """What a build's keyword side reads with: jieba user words and synonym groups."""

    words: tuple[UserWord, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Curation:
    """Everything read from a curation folder, with the lines that could not be used."""

    alternates: tuple[Alternate, ...] = ()
    lexicon: Lexicon = field(default_factory=Lexicon)
    entries: tuple[Passage, ...] = ()
    problems: tuple[CurationProblem, ...] = ()


def load_curation(folder: Path | None) -> Curation:
    """Read the curation files in `folder` (absent files and an absent folder mean no curation)."""
    if folder is None or not folder.is_dir():
        return Curation()
    problems: list[CurationProblem] = []
    alternates = _read(folder / ALTERNATES, _alternate, problems)
    synonyms = _read(folder / SYNONYMS, _synonym_group, problems)
    words = _read(folder / DICTIONARY, _user_word, problems)
    entries = _read(folder / ENTRIES, lambda text, file, _line: record_passage(text, file), problems)
    return Curation(tuple(alternates), Lexicon(tuple(words), tuple(synonyms)), tuple(entries), tuple(problems))


def apply_curation(passages: list[Passage], curation: Curation) -> tuple[list[Passage], list[CurationProblem]]:
    """The corpus passages plus the new entries, each with its alternate questions; and the alternates
    that name no entry (or an ambiguous title)."""
    merged = list(passages)
    by_id = {p.id: i for i, p in enumerate(merged)}
    for entry in curation.entries:  # an entry the corpus already holds is kept once
        if entry.id not in by_id:
            by_id[entry.id] = len(merged)
            merged.append(entry)
    by_title: dict[str, list[int]] = defaultdict(list)
    for i, passage in enumerate(merged):
        by_title[passage.title].append(i)
    questions: dict[int, list[str]] = defaultdict(list)
    problems: list[CurationProblem] = []
    for alternate in curation.alternates:
        rows = [by_id[alternate.entry]] if alternate.entry in by_id else by_title.get(alternate.entry, [])
        if len(rows) != 1:
            reason = (f"no entry with id or title {alternate.entry!r}" if not rows else
                      f"the title {alternate.entry!r} names {len(rows)} entries: use a passage id")
            problems.append(CurationProblem(alternate.file, alternate.line, reason))
            continue
        passage, wanted = merged[rows[0]], questions[rows[0]]
        if alternate.question != passage.title and alternate.question not in wanted:
            wanted.append(alternate.question)
    for row, extra in questions.items():
        merged[row] = replace(merged[row], alternates=(*merged[row].alternates, *extra))
    return merged, problems


def _read(path: Path, parse_line, problems: list[CurationProblem]) -> list:  # type: ignore[no-untyped-def]
    """Every usable line of one file, parsed; the others go to `problems`."""
    if not path.is_file():
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        problems.append(CurationProblem(path.name, 0, f"cannot read the file: {err}"))
        return []
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and path.suffix == ".txt"):
            continue
        try:
            items.append(parse_line(stripped, path.name, number))
        except ParseError as err:
            problems.append(CurationProblem(path.name, number, str(err)))
    return items


def _alternate(text: str, file: str, line: int) -> Alternate:
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ParseError(f"invalid JSON ({err})") from None
    if not isinstance(record, dict):
        raise ParseError(f"not a JSON object (got {type(record).__name__})")
    values = {}
    for key in ("entry", "question"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ParseError(f"{key!r} must be a non-empty string")
        values[key] = " ".join(value.split())
    return Alternate(values["entry"], values["question"], file, line)


def _synonym_group(text: str, _file: str, _line: int) -> tuple[str, ...]:
    terms = tuple(dict.fromkeys(term for term in _TERM_SEPARATORS.split(text) if term))
    if len(terms) < 2:
        raise ParseError(f"a synonym group needs at least two terms, got {len(terms)}")
    return terms


def _user_word(text: str, _file: str, _line: int) -> UserWord:
    """`word`, `word freq`, `word tag` or `word freq tag`, as jieba's `load_userdict` reads them."""
    word, *rest = text.split()
    frequency: int | None = None
    tag: str | None = None
    if rest and rest[0].isdigit():
        frequency = int(rest.pop(0))
    if rest and _TAG.match(rest[0]):
        tag = rest.pop(0)
    if rest:
        raise ParseError(f"expected `word [frequency] [tag]`, cannot read {' '.join(rest)!r} "
                         "(a word has no spaces; frequency is a whole number; tag is lower-case letters)")
    return word, frequency, tag
