"""The unanswered-question queue and the question log, in SQLite (WAL: many worker processes write safely).

Every question asked is logged (for analytics); every refusal, every answer below the review
threshold and every thumbs-down is also queued for maintainers, with the question, whether the
history was used, the suggestions shown, the confidence, the build and the time. Nothing is ever
deleted: a record a maintainer dealt with is marked resolved.

Asked questions are written by a background thread (`service.log_writer`), in batches, so the
answer never waits for SQLite; every other write and every read first waits for the rows already
submitted, so the queue reads as if each question had been written when it was asked.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from retrieval.results import AskResult, Suggestion
from service.log_writer import BackgroundWriter

REFUSED, LOW_CONFIDENCE, THUMBS_DOWN = "refused", "low_confidence", "thumbs_down"
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS asks (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, question TEXT NOT NULL, used_history INTEGER NOT NULL,
    answered INTEGER NOT NULL, confidence REAL NOT NULL, top_id TEXT, suggestions TEXT NOT NULL,
    build_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS asks_question ON asks(question, id);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL, question TEXT NOT NULL,
    used_history INTEGER NOT NULL, suggestions TEXT NOT NULL, confidence REAL, closest_id TEXT,
    build_id TEXT NOT NULL, resolved TEXT);
CREATE INDEX IF NOT EXISTS queue_open ON queue(resolved, question);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, time TEXT NOT NULL, question TEXT NOT NULL, passage_id TEXT NOT NULL,
    title TEXT NOT NULL, answer TEXT NOT NULL, helpful INTEGER NOT NULL, build_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    space TEXT NOT NULL, question TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (space, question));
"""


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """One queued question."""

    id: int
    time: str
    kind: str
    question: str
    used_history: bool
    suggestions: list[dict[str, str]]
    confidence: float | None
    closest_id: str | None
    build_id: str


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One thumbs up or down, with the answer it judged."""

    time: str
    question: str
    passage_id: str
    title: str
    answer: str
    helpful: bool
    build_id: str


@dataclass(frozen=True, slots=True)
class _AskRow:
    """One asked question, as the request hands it to the writer, and its queue kind (None: not queued)."""

    at: float  # time.time() when it was asked; formatted by the writer
    question: str
    used_history: int
    answered: int
    confidence: float
    top_id: str | None
    suggestions: tuple[Suggestion, ...]
    build_id: str
    kind: str | None

    def values(self) -> tuple[str, str, int, int, float, str | None, str, str]:
        """(time, question, used_history, answered, confidence, top_id, suggestions JSON, build_id)."""
        suggestions = json.dumps([{"passage_id": s.passage_id, "title": s.title} for s in self.suggestions],
                                 ensure_ascii=False)
        return (_format_time(datetime.fromtimestamp(self.at, UTC)), self.question, self.used_history, self.answered,
                self.confidence, self.top_id, suggestions, self.build_id)


def _format_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _now() -> str:
    return _format_time(datetime.now(UTC))


class QuestionQueue:
    """The SQLite file behind the queue, the question log and the thumbs; one connection per thread."""

    def __init__(self, path: Path, review_below: float = 0.7) -> None:
        self.path = path
        self.review_below = review_below
        self._local = threading.local()
        self._asks: BackgroundWriter[_AskRow] = BackgroundWriter(self._write_asks, f"the question log {path}")

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the tables created) on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes; WAL keeps it consistent
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.row_factory = sqlite3.Row
            db.executescript(_SCHEMA)
            self._local.db = db
        return db

    def _read(self) -> sqlite3.Connection:
        """This thread's connection, once every question asked so far is written."""
        self.flush()
        return self._connection()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ---- writing ---------------------------------------------------------------------------------

    def record_ask(self, question: str, result: AskResult, build_id: str) -> str | None:
        """Log an answered or refused question (written in the background); it is also queued when refused or
        below the review threshold. Returns the queue kind, or None when it is not queued."""
        kind = REFUSED if not result.answered else LOW_CONFIDENCE if result.confidence < self.review_below else None
        self._asks.submit(_AskRow(time.time(), question, int(result.used_history), int(result.answered),
                                  float(result.confidence), result.ranked_ids[0] if result.ranked_ids else None,
                                  tuple(result.suggestions), build_id, kind))
        return kind

    def _write_asks(self, rows: list[_AskRow]) -> None:
        """One transaction for a batch of asked questions (the background writer's `write`)."""
        values = [row.values() for row in rows]
        with self._transaction() as db:
            db.executemany("INSERT INTO asks (time, question, used_history, answered, confidence, top_id, suggestions,"
                           " build_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            db.executemany("INSERT INTO queue (time, kind, question, used_history, suggestions, confidence,"
                           " closest_id, build_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(at, row.kind, question, used_history, suggestions, confidence, top_id, build_id)
                            for row, (at, question, used_history, _answered, confidence, top_id, suggestions, build_id)
                            in zip(rows, values, strict=True) if row.kind is not None])

    def flush(self) -> None:
        """Wait until every question asked so far is written."""
        self._asks.flush()

    def close(self) -> None:
        """Write every pending question and stop the background writer (at the app's shutdown)."""
        self._asks.close()

    def record_feedback(self, question: str, passage_id: str, title: str, answer: str, helpful: bool,
                        build_id: str) -> None:
        """Store a thumb; a thumbs-down is also queued, with what the question's last answer showed."""
        now = _now()
        self.flush()  # the thumbs-down copies what the question's last answer showed
        with self._transaction() as db:
            db.execute("INSERT INTO feedback (time, question, passage_id, title, answer, helpful, build_id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", (now, question, passage_id, title, answer, int(helpful),
                                                         build_id))
            if helpful:
                return
            last = db.execute("SELECT used_history, suggestions, confidence FROM asks WHERE question = ?"
                              " ORDER BY id DESC LIMIT 1", (question,)).fetchone()
            db.execute("INSERT INTO queue (time, kind, question, used_history, suggestions, confidence, closest_id,"
                       " build_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (now, THUMBS_DOWN, question, last["used_history"] if last else 0,
                        last["suggestions"] if last else "[]", last["confidence"] if last else None, passage_id,
                        build_id))

    def resolve(self, questions: Iterable[str], action: str) -> int:
        """Mark the open records of these questions dealt with (`action` says how); returns how many."""
        marked = f"{_now()} {action}"
        self.flush()
        with self._transaction() as db:
            return sum(db.execute("UPDATE queue SET resolved = ? WHERE resolved IS NULL AND question = ?",
                                  (marked, question)).rowcount for question in dict.fromkeys(questions))

    # ---- reading ---------------------------------------------------------------------------------

    def open_records(self, limit: int = 5000) -> list[QueueRecord]:
        """The newest unresolved queue records."""
        rows = self._read().execute(
            "SELECT * FROM queue WHERE resolved IS NULL ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [QueueRecord(r["id"], r["time"], r["kind"], r["question"], bool(r["used_history"]),
                            json.loads(r["suggestions"]), r["confidence"], r["closest_id"], r["build_id"])
                for r in rows]

    def feedback(self, limit: int = 200) -> list[FeedbackRecord]:
        """The newest thumbs, newest first."""
        rows = self._connection().execute("SELECT * FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [FeedbackRecord(r["time"], r["question"], r["passage_id"], r["title"], r["answer"],
                               bool(r["helpful"]), r["build_id"]) for r in rows]

    def analytics(self, days: int = 30, top: int = 10) -> dict[str, object]:
        """Questions per day (answered and refused), the answered share, the top questions and the thumbs."""
        db = self._read()
        since = (datetime.now(UTC) - timedelta(days=days - 1)).date().isoformat()
        per_day = [{"day": r[0], "asked": r[1], "answered": r[2], "refused": r[1] - r[2]} for r in db.execute(
            "SELECT substr(time, 1, 10) AS day, count(*), sum(answered) FROM asks WHERE time >= ?"
            " GROUP BY day ORDER BY day", (since,))]
        asked, answered = db.execute("SELECT count(*), coalesce(sum(answered), 0) FROM asks").fetchone()
        top_questions = [{"question": r[0], "count": r[1], "answered": r[2]} for r in db.execute(
            "SELECT question, count(*) AS n, sum(answered) FROM asks GROUP BY question ORDER BY n DESC, question"
            " LIMIT ?", (top,))]
        up, down = db.execute("SELECT coalesce(sum(helpful), 0), coalesce(sum(1 - helpful), 0) FROM feedback"
                              ).fetchone()
        return {
            "asked": asked, "answered": answered, "refused": asked - answered,
            "answered_share": answered / asked if asked else None,
            "per_day": per_day, "top_questions": top_questions,
            "thumbs": {"up": up, "down": down, "up_share": up / (up + down) if up + down else None},
        }

    def refused_questions(self) -> dict[str, int]:
        """Every question ever refused, with how often, most often first."""
        rows = self._read().execute(
            "SELECT question, count(*) AS n FROM asks WHERE answered = 0 GROUP BY question ORDER BY n DESC, question")
        return {row[0]: row[1] for row in rows}

    # ---- question vectors (for grouping by meaning) ----------------------------------------------

    def vectors(self, space: str, questions: list[str]) -> dict[str, np.ndarray]:
        """The cached vectors of these questions in `space` (those not cached are left out)."""
        db, found = self._connection(), {}
        for start in range(0, len(questions), 500):
            batch = questions[start:start + 500]
            marks = ",".join("?" * len(batch))
            for row in db.execute(f"SELECT question, vector FROM vectors WHERE space = ? AND question IN ({marks})",
                                  (space, *batch)):
                found[row[0]] = np.frombuffer(row[1], dtype=np.float32)
        return found

    def store_vectors(self, space: str, vectors: dict[str, np.ndarray]) -> None:
        """Cache question vectors of `space`."""
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO vectors (space, question, vector) VALUES (?, ?, ?)",
                           [(space, q, np.asarray(v, dtype=np.float32).tobytes()) for q, v in vectors.items()])
