"""A per-replica cache of answers: an FAQ's traffic repeats, so the same question is ranked once per build.

Keyed by the build that answered, the normalised question, the history and the reply language. The
build id is part of every key, so an answer is never served from another build than the one the
request holds; when a replica swaps in a new build, the entries of the old one are dropped.
Bounded: least recently used entries go first. Thread-safe (routes run in the thread pool).
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence

from retrieval.results import AskResult

CacheKey = tuple[str, str, tuple[tuple[str, str], ...], str | None]


def normalise(text: str) -> str:
    """NFKC and folded whitespace; case is kept, because the embedder reads it."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def cache_key(build_id: str, question: str, history: Sequence[tuple[str, str]] | None, lang: str | None) -> CacheKey:
    """The key of one question asked of one build."""
    turns = tuple((normalise(q), normalise(a)) for q, a in history or ())
    return build_id, normalise(question), turns, lang


class AnswerCache:
    """LRU cache of `AskResult`s of at most `size` entries (0: caching off); counts hits and misses."""

    def __init__(self, size: int, on_lookup: Callable[[bool], None] | None = None) -> None:
        if size < 0:
            raise ValueError(f"cache size must be >= 0, not {size}")
        self.size = size
        self._on_lookup = on_lookup
        self._entries: OrderedDict[CacheKey, AskResult] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> AskResult | None:
        """The cached result for `key` (now the most recently used), or None; counted as a hit or a miss."""
        if self.size == 0:
            return None
        with self._lock:
            result = self._entries.get(key)
            if result is not None:
                self._entries.move_to_end(key)
        if self._on_lookup is not None:
            self._on_lookup(result is not None)
        return result

    def put(self, key: CacheKey, result: AskResult) -> None:
        """Keep `result` under `key`, dropping the least recently used entries past the size."""
        if self.size == 0:
            return
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def keep_only(self, build_id: str) -> None:
        """Drop every entry of another build than `build_id` (called when a replica swaps builds)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] != build_id]:
                del self._entries[key]
