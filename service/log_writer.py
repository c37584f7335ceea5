"""Rows the request path must not wait for, written by a background thread in batches.

A request hands its row over (`submit`: an append under a lock, microseconds) and returns; one
thread per writer waits `LINGER_S` after the first row, then takes everything pending and writes it
in one call (one SQLite transaction for the question log), so a busy or locked database never
stalls the event loop, and a burst costs one commit and one wake-up of the thread, not one per
request (waking it per request measured 0.1 ms slower cache hits over HTTP). Nothing submitted is
lost on an orderly stop: `flush` waits until every row submitted so far is written (readers call it
first, so they see their own writes), `close` flushes and stops the thread (the app's shutdown
calls it; an interpreter exit too, through `atexit`), and a row submitted after `close` is written
at once by its caller. A batch whose write fails is tried again `RETRIES` times, then logged and
dropped, as a failed write was before.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_BATCH = 500
RETRIES = 3
RETRY_DELAY_S = 0.2
IDLE_EXIT_S = 5.0  # an idle writer's thread ends; the next row starts a new one
LINGER_S = 0.05  # after the first pending row, wait this long for more before writing


class BackgroundWriter(Generic[T]):
    """Writes submitted items with `write(batch)` on a thread of its own, in submission order."""

    def __init__(self, write: Callable[[list[T]], None], what: str, max_batch: int = MAX_BATCH,
                 idle_exit_s: float = IDLE_EXIT_S, linger_s: float = LINGER_S) -> None:
        self._write = write
        self.what = what  # for messages, e.g. "the question log /var/queue.sqlite3"
        self._max_batch = max_batch
        self._idle_exit_s = idle_exit_s
        self._linger_s = linger_s
        self._items: deque[T] = deque()
        self._cond = threading.Condition()
        self._submitted = 0
        self._done = 0  # written, or dropped after the retries
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Items submitted and not yet written."""
        with self._cond:
            return self._submitted - self._done

    def submit(self, item: T) -> None:
        """Queue `item` for writing (written at once, by this thread, after `close`)."""
        with self._cond:
            if not self._closed:
                self._items.append(item)
                self._submitted += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=f"writer: {self.what}", daemon=True)
                    atexit.register(self.close)
                    self._thread.start()
                self._cond.notify_all()
                return
        self._write_batch([item])

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written; False if `timeout` passed first."""
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write everything pending, then stop the thread; later items are written by their callers."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        atexit.unregister(self.close)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._items and not self._closed:
                    self._cond.wait(self._idle_exit_s)
                if not self._items:  # closed, or idle for a while: nothing left to write
                    self._thread = None
                    if not self._closed:
                        atexit.unregister(self.close)
                    return
                # Gather what arrives meanwhile: one commit per burst, not one wake-up per request.
                self._cond.wait_for(lambda: self._closed, self._linger_s)
                batch = [self._items.popleft() for _ in range(min(len(self._items), self._max_batch))]
            self._write_batch(batch)
            with self._cond:
                self._done += len(batch)
                self._cond.notify_all()

    def _write_batch(self, batch: list[T]) -> None:
        for attempt in range(RETRIES + 1):
            try:
                self._write(batch)
                return
            except Exception as err:  # the writer must outlive any failure; the request was answered already
                if attempt == RETRIES:
                    log.warning("cannot write %d rows to %s, dropped after %d attempts: %s", len(batch), self.what,
                                RETRIES + 1, err)
                    return
                time.sleep(RETRY_DELAY_S * (attempt + 1))
