"""The keyword index and the vector store against straightforward reference computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.index_dir import LoadedBuild
from index.keyword_index import KeywordIndex, top_positive
from index.tokenizer import tokenize
from index.vector_store import FIELD_BODY, FIELD_TITLE, FIELD_WINDOW, FIELDS, VectorStore


def test_tokenizer_segments_chinese_and_folds_latin_case() -> None:
    tokens = tokenize("机会点/PO验证时效?ＳＬＡ多久")
    assert "po" in tokens and "sla" in tokens
    assert "验证" in tokens and "时效" in tokens
    assert "?" not in tokens and "/" not in tokens


def test_keyword_index_matches_latin_terms_case_insensitively() -> None:
    index = KeywordIndex.build(["代表处的多个PSM都会收到该PO", "机会点验证SLA为10个工作日", "天气很好"])
    for query in ("psm", "PSM", "Psm"):
        rows, scores = top_positive(index.scores(tokenize(query)), 5)
        assert rows.tolist() == [0]
        assert scores[0] > 0
    rows, _ = top_positive(index.scores(tokenize("sla 验证")), 5)
    assert rows.tolist()[0] == 1
    rows, _ = top_positive(index.scores(tokenize("不存在的词")), 5)
    assert rows.size == 0


def test_top_positive_orders_and_limits() -> None:
    rows, scores = top_positive(np.array([0.0, 3.0, 1.0, 2.0, 0.0]), 2)
    assert rows.tolist() == [1, 3]
    assert scores.tolist() == [3.0, 2.0]


def test_vector_store_scores_are_cosines(corpus_index: Path, embedder) -> None:
    index = LoadedBuild.open(corpus_index)
    query = embedder.embed_queries(["PO提交后多久能验证完"])[0]
    hits = index.store.search(query, 100)
    reference = index.vectors @ query
    for passage, body, title in zip(hits.passages, hits.body, hits.title, strict=True):
        rows = np.flatnonzero(index.rows.passage == passage)
        for row in rows:
            expected = reference[row]
            got = body if index.rows.field[row] == FIELD_BODY else title
            assert abs(float(got) - float(expected)) < 1e-5
    assert index.passages[int(hits.passages[0])].title == "机会点/PO验证时效?"
    assert float(np.nanmin(hits.best)) >= -1.0 and float(np.nanmax(hits.best)) <= 1.0


def test_vector_store_keeps_best_row_per_field() -> None:
    vectors = np.eye(3, dtype=np.float32)
    store = VectorStore(vectors, np.array([0, 0, 1]), np.array([FIELD_BODY, FIELD_TITLE, FIELD_BODY]))
    hits = store.search(np.array([0.6, 0.8, 0.0], dtype=np.float32), 3)
    assert hits.passages.tolist() == [0, 1]
    assert np.isclose(hits.body[0], 0.6) and np.isclose(hits.title[0], 0.8)
    assert np.isnan(hits.title[1])


def test_a_passage_is_found_by_its_best_window_and_ranked_by_it() -> None:
    vectors = np.eye(4, dtype=np.float32)
    rows = np.array([0, 0, 0, 1])
    store = VectorStore(vectors, rows, np.array([FIELD_BODY, FIELD_WINDOW, FIELD_WINDOW, FIELD_BODY]))
    hits = store.search(np.array([0.1, 0.2, 0.9, 0.3], dtype=np.float32), 4)
    assert hits.passages.tolist() == [0, 1]  # passage 0 by its second window, above passage 1's body
    assert np.isclose(hits.window[0], 0.9) and np.isclose(hits.body[0], 0.1) and np.isnan(hits.title[0])
    assert np.isclose(hits.best[0], 0.9) and np.isnan(hits.window[1])


def _hits_by_loop(store: VectorStore, query: np.ndarray, k: int) -> tuple[list[int], list[list[float]]]:
    """The per-passage reduction written as a loop over the rows FAISS returns (best first)."""
    scores, rows = store._index.search(query.reshape(1, -1), min(k, store.size))
    found: dict[int, list[float]] = {}
    for score, row in zip(scores[0], rows[0], strict=True):
        per_field = found.setdefault(int(store.row_passage[row]), [np.nan] * FIELDS)
        if np.isnan(per_field[int(store.row_field[row])]):
            per_field[int(store.row_field[row])] = float(score)
    fields = [np.array([v[f] for v in found.values()], dtype=np.float32) for f in range(FIELDS)]
    order = np.argsort(-np.fmax(np.fmax(fields[0], fields[1]), fields[2]), kind="stable")
    return np.array(list(found))[order].tolist(), [f[order].tolist() for f in fields]


def test_vector_store_reduction_matches_a_loop_over_rows() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[150:160] = vectors[140:150]  # equal scores: ties keep the order FAISS gives
    passages = rng.integers(0, 60, size=300)  # several rows per passage and field, in any order
    store = VectorStore(vectors, passages, rng.integers(0, FIELDS, size=300))
    for query in vectors[:40]:
        for k in (1, 5, 50, 300):
            hits = store.search(query, k)
            passages_found, per_field = _hits_by_loop(store, query, k)
            assert hits.passages.tolist() == passages_found
            for field, found in ((FIELD_BODY, hits.body), (FIELD_TITLE, hits.title), (FIELD_WINDOW, hits.window)):
                np.testing.assert_array_equal(found, np.array(per_field[field], dtype=np.float32))
                assert found.dtype == np.float32
            assert hits.passages.dtype == np.int64
