"""A long answer's windows: consecutive sentences, in order, none longer than the window, nothing dropped."""

from __future__ import annotations

import pytest

import index.build
from index.answer_windows import WINDOW_CHARS, answer_windows
from index.build import row_specs
from index.vector_store import FIELD_BODY, FIELD_TITLE, FIELD_WINDOW
from ingest.passage import Passage


def _long_answer() -> str:
    sentences = [f"第{i}步：在账单中心查看第{i}项费用的明细和趋势。" for i in range(40)]
    sentences[17] = "账单在每个月的第2天或第3天生成。"
    return "".join(sentences)


def test_a_short_answer_has_no_windows() -> None:
    assert answer_windows("账单在每个月的第2天或第3天生成。") == []
    assert answer_windows("字" * WINDOW_CHARS) == []


def test_a_long_answer_is_cut_into_windows_of_whole_sentences_in_order() -> None:
    answer = _long_answer()
    windows = answer_windows(answer)
    assert len(windows) > 1
    assert all(len(w) <= WINDOW_CHARS for w in windows)
    assert "".join(windows).replace(" ", "") == answer  # in order, nothing dropped
    assert any("账单在每个月的第2天或第3天生成。" in w for w in windows)  # a sentence stays whole in one window
    assert all(w.endswith("。") for w in windows)  # cut between sentences


def test_an_overlong_sentence_is_cut_to_the_window() -> None:
    windows = answer_windows("a" * (WINDOW_CHARS * 2 + 5), size=WINDOW_CHARS)
    assert [len(w) for w in windows] == [WINDOW_CHARS, WINDOW_CHARS, 5]


def test_only_a_long_answer_gets_window_rows_each_with_its_title() -> None:
    short = Passage.create(title="怎么下载账单?", answer="在账单中心下载。", topic="账单", source="a.md", kind="faq")
    long = Passage.create(title="查看账单", answer=_long_answer(), topic="账单", source="b.md", kind="guide")
    specs = row_specs([short, long])
    assert [s.field for s in specs if s.passage == 0] == [FIELD_BODY, FIELD_TITLE]
    windows = [s for s in specs if s.passage == 1 and s.field == FIELD_WINDOW]
    assert len(windows) == len(answer_windows(long.answer))
    assert all(s.text.startswith("查看账单\n") and not s.as_query for s in windows)
    assert len({s.key for s in specs}) == len(specs)


def test_a_build_made_by_an_earlier_row_recipe_is_not_current(monkeypatch: pytest.MonkeyPatch) -> None:
    passages = [Passage.create(title="查看账单", answer=_long_answer(), topic="账单", source="b.md", kind="guide")]
    today = index.build.corpus_hash(passages)
    monkeypatch.setattr(index.build, "ROW_RECIPE", "before-windows")
    assert index.build.corpus_hash(passages) != today  # so `build_is_current` rebuilds it, reusing its vectors


def test_an_english_answer_gets_no_windows() -> None:
    english = Passage.create(title="Viewing bills", answer="Bills are generated on the 2nd or 3rd day. " * 40,
                             topic="Billing", source="c.md", kind="guide")
    assert english.lang == "en"
    assert [s.field for s in row_specs([english])] == [FIELD_BODY, FIELD_TITLE]
