"""The ask-path profiler: a retriever on timed stand-ins answers exactly as the real one, and times each step."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench.profile import BRIDGE_STEP, SECOND_OPINION_STEP, StepClock, profile_ask, timed_retriever
from eval.bench.stats import timed
from index.embedders import Embedder
from retrieval.loading import load_retriever
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings

QUESTIONS = ["PO提交后多久能验证完", "今天北京天气怎么样", "Who reviews a PO when no PDM was matched?"]


@pytest.fixture(scope="module")
def retriever(corpus_index: Path, embedder: Embedder, cache_dir: Path) -> Retriever:
    """Loaded as the service loads it (the build's own threshold, the off-topic background)."""
    settings = RetrievalSettings(_env_file=None, index_dir=corpus_index, cache_dir=cache_dir)  # type: ignore[call-arg]
    return load_retriever(settings, embedder=embedder)


def test_the_timed_retriever_answers_as_the_real_one(retriever: Retriever) -> None:
    clock = StepClock()
    profiled = timed_retriever(retriever, clock)
    for question in QUESTIONS:
        clock.reset()
        assert profiled.ask(question) == retriever.ask(question)
        assert {"tokenize (jieba)", "bm25 scores", "query embedding", "dense search (faiss)",
                "abstention model"} <= set(clock.spent), clock.spent
        clock.reset()
        assert profiled.search(question) == retriever.search(question)
        assert "query embedding" not in clock.spent


def test_the_timed_steps_of_a_call_fit_inside_it(retriever: Retriever) -> None:
    clock = StepClock()
    profiled = timed_retriever(retriever, clock)
    for question in QUESTIONS:
        clock.reset()
        total, _ = timed(lambda q=question: profiled.ask(q))
        assert 0 < sum(clock.spent.values()) <= total


def test_the_profile_has_a_median_per_step_and_the_rest(retriever: Retriever) -> None:
    profile = profile_ask(retriever, QUESTIONS, n=3, warmup=1)
    assert {"query embedding", "the rest", "total (in process)", "response model + JSON (outside the call)"} \
        <= set(profile.ask)
    assert {"bm25 scores", "the rest", "total (in process)"} <= set(profile.search)
    assert profile.ask["query embedding"] < profile.ask["total (in process)"]


def test_the_second_opinions_query_is_a_step_of_its_own(retriever: Retriever) -> None:
    if retriever.second_opinion is None:
        pytest.skip("the USE extra is not installed")
    clock = StepClock()
    profiled = timed_retriever(retriever, clock)
    question = "PO提交后多久能验证完"
    assert profiled.rank(question) == retriever.rank(question)  # ranked without a bar: USE is always asked
    assert clock.spent[SECOND_OPINION_STEP] > 0


def test_a_step_some_calls_skip_is_reported_with_its_share(retriever: Retriever) -> None:
    if retriever.bridge is None:
        pytest.skip("the USE extra is not installed")
    # Only the first question has a word no passage uses: the term bridge embeds words for one call in two.
    profile = profile_ask(retriever, ["How do I renew my widget licence?", "PO提交后多久能验证完"], n=2, warmup=0)
    assert profile.ask[f"{BRIDGE_STEP}: share of calls"] == 0.5
    assert profile.ask[f"{BRIDGE_STEP}, when run"] > 0
    assert BRIDGE_STEP not in profile.ask
