"""Writing maintainers' decisions into the curation folder: alternate questions and drafted entries.

Lines are appended (one `os.write` under an exclusive `flock`, so several worker processes never
interleave), never rewritten: the files stay reviewable line by line in git.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from ingest.curation import ALTERNATES, ENTRIES, load_curation
from ingest.jsonl import record_passage
from ingest.passage import Passage


def append_lines(path: Path, records: list[dict[str, str]]) -> None:
    """Append one JSON line per record to `path`, atomically with respect to other writers."""
    if not records:
        return
    data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size and not _ends_with_newline(fd):
            data = b"\n" + data  # a hand-edited file without a final newline
        written = os.write(fd, data)
    finally:
        os.close(fd)
    if written != len(data):
        raise OSError(f"short write to {path}: {written} of {len(data)} bytes")


def _ends_with_newline(fd: int) -> bool:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n"


def add_alternates(folder: Path, entry: str, questions: list[str]) -> list[str]:
    """Append the questions not yet recorded for `entry` (a passage id); returns those added."""
    known = {(a.entry, a.question) for a in load_curation(folder).alternates}
    new = [q for q in dict.fromkeys(" ".join(q.split()) for q in questions) if q and (entry, q) not in known]
    append_lines(folder / ALTERNATES, [{"entry": entry, "question": q} for q in new])
    return new


def add_entry(folder: Path, question: str, answer: str, topic: str = "", url: str = "") -> Passage:
    """Append a new FAQ entry; returns the passage it will become (its id is known before the rebuild)."""
    record = {"question": question, "answer": answer, "topic": topic}
    if url:
        record["url"] = url
    # Read as `faq ingest` will read it: a bad entry is refused here, before it reaches the file.
    passage = record_passage(json.dumps(record, ensure_ascii=False), str(folder / ENTRIES))
    append_lines(folder / ENTRIES, [record])
    return passage
