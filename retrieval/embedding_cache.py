"""Arrays derived once from fixed inputs (a text list's embeddings, a build's words), kept on disk so that only
the first start pays for them."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
from filelock import FileLock


@contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    """Hold the cross-process lock file `path` while the body runs, so that processes starting together compute
    a cache once and the others wait to read it; where the lock cannot be created (a read-only cache folder),
    the body runs unlocked."""
    lock: FileLock | None = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created here: on some unwritable folders FileLock would keep retrying instead of failing.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        lock.acquire()
    except OSError:
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def cached_array(cache_dir: Path, name: str, key: str, compute: Callable[[], np.ndarray],
                 valid: Callable[[np.ndarray], bool]) -> np.ndarray:
    """`compute()`, read from `cache_dir` when an earlier call stored a `valid` array for the same `name` and `key`.

    The file is named after `name` and a digest of `key`, and written atomically; a process that finds another
    computing it waits and reads its file. A read-only or full cache folder costs the next start the computation,
    nothing else.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    cache = cache_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{digest}.npy"
    if (stored := _load(cache, valid)) is not None:
        return stored
    with cache_lock(cache.with_suffix(".lock")):
        if (stored := _load(cache, valid)) is not None:
            return stored  # computed by the process this one waited for
        array = compute()
        store_atomically(cache, lambda handle: np.save(handle, array, allow_pickle=False))
    return array


def store_atomically(path: Path, write: Callable[[BinaryIO], None]) -> bool:
    """Write `path` through `write` into a file of this process's own, then put it in place; False when the folder
    cannot be written (a read-only or full cache: the next start computes again, nothing else is lost)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            write(handle)
        os.replace(partial, path)
    except OSError:
        return False
    return True


def _load(cache: Path, valid: Callable[[np.ndarray], bool]) -> np.ndarray | None:
    try:
        stored = np.load(cache, allow_pickle=False)
        return stored if valid(stored) else None
    except (OSError, ValueError):
        return None  # missing or unreadable: compute again


def cached_embeddings(texts: list[str], embed: Callable[[list[str]], np.ndarray], dim: int, cache_dir: Path,
                      name: str) -> np.ndarray:
    """`embed(texts)` as float32 rows, cached under `name` and the texts."""
    return cached_array(cache_dir, name, "\n".join(texts),
                        lambda: np.asarray(embed(texts), dtype=np.float32).reshape(len(texts), dim),
                        lambda v: v.shape == (len(texts), dim) and v.dtype == np.float32)
