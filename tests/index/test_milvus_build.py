"""Builds in a real Milvus (`milvus-lite server`): parity with the FAISS build, alias publishing, incremental
builds, dropping old builds, a failed publish changing nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embedders import Embedder
from index.index_dir import LoadedBuild
from index.milvus_build import MilvusBuild
from index.milvus_publish import MilvusTarget
from index.milvus_store import MilvusConfig, MilvusPointer, MilvusStore
from index.tokenizer import tokenize
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.loading import load_abstention
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from tests.conftest import CORPUS, PROJECT
from tests.milvus import MilvusServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
DEV = [json.loads(line)["question"] for line in (PROJECT / "eval" / "questions" / "dev.jsonl").read_text("utf-8")
       .splitlines() if line]


def _config(server: MilvusServer, keep: int = 2) -> MilvusConfig:
    return MilvusConfig(uri=server.uri, base=f"t_{uuid.uuid4().hex[:10]}", timeout=10, keep_builds=keep)


def _passages() -> list[Passage]:
    return parse_paths([CORPUS]).passages


@pytest.fixture(scope="module")
def published(milvus_server: MilvusServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
              ) -> MilvusConfig:
    """The shipped corpus published to Milvus under a fresh base name."""
    config = _config(milvus_server)
    build_index(_passages(), tmp_path_factory.mktemp("milvus-lock"), embedder, target=MilvusTarget(config))
    return config


def test_the_milvus_build_holds_what_the_faiss_build_holds(published: MilvusConfig, corpus_index: Path,
                                                           embedder: Embedder) -> None:
    faiss_build = LoadedBuild.open(corpus_index)
    milvus = MilvusBuild.open(published, embedder=embedder.name, dim=embedder.dim)
    assert milvus.build_id == MilvusPointer(published).current()
    assert [p.to_dict() for p in milvus.passages] == [p.to_dict() for p in faiss_build.passages]
    assert milvus.spaces == faiss_build.spaces == (embedder.name,)
    rows = list(range(len(faiss_build.passages)))
    ours, theirs = milvus.passage_vectors(embedder.name, rows), faiss_build.passage_vectors(embedder.name, rows)
    assert np.array_equal(ours.passage, theirs.passage) and np.array_equal(ours.field, theirs.field)
    assert np.allclose(ours.vectors, theirs.vectors, atol=1e-6)
    assert np.allclose(milvus.centroid(embedder.name), faiss_build.centroid(embedder.name), atol=1e-5)
    for question in DEV[:40]:  # own tokenizer's BM25 weights as sparse vectors: the same scores as bm25s
        tokens = tokenize(question)
        assert np.allclose(milvus.keyword_scores(tokens), faiss_build.keyword_scores(tokens), rtol=1e-4, atol=1e-5)


def test_the_dev_set_gets_the_same_top_passage_from_both_stores(published: MilvusConfig, corpus_index: Path,
                                                                 embedder: Embedder) -> None:
    abstention, _ = load_abstention(RetrievalSettings(_env_file=None, embedder=embedder.name))  # type: ignore[call-arg]
    on_faiss = Retriever(LoadedBuild.open(corpus_index), embedder, abstention)
    on_milvus = Retriever(MilvusBuild.open(published), embedder, abstention)
    same = 0
    for question in DEV:
        a, b = on_faiss.ask(question), on_milvus.ask(question)
        top_a = a.citations[0].passage_id if a.citations else (a.suggestions[0].passage_id if a.suggestions else "")
        top_b = b.citations[0].passage_id if b.citations else (b.suggestions[0].passage_id if b.suggestions else "")
        same += top_a == top_b and a.answered == b.answered
    assert same / len(DEV) >= 0.99, f"{same} of {len(DEV)}"


def test_incremental_builds_copy_vectors_and_old_builds_are_dropped(milvus_server: MilvusServer, embedder: Embedder,
                                                                    tmp_path: Path) -> None:
    config = _config(milvus_server, keep=1)
    passages = _passages()
    first = build_index(passages, tmp_path, embedder, target=MilvusTarget(config))
    assert first.embedded == first.vectors and first.reused == 0
    extra = Passage.create(title="沙箱账号多久过期?", answer="九十天后自动过期。", topic="测试", source="test",
                           kind="faq")
    second = build_index([*passages, extra], tmp_path, embedder, target=MilvusTarget(config))
    assert second.embedded == 2 and second.reused == first.vectors  # the new passage's body and title only
    third = build_index(passages, tmp_path, embedder, target=MilvusTarget(config))
    assert third.embedded == 0
    store = MilvusStore(config)
    assert store.build_collections() == [second.build, third.build]  # the current one and one older
    assert store.alias_target() == third.build
    reopened = MilvusBuild.open(config)
    assert reopened.collection == third.build and len(reopened.passages) == len(passages)


def test_a_failed_publish_leaves_the_alias_and_drops_the_half_written_build(
        published: MilvusConfig, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MilvusStore(published)
    before, collections = store.alias_target(), store.build_collections()

    def broken(self: MilvusTarget, name: str, expected: int) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(MilvusTarget, "_check_complete", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        build_index(_passages()[:5], tmp_path, embedder, target=MilvusTarget(published))
    assert store.alias_target() == before
    assert store.build_collections() == collections
    assert MilvusBuild.open(published).collection == before


def test_an_empty_store_names_no_build_and_opening_it_says_what_to_do(milvus_server: MilvusServer) -> None:
    config = _config(milvus_server)
    assert MilvusPointer(config).current() is None
    with pytest.raises(Exception, match="run `faq ingest`"):
        MilvusBuild.open(config)


def test_a_long_answers_windows_are_searched_alike_in_both_stores(milvus_server: MilvusServer, embedder: Embedder,
                                                                  tmp_path: Path) -> None:
    steps = "".join(f"第{i}步：在账单中心查看第{i}项费用的明细、占比和过去六个月的趋势。" for i in range(30))
    long = Passage.create(title="查看账单", answer=steps + "账单在每个月的第2天或第3天生成。", topic="账单",
                          source="test", kind="guide")
    passages = [*_passages(), long]
    config = _config(milvus_server)
    build_index(passages, tmp_path / "lock", embedder, target=MilvusTarget(config))
    build_index(passages, tmp_path / "faiss", embedder)
    milvus, faiss_build = MilvusBuild.open(config), LoadedBuild.open(tmp_path / "faiss")
    assert len(milvus.passages) == len(passages)  # a window row is not read as another passage
    query = embedder.embed_queries(["账单每个月几号生成?"])[0]
    ours, theirs = milvus.dense_search(embedder.name, query, 40), faiss_build.dense_search(embedder.name, query, 40)
    assert ours.passages.tolist() == theirs.passages.tolist()
    found = ours.passages.tolist().index(len(passages) - 1)
    assert ours.window[found] == ours.best[found] > ours.body[found]  # its window is nearer than its whole body
    for mine, other in ((ours.body, theirs.body), (ours.title, theirs.title), (ours.window, theirs.window)):
        assert np.allclose(mine, other, atol=1e-5, equal_nan=True)
