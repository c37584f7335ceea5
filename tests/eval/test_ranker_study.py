"""The ranker study's scoring: Recall@1 per question group, and a ranker that learns a signal."""

from __future__ import annotations

import numpy as np

from eval.ranker_study import FEATURES, MONOTONE, CandidateSet, fit_ranker, recall_at_1


def _set(seed: int, questions: int = 200, candidates: int = 8) -> CandidateSet:
    """Candidates whose right one is marked by `e5_below_best` = 0 but sits at a random fused rank."""
    rng = np.random.default_rng(seed)
    rows, right, owner = [], [], []
    for q in range(questions):
        answer = rng.integers(candidates)
        for rank in range(candidates):
            row = rng.random(len(FEATURES)) * 0.1
            row[FEATURES.index("fused_rank")] = 1.0 / (1 + rank)
            row[FEATURES.index("e5_below_best")] = 0.0 if rank == answer else -0.05 - 0.1 * rng.random()
            rows.append(row)
            right.append(int(rank == answer))
            owner.append(q)
    return CandidateSet(f"synthetic-{seed}", np.asarray(rows), np.asarray(right), np.asarray(owner))


def test_recall_at_1_counts_questions_whose_best_scored_candidate_is_right() -> None:
    data = CandidateSet("two", np.zeros((4, len(FEATURES))), np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1]))
    assert recall_at_1(np.array([0.1, 0.9, 0.2, 0.8]), data) == 0.5
    assert recall_at_1(np.array([0.1, 0.9, 0.9, 0.8]), data) == 1.0


def test_a_ranker_trained_on_one_set_finds_the_signal_on_another() -> None:
    train, test = _set(0), _set(1)
    fused = recall_at_1(test.features[:, FEATURES.index("fused_rank")], test)
    model = fit_ranker([train], MONOTONE, monotone=True)
    learned = recall_at_1(model.predict(test.features[:, [FEATURES.index(f) for f in MONOTONE]]), test)
    assert fused < 0.3 < 0.95 < learned
