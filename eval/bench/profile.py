"""Where the time of one question goes: each step of the ask and search paths, timed through public seams.

The profiled retriever is a real `Retriever` built on timed stand-ins for what it is given: the build (the
`SearchableBuild` protocol: tokenizer, BM25 scores, dense search, passage vectors), the embedder (the
`Embedder` protocol) and the abstention model. No private attribute is touched, so the profile keeps working
when retrieval's internals move; "the rest" is the call's total minus the timed steps (fusion, decision
features, answer assembly, highlighting, bookkeeping).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from eval.bench.stats import cycle, timed
from index.embedders import Embedder
from index.searchable import PassageVectors, SearchableBuild
from index.vector_store import DenseHits
from ingest.passage import Passage
from retrieval.abstention.features import DecisionFeatures
from retrieval.abstention.model import AbstentionModel
from retrieval.abstention.second_opinion import SecondOpinion
from retrieval.results import AskResult, SearchPage
from retrieval.retriever import Retriever

if TYPE_CHECKING:
    from index.index_dir import Manifest

T = TypeVar("T")
REST = "the rest"
BRIDGE_STEP = "term bridge (USE words)"
SECOND_OPINION_STEP = "second opinion (USE query)"
TOTAL = "total (in process)"
OUTSIDE = "response model + JSON (outside the call)"


@dataclass(frozen=True, slots=True)
class PathProfile:
    """p50 (ms) per step of the ask path and of the search path."""

    ask: dict[str, float]
    search: dict[str, float]


@dataclass(slots=True)
class StepClock:
    """Milliseconds spent per labelled step since the last `reset`."""

    spent: dict[str, float] = field(default_factory=dict)

    def reset(self) -> None:
        """Start a new call."""
        self.spent = {}

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Add the time of the block to `label`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.spent[label] = self.spent.get(label, 0.0) + (time.perf_counter() - started) * 1000

    def call(self, label: str, fn: Callable[[], T]) -> T:
        """`fn()`, timed as `label`."""
        with self.step(label):
            return fn()


class TimedBuild:
    """A `SearchableBuild` that times the calls retrieval makes into the build it wraps."""

    def __init__(self, build: SearchableBuild, clock: StepClock) -> None:
        self._build, self._clock = build, clock

    @property
    def build_id(self) -> str:
        """The wrapped build's id."""
        return self._build.build_id

    @property
    def manifest(self) -> Manifest:
        """The wrapped build's manifest."""
        return self._build.manifest

    @property
    def passages(self) -> list[Passage]:
        """The wrapped build's passages."""
        return self._build.passages

    @property
    def spaces(self) -> tuple[str, ...]:
        """The wrapped build's vector spaces."""
        return self._build.spaces

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with that id."""
        return self._build.passage(passage_id)

    def tokenize(self, text: str) -> list[str]:
        """Timed as "tokenize (jieba)"."""
        return self._clock.call("tokenize (jieba)", lambda: self._build.tokenize(text))

    def nouns(self, tokens: list[str]) -> list[str]:
        """Timed as "tokenize (jieba)": which terms are nouns is part of reading the query's terms."""
        return self._clock.call("tokenize (jieba)", lambda: self._build.nouns(tokens))

    def with_synonyms(self, tokens: list[str]) -> list[str]:
        """Timed as "tokenize (jieba)": the synonyms are part of reading the query's terms."""
        return self._clock.call("tokenize (jieba)", lambda: self._build.with_synonyms(tokens))

    def bigram_scores(self, text: str) -> np.ndarray:
        """Timed as "bigram bm25 scores"."""
        return self._clock.call("bigram bm25 scores", lambda: self._build.bigram_scores(text))

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """Timed as "bm25 scores"."""
        return self._clock.call("bm25 scores", lambda: self._build.keyword_scores(tokens))

    def document_frequency(self, tokens: list[str]) -> np.ndarray:
        """Timed as "document frequency"."""
        return self._clock.call("document frequency", lambda: self._build.document_frequency(tokens))

    def dense_search(self, space: str, query: np.ndarray, k: int) -> DenseHits:
        """Timed as "dense search (faiss)"."""
        return self._clock.call("dense search (faiss)", lambda: self._build.dense_search(space, query, k))

    def passage_vectors(self, space: str, passages: Sequence[int]) -> PassageVectors:
        """Timed as "passage vectors"."""
        return self._clock.call("passage vectors", lambda: self._build.passage_vectors(space, passages))

    def centroid(self, space: str) -> np.ndarray | None:
        """Untimed: read once when the retriever is made."""
        return self._build.centroid(space)


class TimedEmbedder:
    """An `Embedder` that times query embedding as `label`."""

    def __init__(self, embedder: Embedder, clock: StepClock, label: str = "query embedding") -> None:
        self._embedder, self._clock, self._label = embedder, clock, label
        self.name, self.dim = embedder.name, embedder.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Timed as the label."""
        return self._clock.call(self._label, lambda: self._embedder.embed_queries(texts))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Untimed: not on the query path."""
        return self._embedder.embed_passages(texts)


@dataclass(frozen=True, slots=True)
class TimedAbstention(AbstentionModel):
    """The same abstention model, its `confidence` timed as "abstention model"."""

    clock: StepClock = field(default_factory=StepClock)

    @classmethod
    def wrap(cls, model: AbstentionModel, clock: StepClock) -> TimedAbstention:
        """A timed copy of `model`."""
        values = {f.name: getattr(model, f.name) for f in dataclasses.fields(AbstentionModel)}
        return cls(**values, clock=clock)

    def confidence(self, features: DecisionFeatures | np.ndarray) -> float:
        """Timed as "abstention model"."""
        return self.clock.call("abstention model", lambda: AbstentionModel.confidence(self, features))


def timed_retriever(retriever: Retriever, clock: StepClock) -> Retriever:
    """A retriever like `retriever` (same build, embedder, model, threshold, background, configuration, term bridge
    and second opinion) whose steps `clock` times."""
    abstention = None if retriever.abstention is None else TimedAbstention.wrap(retriever.abstention, clock)
    bridge, second = retriever.bridge, retriever.second_opinion
    if bridge is not None:
        bridge = dataclasses.replace(bridge, embedder=TimedEmbedder(bridge.embedder, clock, BRIDGE_STEP))
    if second is not None:  # a new one: its own cache of question vectors starts empty
        second = SecondOpinion(second.vectors, TimedEmbedder(second.embedder, clock, SECOND_OPINION_STEP))
    return Retriever(TimedBuild(retriever.index, clock), TimedEmbedder(retriever.embedder, clock), abstention,
                     retriever.config, top_k=retriever.top_k, background=retriever.background,
                     threshold=retriever.answer_threshold, bridge=bridge, second_opinion=second)


def profile_ask(retriever: Retriever, questions: Sequence[str], n: int, warmup: int = 3) -> PathProfile:
    """p50 (ms) per step of `ask` and `search` over `n` questions, with the JSON encoding of the result
    (what the response adds outside the call)."""
    clock = StepClock()
    profiled = timed_retriever(retriever, clock)
    for q in cycle(questions, warmup):
        profiled.ask(q)
        profiled.search(q)
    ask_steps: dict[str, list[float]] = {}
    search_steps: dict[str, list[float]] = {}

    def record(table: dict[str, list[float]], total: float, result: AskResult | SearchPage) -> None:
        for name, ms in clock.spent.items():
            table.setdefault(name, []).append(ms)
        table.setdefault(REST, []).append(max(total - sum(clock.spent.values()), 0.0))
        table.setdefault(TOTAL, []).append(total)
        ms, _ = timed(lambda: json.dumps(dataclasses.asdict(result), ensure_ascii=False))
        table.setdefault(OUTSIDE, []).append(ms)

    for q in cycle(questions, n, skip=warmup):
        clock.reset()
        total, answer = timed(lambda q=q: profiled.ask(q))
        record(ask_steps, total, answer)
        clock.reset()
        total, page = timed(lambda q=q: profiled.search(q))
        record(search_steps, total, page)
    return PathProfile(_medians(ask_steps, n), _medians(search_steps, n))


def _medians(steps: dict[str, list[float]], n: int) -> dict[str, float]:
    """Median per step; a step some calls skip (the USE query, asked only when it decides) gets the median of the
    calls that ran it, and its share of the calls."""
    medians = {}
    for name, values in steps.items():
        median = round(float(np.median(values)), 4)
        if len(values) == n:
            medians[name] = median
        else:
            medians[f"{name}, when run"] = median
            medians[f"{name}: share of calls"] = round(len(values) / n, 3)
    return medians
