"""The query stage as a Haystack component and pipeline: plain init values, lazy loading, YAML round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from haystack import Document

from index.index_dir import IndexLoadError
from retrieval.components import FAQRetriever
from retrieval.loading import load_retriever
from retrieval.pipeline import load_query_pipeline, query_pipeline
from retrieval.settings import RetrievalSettings

QUESTION = "PO提交了要等多久才能验证完"
HISTORY = [("PO验证是怎么回事", "伙伴提交PO后，华为会验证。")]


@pytest.fixture(scope="module")
def faq(corpus_index: Path) -> FAQRetriever:
    component = FAQRetriever(str(corpus_index), top_k=3)
    component.warm_up()
    return component


def test_serialises_to_plain_values() -> None:
    component = FAQRetriever("/srv/faq/index", "use", calibration_file="/srv/faq/use.json", top_k=7, config="hybrid")
    data = component.to_dict()
    assert data == {
        "type": "retrieval.components.FAQRetriever",
        "init_parameters": {"index_dir": "/srv/faq/index", "embedder": "use",
                            "calibration_file": "/srv/faq/use.json", "top_k": 7, "config": "hybrid"},
    }
    assert FAQRetriever.from_dict(data).to_dict() == data


def test_unknown_configuration_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown retrieval configuration 'fast'"):
        FAQRetriever("/srv/faq/index", config="fast")


def test_nothing_is_loaded_before_warm_up(tmp_path: Path) -> None:
    component = FAQRetriever(str(tmp_path / "no-index"))  # constructing opens nothing, so nothing fails
    with pytest.raises(RuntimeError, match="warm_up"):
        component.run(QUESTION)
    with pytest.raises(IndexLoadError, match="no published build"):
        component.warm_up()
    assert not (tmp_path / "no-index").exists()  # and it never builds one


def test_answers_as_the_retriever_does_with_ranked_documents(faq: FAQRetriever, corpus_index: Path) -> None:
    out = faq.run(QUESTION)
    expected = load_retriever(RetrievalSettings(index_dir=corpus_index, top_k=3)).ask(QUESTION)
    assert out["result"] == expected
    assert out["result"].answered
    documents: list[Document] = out["documents"]
    assert [d.id for d in documents] == expected.ranked_ids[:3]
    top = documents[0]
    assert top.meta["title"] == "机会点/PO验证时效?" == expected.citations[0].title
    assert top.meta["topic"] == "共享给华为(PO)"
    assert top.meta["url"] == expected.citations[0].url
    assert "10个工作日" in (top.content or "")
    scores = [d.score for d in documents]
    assert scores == sorted(scores, reverse=True)


def test_history_makes_a_follow_up(faq: FAQRetriever) -> None:
    out = faq.run("那要多久?", history=HISTORY)
    assert out["result"].used_history
    assert out["documents"][0].meta["title"] == "机会点/PO验证时效?"


def test_query_pipeline_yaml_round_trip(corpus_index: Path) -> None:
    pipeline = query_pipeline(str(corpus_index), top_k=3)
    yaml = pipeline.dumps()
    assert "retrieval.components.FAQRetriever" in yaml and str(corpus_index) in yaml
    loaded = load_query_pipeline(yaml)
    assert loaded.dumps() == yaml
    for inputs in ({"question": QUESTION}, {"question": "那要多久?", "history": HISTORY}):
        direct = pipeline.run({"retriever": inputs})["retriever"]
        again = loaded.run({"retriever": inputs})["retriever"]
        assert again["result"] == direct["result"]
        assert again["documents"] == direct["documents"]
