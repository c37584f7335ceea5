"""The decision features of a question's top passage: named, relative to the question and the corpus."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import astuple, dataclass, fields, replace
from functools import lru_cache

import numpy as np

from index.searchable import SearchableBuild
from index.vector_store import FIELD_TITLE
from ingest.passage import detect_lang
from retrieval.abstention.background import Background
from retrieval.abstention.second_opinion import SecondOpinion
from retrieval.fusion import Signals


@dataclass(frozen=True, slots=True)
class DecisionFeatures:
    """What the answer/abstain model sees of the top passage for one question."""

    cos_top: float           # best cosine of the top passage (title, body or a window of a long answer)
    cos_title: float         # question-to-title cosine of the top passage (0 when it has no title row)
    cos_margin: float        # cos_top minus the best cosine of any other passage
    cos_over_mean: float     # cos_top minus the question's mean cosine to the corpus
    keyword_coverage: float  # share of the question's keywords found in the top passage
    keyword_top: float       # 1 when the top passage is also the best keyword match
    is_english: float        # the question is mostly Latin script
    cos_over_background: float  # cos_top minus the cosine of the nearest background question in the top's language
    uncovered_idf: float     # IDF-weighted share of the question's keywords missing from the top passage
    unknown_share: float     # share of the question's keywords that no passage of the corpus uses
    score_margin: float      # the top passage's fused score minus the best other passage's, in the reading's fusion
    second_agrees: float     # 1 when USE scores the top highest among the first candidates (NaN: not measured)

    def to_array(self) -> np.ndarray:
        """The values in `FEATURES` order."""
        return np.array(astuple(self), dtype=np.float64)


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(DecisionFeatures))


class FeatureExtractor:
    """Computes `DecisionFeatures` for the top passage of one reading of a question."""

    def __init__(self, index: SearchableBuild, space: str, background: Background,
                 second_opinion: SecondOpinion | None = None) -> None:
        self.index = index
        self.space = space
        self.background = background
        self.second_opinion = second_opinion
        self._centroid = index.centroid(space)
        self._tokens_of = lru_cache(maxsize=4096)(self._passage_tokens)

    def __call__(self, question: str, signals: Signals, top: int, exclude: Collection[int] = (),
                 exclude_background: int | None = None, candidates: Sequence[int] = (), second_opinion: bool = True
                 ) -> DecisionFeatures | None:
        """The features of passage `top` for this reading; None without a dense reading.

        `exclude` are passages taken out of the corpus and `exclude_background` a background question
        taken out of the background (self-calibration asks held-out entries and background questions);
        `candidates`: the reading's ranked passages after `top`, among which the second opinion chooses;
        `second_opinion=False` leaves it unmeasured (NaN), for `with_second_opinion` to add when it is needed.
        """
        vector, hits = signals.vector, signals.hits
        if vector is None or hits is None:
            return None
        own = self.index.passage_vectors(self.space, [top])
        cosines = own.vectors @ vector
        title_cosines = cosines[own.field == FIELD_TITLE]
        cos_top = float(cosines.max())
        # The best other passage is among the dense hits: they hold the nearest vectors.
        keep = hits.passages != top
        if exclude:
            keep &= ~np.isin(hits.passages, list(exclude))
        others = hits.best[keep]
        mean_cos = float(self._centroid @ vector) if self._centroid is not None else 0.0
        tokens, covered = signals.tokens, self._tokens_of(top)
        uncovered_idf, unknown_share = self._rarity(tokens, covered)
        return DecisionFeatures(
            cos_top=cos_top,
            cos_title=float(title_cosines.max()) if title_cosines.size else 0.0,
            cos_margin=cos_top - float(others.max()) if others.size else cos_top,
            cos_over_mean=cos_top - mean_cos,
            keyword_coverage=sum(1 for t in tokens if t in covered) / len(tokens) if tokens else 0.0,
            keyword_top=float(signals.keyword_order.size > 0 and int(signals.keyword_order[0]) == top),
            is_english=float(detect_lang(question) == "en"),
            cos_over_background=cos_top - self.background.best_cosine(vector, exclude_background,
                                                                  self.index.passages[top].lang),
            uncovered_idf=uncovered_idf,
            unknown_share=unknown_share,
            score_margin=_score_margin(signals.fused, top, exclude),
            second_agrees=self._agrees(question, [top, *candidates]) if second_opinion else math.nan,
        )

    def with_second_opinion(self, question: str, features: DecisionFeatures, ranked: Sequence[int]
                            ) -> DecisionFeatures:
        """`features` with the second opinion measured on the ranked passages (`ranked[0]`: the top)."""
        return replace(features, second_agrees=self._agrees(question, ranked))

    def _agrees(self, question: str, ranked: Sequence[int]) -> float:
        return self.second_opinion.agrees(question, ranked) if self.second_opinion is not None else math.nan

    def _rarity(self, tokens: list[str], covered: frozenset[str]) -> tuple[float, float]:
        """IDF-weighted share of `tokens` not in `covered`, and share of tokens the corpus never uses; a question
        with no keywords at all ("' OR ''='") covers nothing the corpus knows."""
        if not tokens:
            return 1.0, 1.0
        frequency = self.index.document_frequency(tokens)
        idf = np.log1p(len(self.index.passages) / (frequency + 0.5))
        missing = np.array([t not in covered for t in tokens])
        return float(idf[missing].sum() / idf.sum()), float(np.mean(frequency == 0))

    def _passage_tokens(self, passage: int) -> frozenset[str]:
        """The keyword tokens of a passage (whole tokens: a question's "1" does not match "10")."""
        return frozenset(self.index.tokenize(self.index.passages[passage].matching_text))


def _score_margin(fused: np.ndarray, top: int, exclude: Collection[int]) -> float:
    """How far passage `top` stands above every other candidate in the fused scores of the reading (a top that
    this reading did not find stands at its lowest score)."""
    others = fused.copy()
    others[[top, *exclude]] = -np.inf
    best_other = float(others.max())
    if np.isfinite(fused[top]):
        own = float(fused[top])
    else:
        found = fused[np.isfinite(fused)]
        own = float(found.min()) if found.size else 0.0
    return own - best_other if np.isfinite(best_other) else own
