"""The decision features of a question's top passage: named, relative to the question and the corpus."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from functools import lru_cache

import numpy as np

from index.searchable import SearchableBuild
from index.vector_store import FIELD_TITLE
from ingest.passage import detect_lang
from retrieval.fusion import Signals


@dataclass(frozen=True, slots=True)
class DecisionFeatures:
    """What the answer/abstain model sees of the top passage for one question."""

    cos_top: float           # best cosine of the top passage (title or body)
    cos_title: float         # question-to-title cosine of the top passage (0 when it has no title row)
    cos_margin: float        # cos_top minus the best cosine of any other passage
    cos_over_mean: float     # cos_top minus the question's mean cosine to the corpus
    keyword_coverage: float  # share of the question's keywords found in the top passage
    keyword_top: float       # 1 when the top passage is also the best keyword match
    is_english: float        # the question is mostly Latin script

    def to_array(self) -> np.ndarray:
        """The values in `FEATURES` order."""
        return np.array(astuple(self), dtype=np.float64)


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(DecisionFeatures))


class FeatureExtractor:
    """Computes `DecisionFeatures` for the top passage of one reading of a question."""

    def __init__(self, index: SearchableBuild, space: str) -> None:
        self.index = index
        self.space = space
        self._centroid = index.centroid(space)
        self._tokens_of = lru_cache(maxsize=4096)(self._passage_tokens)

    def __call__(self, question: str, signals: Signals, top: int) -> DecisionFeatures | None:
        """The features of passage `top` for this reading; None without a dense reading."""
        vector, hits = signals.vector, signals.hits
        if vector is None or hits is None:
            return None
        own = self.index.passage_vectors(self.space, [top])
        cosines = own.vectors @ vector
        title_cosines = cosines[own.field == FIELD_TITLE]
        cos_top = float(cosines.max())
        # The best other passage is among the dense hits: they hold the nearest vectors.
        others = hits.best[hits.passages != top]
        mean_cos = float(self._centroid @ vector) if self._centroid is not None else 0.0
        tokens, covered = signals.tokens, self._tokens_of(top)
        return DecisionFeatures(
            cos_top=cos_top,
            cos_title=float(title_cosines.max()) if title_cosines.size else 0.0,
            cos_margin=cos_top - float(others.max()) if others.size else cos_top,
            cos_over_mean=cos_top - mean_cos,
            keyword_coverage=sum(1 for t in tokens if t in covered) / len(tokens) if tokens else 0.0,
            keyword_top=float(signals.keyword_order.size > 0 and int(signals.keyword_order[0]) == top),
            is_english=float(detect_lang(question) == "en"),
        )

    def _passage_tokens(self, passage: int) -> frozenset[str]:
        """The keyword tokens of a passage (whole tokens: a question's "1" does not match "10")."""
        return frozenset(self.index.tokenize(self.index.passages[passage].matching_text))
