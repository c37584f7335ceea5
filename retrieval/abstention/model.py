"""Calibrated abstention: the probability that the top-ranked passage answers the question.

Raw cosines are not comparable across languages (multilingual-e5 gives ~0.90 to in-domain
Chinese, ~0.80 to in-domain English and ~0.83 to off-topic Chinese questions), so the model
combines signals that are relative to the question itself: how far the best passage stands
above the rest and above the corpus centroid, whether keyword and dense retrieval agree, and how
much of the question the best passage covers. A logistic model over them is fitted on a
question set (`faq calibrate`) and its threshold chosen for precision; both live in a JSON file.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.abstention.features import FEATURES, DecisionFeatures


@dataclass(frozen=True, slots=True)
class AbstentionModel:
    """Logistic model over `FEATURES`, with the threshold chosen on a question set."""

    embedder: str
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    fitted_on: str = ""
    precision: float = math.nan
    recall: float = math.nan
    features: tuple[str, ...] = FEATURES  # what each weight is for, in order

    def confidence(self, features: DecisionFeatures | np.ndarray) -> float:
        """Probability that the top passage is a correct answer."""
        values = features.to_array() if isinstance(features, DecisionFeatures) else features
        # A feature not measured (NaN: no second embedder installed) counts as the fit's average.
        z = np.nan_to_num((values - np.asarray(self.mean)) / np.asarray(self.scale), nan=0.0)
        logit = float(z @ np.asarray(self.weights) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 40.0), -40.0)))

    def decided_alike(self, features: DecisionFeatures, threshold: float, unmeasured: str = "second_agrees") -> bool:
        """Whether `features` are answered at `threshold` (or refused) whatever the 0/1 feature `unmeasured` turns
        out to be: measuring it then cannot change the decision."""
        low, high = (self.confidence(replace(features, **{unmeasured: value})) for value in (0.0, 1.0))
        return (low >= threshold) == (high >= threshold)

    @property
    def fingerprint(self) -> str:
        """A short hash of the model's parameters: a build's self-calibration names the model it was fitted for."""
        values = (self.embedder, self.features, self.weights, self.bias, self.mean, self.scale, self.threshold)
        return hashlib.sha256(json.dumps(values).encode("utf-8")).hexdigest()[:16]

    def save(self, path: Path) -> None:
        """Write as JSON."""
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), "utf-8")

    @classmethod
    def load(cls, path: Path) -> AbstentionModel:
        """Read a model written by `save`."""
        data = json.loads(path.read_text("utf-8"))
        for key in ("weights", "mean", "scale", "features"):
            if key in data:
                data[key] = tuple(data[key])
        model = cls(**data)
        if model.features != FEATURES:
            raise ValueError(f"{path}: fitted on features {', '.join(model.features)}; these are "
                             f"{', '.join(FEATURES)}: refit it (faq calibrate)")
        if len(model.weights) != len(FEATURES):
            raise ValueError(f"{path}: expected {len(FEATURES)} weights, found {len(model.weights)}")
        return model


def fit(embedder: str, features: np.ndarray, correct: np.ndarray, min_precision: float = 0.9,
        fitted_on: str = "", sample_weight: np.ndarray | None = None,
        threshold_rows: np.ndarray | None = None) -> AbstentionModel:
    """Fit the logistic model and pick the lowest threshold whose precision reaches `min_precision`.

    `correct[i]` is 1 when the top passage for question i is right, 0 when it is wrong or the
    question should be refused. Precision: answered questions answered correctly; recall:
    answerable-and-correctly-ranked questions that were answered. `threshold_rows` (a mask) limits the
    threshold's choice to those rows: the weights may learn from sets whose share of right answers says
    nothing about a help center's (a paraphrase set where every question is answerable).
    """
    from sklearn.linear_model import LogisticRegression

    unmeasured = [name for name, missing in zip(FEATURES, np.isnan(features).any(axis=0), strict=True) if missing]
    if unmeasured:
        raise ValueError(f"decision features not measured: {', '.join(unmeasured)} (second_agrees needs the "
                         f"second embedder: pip install '.[use]')")
    mean = features.mean(axis=0)
    scale = np.where(features.std(axis=0) > 1e-6, features.std(axis=0), 1.0)
    classifier = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    classifier.fit((features - mean) / scale, correct, sample_weight=sample_weight)
    model = AbstentionModel(
        embedder=embedder,
        weights=tuple(float(w) for w in classifier.coef_[0]),
        bias=float(classifier.intercept_[0]),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        threshold=0.5,
        fitted_on=fitted_on,
    )
    rows = np.ones(len(correct), dtype=bool) if threshold_rows is None else threshold_rows
    scores = np.array([model.confidence(row) for row in features[rows]])
    weight = sample_weight[rows] if sample_weight is not None else None
    threshold, precision, recall = choose_threshold(scores, correct[rows], min_precision, weight)
    return AbstentionModel(**{**asdict(model), "threshold": threshold, "precision": precision,
                              "recall": recall})


def choose_threshold(scores: np.ndarray, correct: np.ndarray, min_precision: float,
                     sample_weight: np.ndarray | None = None) -> tuple[float, float, float]:
    """Lowest threshold reaching `min_precision` (the most precise one if none does), with its precision and
    recall, from scikit-learn's precision-recall curve."""
    from sklearn.metrics import precision_recall_curve

    if not correct.any():
        return float(scores.max(initial=1.0)), 0.0, 0.0
    precision, recall, thresholds = precision_recall_curve(correct, scores, sample_weight=sample_weight)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    reaching = np.flatnonzero(precision >= min_precision)
    best = int(reaching[0]) if reaching.size else int(np.argmax(precision))
    return float(thresholds[best]), float(precision[best]), float(recall[best])
