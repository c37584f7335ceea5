"""The character-bigram keyword index: its analyzer, its scores, and builds that predate it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.bigram_index import CharacterBigramIndex, character_bigrams
from index.index_dir import BIGRAMS, LoadedBuild, current_build
from index.keyword_index import KeywordIndex
from index.tokenizer import tokenize


@pytest.mark.parametrize(("text", "terms"), [
    ("开发票", ["开发", "发票"]),
    ("PO跟HO撞了呢?", ["跟", "撞了", "了呢"]),
    ("What is the SLA?", []),
    ("ＳＬＡ 1０个", ["个"]),
    ("' OR 1=1 --", []),
    ("", []),
])
def test_the_analyzer_pairs_han_characters_and_leaves_latin_to_the_word_index(text: str, terms: list[str]) -> None:
    assert character_bigrams(text) == terms


def test_characters_match_where_the_words_of_a_paraphrase_do_not() -> None:
    texts = ["激励可以合并开票吗", "MDF活动怎么申请", "天气很好"]
    words = KeywordIndex.build(texts)
    # jieba reads "开发票" as 开发 + 票: no word is shared with 开票, so the word index misses the first text.
    assert words.scores(tokenize("激励开发票"))[0] == words.scores(tokenize("激励"))[0]
    bigrams = CharacterBigramIndex.build(texts)
    scores = bigrams.scores("激励能合并开发票吗")
    assert int(np.argmax(scores)) == 0 and scores[1] == scores[2] == 0
    assert not bigrams.scores("完全无关的话题").any()


def test_the_index_round_trips_without_pickle(tmp_path: Path) -> None:
    index = CharacterBigramIndex.build(["机会点验证SLA为10个工作日", "代表处的多个PSM都会收到该PO"])
    index.save(tmp_path)
    loaded = CharacterBigramIndex.load(tmp_path, 2)
    assert np.array_equal(loaded.scores("PSM收到PO"), index.scores("PSM收到PO"))


def test_a_build_written_before_the_bigram_index_gets_one_from_its_passages(corpus_index: Path,
                                                                             tmp_path: Path) -> None:
    build = current_build(corpus_index)
    assert build is not None and (build / BIGRAMS).is_dir()
    old = tmp_path / build.name
    shutil.copytree(build, old)
    shutil.rmtree(old / BIGRAMS)
    question = "PO验证要多久"
    assert np.array_equal(LoadedBuild.load_build(old).bigram_scores(question),
                          LoadedBuild.load_build(build).bigram_scores(question))
