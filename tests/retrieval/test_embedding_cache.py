"""The on-disk caches of derived arrays: computed once, even by processes starting together, and a cache folder
that cannot be written still answers."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import numpy as np
import pytest

from retrieval.abstention.second_opinion import passage_vectors
from retrieval.embedding_cache import cached_array

SLOW = 0.3  # seconds a computation takes: long enough for the other process to look for the cache meanwhile
TEXTS = ["发票怎么开", "手机号怎么改", "邮箱收不到"]


def _compute(record: Path) -> np.ndarray:
    with record.open("a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    time.sleep(SLOW)
    return np.arange(4, dtype=np.float32)


def _cached(cache_dir: Path, record: Path) -> np.ndarray:
    return cached_array(cache_dir, "words", "build-1", lambda: _compute(record), lambda v: v.shape == (4,))


class _RecordingEmbedder:
    """Embeds slowly, writing each text it embeds to a file shared by the processes."""

    name, dim = "recording", 3

    def __init__(self, record: Path) -> None:
        self.record = record

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self.record.open("a", encoding="utf-8") as handle:
            handle.writelines(f"{text}\n" for text in texts)
        time.sleep(SLOW / len(TEXTS))
        return np.stack([np.eye(3, dtype=np.float32)[TEXTS.index(text)] for text in texts])


def _array_worker(cache_dir: str, record: str, barrier: Barrier) -> None:
    barrier.wait(30)
    np.testing.assert_array_equal(_cached(Path(cache_dir), Path(record)), np.arange(4))


def _vectors_worker(cache_dir: str, record: str, barrier: Barrier) -> None:
    barrier.wait(30)
    vectors = passage_vectors(TEXTS, _RecordingEmbedder(Path(record)), Path(cache_dir))  # type: ignore[arg-type]
    np.testing.assert_array_equal(vectors, np.eye(3, dtype=np.float16))


@pytest.mark.parametrize("worker", [_array_worker, _vectors_worker], ids=["cached_array", "second_opinion"])
def test_processes_starting_together_compute_once_and_the_others_read_it(
        tmp_path: Path, worker: Callable[[str, str, Barrier], None]) -> None:
    cache_dir, record = tmp_path / "cache", tmp_path / "computed.txt"
    context = multiprocessing.get_context("spawn")  # fresh interpreters, like uvicorn workers
    barrier = context.Barrier(2)
    other = context.Process(target=worker, args=(str(cache_dir), str(record), barrier))
    other.start()
    worker(str(cache_dir), str(record), barrier)  # this process asks at the same time
    other.join(30)
    assert other.exitcode == 0
    computed = record.read_text(encoding="utf-8").splitlines()
    if worker is _array_worker:
        assert len(computed) == 1
    else:
        assert computed == TEXTS  # each text embedded once, by one of the two


def _unwritable(tmp_path: Path, kind: str) -> Path:
    if kind == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder")
        folder = tmp_path / "cache"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    (tmp_path / "file").write_text("not a folder")
    return tmp_path / "file" / "cache"  # no process can create it


@pytest.mark.parametrize("kind", ["read-only", "cannot be created"])
def test_a_cache_folder_that_cannot_be_written_still_computes(tmp_path: Path, kind: str) -> None:
    cache_dir, record = _unwritable(tmp_path, kind), tmp_path / "computed.txt"
    np.testing.assert_array_equal(_cached(cache_dir, record), np.arange(4))
    np.testing.assert_array_equal(_cached(cache_dir, record), np.arange(4))
    assert len(record.read_text(encoding="utf-8").splitlines()) == 2  # nothing stored: computed each time
    vectors = passage_vectors(TEXTS, _RecordingEmbedder(record), cache_dir)  # type: ignore[arg-type]
    np.testing.assert_array_equal(vectors, np.eye(3, dtype=np.float16))


def test_a_read_only_folder_serves_what_it_holds(tmp_path: Path) -> None:
    cache_dir, record = tmp_path / "cache", tmp_path / "computed.txt"
    _cached(cache_dir, record)
    for lock in cache_dir.glob("*.lock"):
        lock.unlink()  # as a folder filled and then mounted read-only might be
    cache_dir.chmod(0o555)
    try:
        np.testing.assert_array_equal(_cached(cache_dir, record), np.arange(4))
    finally:
        cache_dir.chmod(0o755)
    assert len(record.read_text(encoding="utf-8").splitlines()) == 1
