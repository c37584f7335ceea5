"""A keyword result must match at least half of the query's distinct terms."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from retrieval.term_coverage import enough_terms, required_terms

# Which of three passages contain which term.
CONTAINS = {"不": [1, 1, 1], "存在": [0, 0, 0], "词": [0, 0, 0], "zzzqqq": [0, 0, 0], "PSM": [1, 0, 0],
            "发票": [0, 1, 0], "审核": [1, 1, 0]}
INDEX = SimpleNamespace(
    passages=[object()] * 3,
    keyword_scores=lambda tokens: np.array([sum(CONTAINS[t][i] for t in tokens) for i in range(3)], dtype=float),
)


@pytest.mark.parametrize(("terms", "required"), [(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3)])
def test_required_terms(terms: int, required: int) -> None:
    assert required_terms(terms) == required


def test_one_shared_character_of_four_terms_is_no_match() -> None:
    assert enough_terms(INDEX, [["zzzqqq", "不", "存在", "词"]]).tolist() == [False, False, False]


def test_short_queries_match_any_of_their_terms() -> None:
    assert enough_terms(INDEX, [["PSM", "发票"]]).tolist() == [True, True, False]


def test_repeated_terms_count_once() -> None:
    assert enough_terms(INDEX, [["审核", "审核", "PSM", "PSM", "发票", "存在"]]).tolist() == [True, True, False]


def test_a_passage_counts_when_either_reading_has_enough_terms() -> None:
    own, with_synonyms = ["发票", "存在"], ["发票", "存在", "词", "zzzqqq"]  # 1 of 2 terms is enough, 1 of 4 is not
    assert enough_terms(INDEX, [with_synonyms]).tolist() == [False, False, False]
    assert enough_terms(INDEX, [with_synonyms, own]).tolist() == [False, True, False]
