"""Fit the abstention model on a question set: `faq calibrate`."""

from __future__ import annotations

import numpy as np

from retrieval.abstention.model import AbstentionModel, fit
from retrieval.config import CONFIGS
from retrieval.questions import Question, is_match
from retrieval.retriever import Retriever


def calibration_features(retriever: Retriever, questions: list[Question]) -> tuple[np.ndarray, np.ndarray]:
    """Decision features of each question's top passage, and whether that passage is right."""
    rows, labels = [], []
    for q in questions:
        ranking, _ = retriever.read(q.question, list(q.history))
        if ranking.features is None:
            continue
        top = retriever.index.passages[ranking.passages[0]]
        rows.append(ranking.features.to_array())
        labels.append(int(q.expected is not None and is_match(top, q.expected, q.match)))
    return np.array(rows), np.array(labels)


def calibrate(retriever: Retriever, questions: list[Question], min_precision: float, fitted_on: str
              ) -> AbstentionModel:
    """Fit the abstention model for the retriever's index and embedder on `questions`."""
    ranker = Retriever(retriever.index, retriever.embedder, None, CONFIGS["hybrid"], retriever.top_k,
                       retriever.background, bridge=retriever.bridge, second_opinion=retriever.second_opinion)
    features, labels = calibration_features(ranker, questions)
    if labels.min(initial=1) == labels.max(initial=0):
        raise ValueError("calibration needs both correctly answered and refused/wrong questions")
    return fit(retriever.embedder.name, features, labels, min_precision=min_precision, fitted_on=fitted_on)
