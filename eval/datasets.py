"""Adapters: turn the shared paraphrase sets into a JSONL corpus and a question file in the standard formats.

Each adapter writes `<out>/<name>/corpus/<name>.jsonl` (`{"question", "answer", "topic", "url"}` per
line, readable by `faq ingest`) and `<out>/<name>/<name>.jsonl` (the question set). The sets give
only questions, so an entry's answer is its own question text. Questions name their entry by its
exact title (`"match": "title"`): the entries are short and many contain one another, so the
substring rule would be ambiguous. Expected titles are taken from the project's own parser output,
so they match what `faq ingest` indexes character for character.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.normalize import normalize_for_matching
from ingest.registry import parse_paths

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TIANCHI_FILE = "tianchi-similar-questions.json"
BQ_FILE = "bq-paraphrase-clusters.json"


@dataclass(frozen=True, slots=True)
class DatasetFiles:
    """What an adapter wrote."""

    name: str
    corpus: Path
    questions: Path
    entries: int
    question_count: int
    dropped: int  # questions left out: their entry did not parse, or they repeat its title verbatim


@dataclass(frozen=True, slots=True)
class _Entry:
    question: str
    topic: str
    key: str  # unique record id, written as the record's `url` so parsed passages map back to it


def _write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_corpus(path: Path, entries: list[_Entry]) -> dict[str, str]:
    """Write the corpus and parse it back with the project's parser: record key → indexed title."""
    _write_jsonl(path, ({"question": e.question, "answer": e.question, "topic": e.topic, "url": e.key}
                        for e in entries))
    titles: dict[str, str] = {}
    for passage in parse_paths([path]).passages:
        for source in (passage.source, *passage.extra_sources):
            titles[source] = passage.title
    return titles


def _question(text: str, title: str, kind: str = "paraphrase") -> dict[str, object]:
    return {"question": text, "expected": [title], "kind": kind, "match": "title"}


def entry_split(title: str) -> str:
    """"train" or "test", by a hash of the entry a question names: an entry's questions stay together."""
    return "train" if int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def _write_questions(folder: Path, name: str, questions: list[dict[str, object]]) -> Path:
    """Write the whole set and its train and test halves (split by entry) beside it."""
    for split in ("train", "test"):
        _write_jsonl(folder / f"{name}-{split}.jsonl",
                     (q for q in questions if entry_split(str(q["expected"][0])) == split))  # type: ignore[index]
    path = folder / f"{name}.jsonl"
    _write_jsonl(path, questions)
    return path


def tianchi(source: Path, out: Path) -> DatasetFiles:
    """Tianchi: index `faq` + `distractors`, ask with the `queries` (each names its `faq` entry)."""
    data = json.loads(source.read_text("utf-8"))
    entries = [_Entry(e["question"], e.get("topic", ""), f"tianchi:faq/{i}") for i, e in enumerate(data["faq"])]
    entries += [_Entry(e["question"], e.get("topic", ""), f"tianchi:distractor/{i}")
                for i, e in enumerate(data["distractors"])]
    key_of: dict[str, str] = {}
    for entry in entries[:len(data["faq"])]:
        key_of.setdefault(entry.question, entry.key)
    folder = out / "tianchi"
    titles = _write_corpus(folder / "corpus" / "tianchi.jsonl", entries)
    questions = []
    for query in data["queries"]:
        title = titles.get(key_of.get(query["expected"], ""))
        if title is not None:
            questions.append(_question(query["question"], title))
    path = _write_questions(folder, "tianchi", questions)
    return DatasetFiles("tianchi", folder / "corpus", path, len(entries), len(questions),
                        len(data["queries"]) - len(questions))


def bq(source: Path, out: Path) -> DatasetFiles:
    """BQ clusters: index each cluster's first question, ask with the others (those not identical to it)."""
    clusters = json.loads(source.read_text("utf-8"))
    entries = [_Entry(c["questions"][0], "", f"bq:cluster/{c['cluster_id']}") for c in clusters]
    folder = out / "bq"
    titles = _write_corpus(folder / "corpus" / "bq.jsonl", entries)
    questions, dropped = [], 0
    for cluster, entry in zip(clusters, entries, strict=True):
        title = titles.get(entry.key)
        for text in cluster["questions"][1:]:
            if title is None or normalize_for_matching(text) == normalize_for_matching(title):
                dropped += 1
                continue
            questions.append(_question(text, title))
    path = _write_questions(folder, "bq", questions)
    return DatasetFiles("bq", folder / "corpus", path, len(entries), len(questions), dropped)


ADAPTERS = {"tianchi": (tianchi, TIANCHI_FILE), "bq": (bq, BQ_FILE)}


def ambiguous_titles(corpus: Path) -> int:
    """How many indexed titles occur more than once after normalisation (0 means title matching is exact)."""
    counts = Counter(normalize_for_matching(p.title) for p in parse_paths([corpus]).passages)
    return sum(1 for n in counts.values() if n > 1)
