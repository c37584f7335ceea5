"""The retriever currently serving: replaced whole on reload, never modified in place.

Every worker process holds its own `RetrieverState`. `/admin/reload` reaches only the worker that
receives it, so each worker also follows the index folder's `CURRENT` pointer by itself: at most
once per `check_interval` (FAQ_INDEX_CHECK_SECONDS; on a request, and from a timer while the app
runs) it reads that small file, and when it names another build than the one serving, loads the
new build in a background thread and swaps it in. Requests never wait for a load: they keep the
retriever they started with. A `check_interval` of 0 turns following off (only explicit reloads).

What names the current build is a `BuildPointer`: the folder's `CURRENT` file, or the Milvus alias
(index/pointer.py). A shared store can be unreachable: then the state is marked unavailable (with
the reason `/readyz` reports, and requests get 503 at once), the check keeps looking, and when the
store answers again it loads the published build afresh (a new connection) and serves again; a
replica that started while the store was down loads its first build the same way.

A replaced retriever is closed (its build's connections released: the Milvus client) once the last
request that leased it ends: requests hold a lease on the retriever they read (`lease`), and a
swap closes the previous one at once when none is in flight, else when its last lease is returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.index_dir import IndexLoadError
from index.pointer import BuildPointer, FolderPointer, StoreUnavailableError
from retrieval.retriever import Retriever

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 1.0
RETRY_FAILED_BUILD_S = 30.0  # a build that failed to load is tried again (automatically) after this long

# Makes a ready retriever for the folder's CURRENT build; gets the one serving (to reuse its embedder).
Loader = Callable[[Retriever | None], Retriever]
# Told of every reload: (the new retriever or None when it failed, the one serving before).
ReloadListener = Callable[[Retriever | None, Retriever | None], None]


def serving_build(retriever: Retriever | None) -> str | None:
    """The name of the build folder `retriever` serves (what `CURRENT` holds; also its build id)."""
    return None if retriever is None else retriever.index.build_id


class RetrieverState:
    """Holds the live `Retriever` and replaces it when the index folder's `CURRENT` build changes.

    Requests read `current` once and keep that object for their whole duration, so a reload
    (a single reference assignment) never shows a request a mix of two indexes.
    """

    def __init__(self, pointer: BuildPointer | Path, loader: Loader, on_reload: ReloadListener | None = None,
                 check_interval: float = CHECK_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.pointer = FolderPointer(pointer) if isinstance(pointer, Path) else pointer
        self.loader = loader
        self.on_reload = on_reload
        self.check_interval = check_interval
        self._clock = clock
        self._retriever: Retriever | None = None
        self.reload_lock = threading.Lock()  # one load at a time in this process
        self._flags = threading.Lock()
        self._next_check = 0.0
        self._background: threading.Thread | None = None
        self._failed: dict[str, float] = {}  # build id → when loading it failed
        self._unavailable: str | None = None  # why the store cannot serve now (None: it can)
        self._leases_lock = threading.Lock()
        self._leases: dict[int, int] = {}  # id(retriever) → requests using it now
        self._retired: dict[int, Retriever] = {}  # replaced, closed when their last lease is returned

    @property
    def current(self) -> Retriever | None:
        """The retriever new requests should use, or None before the first load."""
        return self._retriever

    @property
    def unavailable(self) -> str | None:
        """Why the store cannot serve right now, or None when it can."""
        return self._unavailable

    def mark_unavailable(self, reason: str) -> None:
        """The store failed a request: refuse requests until it answers again (then reload afresh)."""
        if self._unavailable is None:
            log.warning("the vector store is unavailable: %s", reason)
        self._unavailable = reason

    def swap(self, retriever: Retriever) -> Retriever | None:
        """Make `retriever` current; returns the one it replaces, which is closed once no request uses it."""
        with self._leases_lock:
            previous, self._retriever = self._retriever, retriever
            if previous is None or previous is retriever:
                return previous
            in_use = self._leases.get(id(previous), 0) > 0
            if in_use:
                self._retired[id(previous)] = previous
        if not in_use:
            _close(previous)
        return previous

    @contextmanager
    def lease(self) -> Iterator[Retriever | None]:
        """The current retriever (None before the first load), kept open until the block ends."""
        with self._leases_lock:
            retriever = self._retriever
            if retriever is not None:
                self._leases[id(retriever)] = self._leases.get(id(retriever), 0) + 1
        try:
            yield retriever
        finally:
            if retriever is not None:
                self._release(retriever)

    def _release(self, retriever: Retriever) -> None:
        with self._leases_lock:
            left = self._leases[id(retriever)] - 1
            if left:
                self._leases[id(retriever)] = left
                return
            del self._leases[id(retriever)]
            retired = self._retired.pop(id(retriever), None)
        if retired is not None:
            _close(retired)

    def close(self) -> None:
        """Close the current retriever and every replaced one (at shutdown, when no request runs any more)."""
        with self._leases_lock:
            retrievers = [*self._retired.values(), *([self._retriever] if self._retriever is not None else [])]
            self._retired.clear()
            self._retriever = None
        for retriever in retrievers:
            _close(retriever)

    def reload(self) -> tuple[Retriever, Retriever | None]:
        """Load the `CURRENT` build now (blocking) and swap it in; returns (new, previous).

        Raises whatever loading raised, and then the previous retriever keeps serving. Never builds
        an index: without a `CURRENT` build it raises `IndexLoadError`.
        """
        with self.reload_lock:
            return self._load_and_swap()

    def _load_and_swap(self) -> tuple[Retriever, Retriever | None]:
        previous = self._retriever
        try:
            if self.pointer.current() is None:  # never build a whole index inside a request or a worker thread
                raise IndexLoadError(f"no {self.pointer.store} build is published: run `faq ingest` first")
            retriever = self.loader(previous)
        except StoreUnavailableError as err:
            self.mark_unavailable(str(err))
            self._notify(None, previous)
            raise
        except Exception:
            self._notify(None, previous)
            raise
        self.swap(retriever)
        self._unavailable = None
        self._failed.pop(serving_build(retriever) or "", None)
        self._notify(retriever, previous)
        return retriever, previous

    def _notify(self, retriever: Retriever | None, previous: Retriever | None) -> None:
        if self.on_reload is not None:
            self.on_reload(retriever, previous)

    def check_for_new_build(self) -> bool:
        """Start a background reload if the pointer names a build other than the one serving.

        Cheap and never blocking: does nothing more than once per `check_interval` (one read of
        the small `CURRENT` file, or of the alias), nothing while a reload runs, and nothing before
        the first load (start-up loads the index) unless the store was unavailable then. Also
        reloads afresh once an unavailable store answers again. Returns True when it started a reload.
        """
        if self.check_interval <= 0:
            return False
        now = self._clock()
        with self._flags:
            if now < self._next_check or self._background is not None:
                return False
            if self._retriever is None and self._unavailable is None:
                return False
            self._next_check = now + self.check_interval
        try:
            target = self._current_build_id()
            if target is None or (target == serving_build(self._retriever) and self._unavailable is None):
                return False
        except Exception:  # a request must never fail because of this check
            log.exception("cannot compare the index folder's CURRENT build with the one serving")
            return False
        failed_at = self._failed.get(target)
        if failed_at is not None and now - failed_at < RETRY_FAILED_BUILD_S:
            return False
        with self._flags:
            if self._background is not None:
                return False
            thread = self._background = threading.Thread(target=self._reload_in_background, args=(target,),
                                                         name="index-reload", daemon=True)
        thread.start()
        return True

    def wait_for_background_reload(self, timeout: float | None = None) -> bool:
        """Wait for a running background reload to end; False if it still runs after `timeout`."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _current_build_id(self) -> str | None:
        try:
            return self.pointer.current()
        except StoreUnavailableError as err:
            self.mark_unavailable(str(err))
            return None
        except (OSError, IndexLoadError) as err:
            log.warning("cannot read the index pointer: %s", err)
            return None

    def _reload_in_background(self, target: str) -> None:
        try:
            with self.reload_lock:
                if self._current_build_id() == serving_build(self._retriever) and self._unavailable is None:
                    return  # an explicit reload got there first
                try:
                    retriever, previous = self._load_and_swap()
                except StoreUnavailableError as err:  # not the build's fault: tried again at the next check
                    log.warning("the vector store is still unavailable: %s", err)
                    return
                except Exception as err:  # the build serving now keeps serving
                    self._failed[target] = self._clock()
                    log.warning("index build %s could not be loaded, still serving build %s: %s", target,
                                serving_build(self._retriever), err)
                    return
            log.info("index build %s now serving (was %s)", serving_build(retriever), serving_build(previous))
        finally:
            with self._flags:
                self._background = None


def _close(retriever: Retriever) -> None:
    """Release a retriever's connections; a failure is logged, never raised into a swap or a request."""
    try:
        retriever.close()
    except Exception as err:
        log.warning("closing a replaced retriever failed: %s", err)
