"""The question log is written off the request path, and nothing logged is lost.

`BackgroundWriter` on its own (order, batching, retries, close), the queue while another connection
holds SQLite's write lock, and a real server stopped right after a burst of questions.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from eval.bench.server import start_server
from retrieval.results import AskResult, Suggestion
from service.log_writer import BackgroundWriter
from service.queue import QuestionQueue
from tests.service.conftest import OFF_TOPIC, PO_QUESTION


def refusal(n: int) -> AskResult:
    return AskResult(answered=False, answer="no", citations=[], confidence=0.1,
                     suggestions=[Suggestion(f"p{n}", f"标题{n}")], ranked_ids=[f"p{n}"], used_history=False)


def test_items_are_written_in_order_in_batches_and_close_writes_the_rest() -> None:
    written: list[list[int]] = []

    def slow_write(batch: list[int]) -> None:
        time.sleep(0.02)  # items pile up meanwhile: the next call takes them all
        written.append(batch)

    writer: BackgroundWriter[int] = BackgroundWriter(slow_write, "a list")
    for i in range(300):
        writer.submit(i)
    assert writer.pending > 0
    writer.close()
    assert [i for batch in written for i in batch] == list(range(300))
    assert len(written) < 300 / 10
    writer.submit(300)  # after close: written at once by the caller
    assert written[-1] == [300] and writer.pending == 0


def test_flush_waits_for_every_item_submitted_from_any_thread() -> None:
    written: list[int] = []
    writer: BackgroundWriter[int] = BackgroundWriter(written.extend, "a list")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer.submit, range(2000)))
    assert writer.flush(timeout=30)
    assert sorted(written) == list(range(2000))
    writer.close()


def test_a_failed_write_is_retried_and_a_lasting_failure_dropped_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    written: list[str] = []
    failures = iter([True, True])

    def flaky(batch: list[str]) -> None:
        if next(failures, False):
            raise sqlite3.OperationalError("database is locked")
        written.extend(batch)

    writer: BackgroundWriter[str] = BackgroundWriter(flaky, "a flaky list")
    writer.submit("kept")
    assert writer.flush(timeout=30)
    assert written == ["kept"]

    def broken(_: list[str]) -> None:
        raise OSError("read-only file system")

    dead: BackgroundWriter[str] = BackgroundWriter(broken, "a broken list")
    with caplog.at_level(logging.WARNING, logger="service.log_writer"):
        dead.submit("lost")
        assert dead.flush(timeout=30)
    assert "cannot write 1 rows to a broken list" in caplog.text and dead.pending == 0
    writer.close()
    dead.close()


def test_asking_never_waits_for_a_locked_database(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    queue = QuestionQueue(path)
    queue.open_records()  # creates the tables
    with sqlite3.connect(path, isolation_level=None, check_same_thread=False) as blocker:
        blocker.execute("BEGIN IMMEDIATE")  # another worker's write transaction
        started = time.perf_counter()
        kinds = [queue.record_ask(f"问题 {n}", refusal(n), "b1") for n in range(50)]
        elapsed = time.perf_counter() - started
        release = threading.Timer(0.5, lambda: blocker.execute("COMMIT"))
        release.start()
        records = queue.open_records()  # waits for the writer, which waits for the lock
        release.join()
    assert elapsed < 0.5  # SQLite's busy timeout is 10 s: a write on this thread would have waited for the lock
    assert kinds == ["refused"] * 50
    assert sorted(r.question for r in records) == sorted(f"问题 {n}" for n in range(50))
    assert queue.analytics()["asked"] == 50
    queue.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_server_stopped_while_the_database_is_locked_logs_every_question(corpus_index: Path,
                                                                             tmp_path: Path) -> None:
    """The burst is answered while another connection holds the write lock, and the server is stopped before
    the lock is released: the rows are still pending then, and the shutdown writes them all."""
    database = tmp_path / "queue.sqlite3"
    questions = [PO_QUESTION, OFF_TOPIC] * 100
    server = start_server(corpus_index, tmp_path / "server.log", launcher="uvicorn",
                          env={"FAQ_QUEUE_DB": str(database)})
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            client.post("/api/ask", json={"question": PO_QUESTION}).raise_for_status()
            _wait_for_first_row(database)
            with sqlite3.connect(database, isolation_level=None, check_same_thread=False) as blocker:
                blocker.execute("BEGIN IMMEDIATE")
                started = time.perf_counter()
                for question in questions:  # one miss each, then cache hits
                    client.post("/api/ask", json={"question": question}).raise_for_status()
                burst = time.perf_counter() - started
                release = threading.Timer(1.0, lambda: blocker.execute("COMMIT"))
                release.start()
                server.stop()  # SIGTERM while the rows still wait for the lock
                release.join()
    finally:
        server.stop()
    with sqlite3.connect(database) as db:
        asked = db.execute("SELECT count(*) FROM asks").fetchone()[0]
        queued = db.execute("SELECT count(*) FROM queue WHERE kind = 'refused'").fetchone()[0]
    assert burst < 10  # SQLite's busy timeout: one request writing on the event loop would have waited that long
    assert asked == 1 + len(questions)  # requests only: the warm-up questions at start are not logged
    assert queued == questions.count(OFF_TOPIC)


def _wait_for_first_row(database: Path, timeout: float = 30) -> None:
    """Until the server has created the database and written its first question."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if database.exists():
            with contextlib.suppress(sqlite3.OperationalError), sqlite3.connect(database) as db:
                if db.execute("SELECT count(*) FROM asks").fetchone()[0] >= 1:
                    return
        time.sleep(0.05)
    raise AssertionError(f"no question logged in {database} after {timeout} s")
