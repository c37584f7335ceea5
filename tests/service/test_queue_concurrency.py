"""The queue's SQLite file under several writer processes and threads: every record kept, none torn."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from retrieval.results import AskResult, Suggestion
from service.queue import QuestionQueue

PROCESSES, THREADS, PER_THREAD = 4, 4, 40


def refusal(n: int) -> AskResult:
    return AskResult(answered=False, answer="no", citations=[], confidence=0.1 + n / 1000,
                     suggestions=[Suggestion(f"p{n}", f"标题{n}")], ranked_ids=[f"p{n}"], used_history=n % 2 == 0)


def write(path: str, worker: int) -> None:
    queue = QuestionQueue(Path(path))

    def one_thread(thread: int) -> None:
        for i in range(PER_THREAD):
            n = (worker * THREADS + thread) * PER_THREAD + i
            queue.record_ask(f"问题 {n}", refusal(n), build_id=f"b{worker}")
            queue.record_feedback(f"问题 {n}", f"p{n}", "t", "a", helpful=i % 2 == 0, build_id=f"b{worker}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one_thread, range(THREADS)))


def test_several_processes_and_threads_write_one_queue(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    context = multiprocessing.get_context("spawn")  # fresh interpreters, like uvicorn workers
    workers = [context.Process(target=write, args=(str(path), w)) for w in range(PROCESSES)]
    for process in workers:
        process.start()
    write(str(path), PROCESSES)  # this process writes at the same time
    for process in workers:
        process.join(120)
        assert process.exitcode == 0

    total = (PROCESSES + 1) * THREADS * PER_THREAD
    queue = QuestionQueue(path)
    records = queue.open_records(limit=10 * total)
    assert len(records) == total + total // 2  # every refusal, and every thumbs-down
    assert len({r.question for r in records if r.kind == "refused"}) == total
    thumbs_down = [r for r in records if r.kind == "thumbs_down"]
    assert all(r.suggestions == [{"passage_id": r.closest_id, "title": f"标题{r.closest_id[1:]}"}]
               for r in thumbs_down)  # each copied from its own question's answer
    analytics = queue.analytics()
    assert (analytics["asked"], analytics["refused"]) == (total, total)
    assert analytics["thumbs"]["up"] == analytics["thumbs"]["down"] == total // 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
