"""The typed rows of the scale-out measurements (Milvus, answer cache, Ray), as `faq bench` reports them."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """Latency of one kind of request against one store."""

    name: str
    store: str
    requests: int
    p50_ms: float
    p95_ms: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class ParityRow:
    """How often two ways of answering agree (`same` of `questions`)."""

    name: str
    questions: int
    same: int
    share: float
    note: str = ""

    @classmethod
    def of(cls, name: str, questions: int, same: int, note: str = "") -> ParityRow:
        """The row with its share (NaN for no question)."""
        return cls(name, questions, same, round(same / questions, 4) if questions else math.nan, note)


@dataclass(frozen=True, slots=True)
class IngestRow:
    """One way of ingesting the same texts: how long it took, on how many workers."""

    name: str
    texts: int
    seconds: float
    texts_per_second: float
    workers: int
    note: str = ""

    @classmethod
    def of(cls, name: str, texts: int, seconds: float, workers: int, note: str = "") -> IngestRow:
        """The row with its throughput."""
        return cls(name, texts, round(seconds, 3), round(texts / seconds, 2) if seconds else math.nan, workers, note)


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """Bytes a build holds per passage."""

    name: str
    passages: int
    bytes_per_passage: float
