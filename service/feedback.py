"""The feedback log: one JSON object per line, appended atomically."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path


class FeedbackLog:
    """Appends "was this answer helpful?" records to a JSON Lines file.

    Each record is one `os.write` on a descriptor opened with O_APPEND, so concurrent writers
    (threads here, or other worker processes) never interleave or lose lines; the lock keeps
    this process's writes strictly ordered.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, passage_id: str, question: str, helpful: bool, build_id: str,
               reason: str | None = None) -> dict[str, object]:
        """Store one record (with why it did not help, when given) and return it."""
        record: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "passage_id": passage_id,
            "question": question,
            "helpful": helpful,
            "build_id": build_id,
        }
        if reason is not None:
            record["reason"] = reason
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, line)
            finally:
                os.close(fd)
        if written != len(line):
            raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
        return record
