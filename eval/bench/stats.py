"""Latency summaries and the timing helpers every measurement shares."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")
Log = Callable[[str], None]


def quiet(_: str) -> None:
    """A log that says nothing."""


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles and mean of latencies in milliseconds (NaN when nothing was measured)."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float

    @property
    def triple(self) -> tuple[float, float, float]:
        """p50, p95, p99."""
        return self.p50, self.p95, self.p99


def summarize(ms: Sequence[float]) -> Latency:
    """p50/p95/p99/mean of latencies in milliseconds."""
    values = np.asarray(ms, dtype=np.float64)
    if values.size == 0:
        return Latency(0, math.nan, math.nan, math.nan, math.nan)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return Latency(int(values.size), round(float(p50), 3), round(float(p95), 3), round(float(p99), 3),
                   round(float(values.mean()), 3))


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def cycle(questions: Sequence[str], n: int, skip: int = 0) -> list[str]:
    """`n` questions taken in turn, starting after `skip`."""
    return [questions[(skip + i) % len(questions)] for i in range(n)]


def paired(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the pairwise differences a_i - b_i (robust to drifts in machine load)."""
    return round(float(np.median(np.asarray(a) - np.asarray(b))), 3)
