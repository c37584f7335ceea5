"""Large stores search an HNSW graph: same nearest vectors as exact search, saved and checked with the build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embedders import Embedder
from index.index_dir import IndexLoadError, LoadedBuild, current_build
from index.vector_store import GRAPH_FILE, VectorStore, build_graph, write_graph
from ingest.scrape import parse_scrape
from tests.conftest import CORPUS

SMALL_LIMIT = 30  # stands in for EXACT_SEARCH_MAX_VECTORS so that tests stay small


@pytest.fixture
def graph_above_30(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.vector_store.EXACT_SEARCH_MAX_VECTORS", SMALL_LIMIT)


def _unit_vectors(count: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_graph_finds_what_exact_search_finds_with_exact_cosines(graph_above_30: None) -> None:
    vectors = _unit_vectors(2000)
    rows = np.arange(2000)
    fields = np.zeros(2000, dtype=np.int8)
    graph_store = VectorStore(vectors, rows, fields)
    assert graph_store.graph is not None
    assert VectorStore(vectors[:SMALL_LIMIT], rows[:SMALL_LIMIT], fields[:SMALL_LIMIT]).graph is None
    queries = _unit_vectors(50, seed=1)
    same_top = 0
    for query in queries:
        hits = graph_store.search(query, 10)
        exact_order = np.argsort(-(vectors @ query))[:10]  # numpy compares every vector
        same_top += int(hits.passages[0] == exact_order[0])
        np.testing.assert_allclose(hits.body, vectors[hits.passages] @ query, rtol=1e-5, atol=1e-5)
        assert len(set(hits.passages.tolist()) & set(exact_order.tolist())) >= 8
    assert same_top >= 48


def test_build_saves_the_graph_and_loading_checks_it(tmp_path: Path, embedder: Embedder, graph_above_30: None) -> None:
    scrape = CORPUS / "partner-faq-scrape.txt"
    root = tmp_path / "index"
    build_index(parse_scrape(scrape, scrape.read_text("utf-8")), root, embedder)  # 40 vectors > 30
    build = current_build(root)
    assert (build / GRAPH_FILE).is_file()
    index = LoadedBuild.open(root)
    assert index.store.graph is not None
    question = embedder.embed_queries(["PO提交后多久能验证完"])[0]
    assert index.passages[int(index.store.search(question, 5).passages[0])].title == "机会点/PO验证时效?"

    (build / GRAPH_FILE).write_bytes(b"\x00" * 64)
    with pytest.raises(IndexLoadError, match=r"corrupted: vectors\.hnsw is not a FAISS index"):
        LoadedBuild.open(root)
    write_graph(build_graph(index.vectors[:35]), build / GRAPH_FILE)  # a graph of other vectors
    with pytest.raises(IndexLoadError, match="does not index the 40 vectors"):
        LoadedBuild.open(root)
    (build / GRAPH_FILE).unlink()  # an older build without its graph still loads (the graph is rebuilt)
    assert LoadedBuild.open(root).store.graph is not None


def test_small_stores_stay_exact(corpus_index: Path) -> None:
    assert LoadedBuild.open(corpus_index).store.graph is None
    assert not (current_build(corpus_index) / GRAPH_FILE).exists()
