"""The retriever: a thin facade that reads a question, ranks passages, decides, and assembles the answer."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from index.embedders import Embedder
from index.searchable import SearchableBuild
from retrieval.abstention.background import Background
from retrieval.abstention.features import DecisionFeatures, FeatureExtractor
from retrieval.abstention.model import AbstentionModel
from retrieval.abstention.second_opinion import SecondOpinion
from retrieval.abstention.threshold import AnswerThreshold
from retrieval.answer import answer, refusal
from retrieval.answer_kinds import unstated_kinds
from retrieval.config import CONFIGS, RetrievalConfig
from retrieval.followup import Reading, is_elliptical, joined_reading
from retrieval.fusion import ScoreFusion, Signals, rank_fusion, top_finite
from retrieval.keyword_search import KeywordSearch
from retrieval.named_terms import unnamed_terms
from retrieval.results import AskResult, Candidate, Explanation, SearchPage
from retrieval.term_bridge import TermBridge

__all__ = ["CONFIGS", "Ranking", "RetrievalConfig", "Retriever"]
NO_BACKGROUND = Background([], np.zeros((0, 1), dtype=np.float32))


@dataclass(frozen=True, slots=True)
class Ranking:
    """Passages ranked for one reading of a question, with the decision features of the top one."""

    passages: list[int]
    scores: list[float]
    features: DecisionFeatures | None
    confidence: float


class Retriever:
    """Answers questions and keyword searches from one loaded build.

    `threshold` overrides the abstention model's own (the build's self-calibrated thresholds);
    `background` holds the off-topic questions the features measure the top passage against; `bridge` reads
    the question's English words that a Chinese corpus never uses as the corpus's own words; `second_opinion`
    tells the decision whether an independent embedder picks the same top passage.
    """

    def __init__(self, index: SearchableBuild, embedder: Embedder, abstention: AbstentionModel | None,
                 config: RetrievalConfig = CONFIGS["default"], top_k: int = 5,
                 background: Background = NO_BACKGROUND, threshold: float | AnswerThreshold | None = None,
                 bridge: TermBridge | None = None, second_opinion: SecondOpinion | None = None) -> None:
        if config.abstain and abstention is None:
            raise ValueError(f"configuration {config.name!r} needs an abstention model")
        self.index = index
        self.embedder = embedder
        self.abstention = abstention
        self.config = config
        self.top_k = top_k
        self.background = background
        if abstention is None or not config.abstain:
            threshold = 0.0
        elif threshold is None:
            threshold = abstention.threshold
        self.answer_threshold = threshold if isinstance(threshold, AnswerThreshold) else AnswerThreshold(threshold)
        self.threshold = self.answer_threshold.default
        self.bridge = bridge
        self.fusion = ScoreFusion(index, embedder, config, bridge)
        self.second_opinion = second_opinion
        self._features = FeatureExtractor(index, embedder.name, background, second_opinion)
        self._search = KeywordSearch(index)
        self._sections = _sections(index)

    def close(self) -> None:
        """Release what the build holds open (a shared store's connection); nothing is asked after this."""
        self.index.close()

    def rank(self, question: str) -> Ranking:
        """Rank passages for one reading of a question and score the top one's chance of being right."""
        signals = self.fusion(question)
        return self._held_to_what_is_asked(self.decide(question, signals, signals.fused), question)

    def decide(self, question: str, signals: Signals, fused: np.ndarray, exclude: tuple[int, ...] = (),
               exclude_background: int | None = None, settle_at: float | None = None) -> Ranking:
        """The ranking that `fused` scores give, and the confidence that its top passage is right.

        With `settle_at` (the threshold the answer is held to), the second opinion is asked only when its
        verdict could move the confidence across it; otherwise it stays unmeasured, and the confidence is the
        model's without it (the fit's mean in its place), on the same side of the threshold either way.
        """
        if exclude:
            fused = fused.copy()
            fused[list(exclude)] = -np.inf
        ranked, scores = top_finite(fused, max(self.top_k, 10))
        passages = ranked.tolist()
        if not passages:
            return Ranking(passages, scores.tolist(), None, 0.0)
        settling = self.abstention if settle_at is not None else None  # without a model, every feature is measured
        features = self._features(question, signals, passages[0], exclude, exclude_background, passages[1:],
                                  second_opinion=settling is None)
        if features is None:
            return Ranking(passages, scores.tolist(), None, 1.0)
        if settling is not None and not settling.decided_alike(features, settle_at):
            features = self._features.with_second_opinion(question, features, passages)
        confidence = self.abstention.confidence(features) if self.abstention else 1.0
        return Ranking(passages, scores.tolist(), features, confidence)

    def read(self, question: str, history: list[tuple[str, str]] | None = None) -> tuple[Ranking, Reading]:
        """Decide how to read the question, and rank that reading.

        The question is read alone unless it leans on the conversation (see `retrieval.followup`).
        An elliptical question is read joined to the conversation, except when alone it sits nearer the
        off-topic background than any passage and names a subject of its own, one of its nouns being a word
        the corpus never uses ("那红烧排骨呢?", "那今天天气怎么样呢?"; not "那要多久?"), or when alone it names a
        subject (a noun) and is answered at least as confidently. A fragment that names none ("那重复了怎么办?")
        asks about the conversation's subject: alone, its answer would be a guess at one. The joined reading
        ranks by both readings' ranks (a passage both support wins), so an elliptical question inherits the
        conversation's topic without the previous question's own answer taking over. Either reading has no
        confidence when its top passage states no duration, amount or number that the question itself asks for.
        """
        own = Reading(question, False)
        tokens = self.index.tokenize(question) if history and self.config.dense else None
        leans = tokens is not None and is_elliptical(question, tokens)
        # A fragment's characters match whatever shares them ("快过期", "是不是"): a question that leans on the
        # conversation is ranked without the character-bigram signal, in both readings.
        alone_signals = self.fusion(question, bigrams=not leans)
        # Read alone for good, its decision is all that counts; compared with a joined reading, its confidence too.
        alone = self._held_to_what_is_asked(
            self.decide(question, alone_signals, alone_signals.fused,
                        settle_at=None if leans else self.answer_threshold.for_question(question)), question)
        if tokens is None or not leans:
            return alone, own
        nouns = self.index.nouns(tokens)
        if self._off_topic(alone) and self._names_unknown_subject(nouns):
            return alone, own
        reading = joined_reading(question, history, self.index.tokenize)
        joined_signals = self.fusion(reading.text, bigrams=False)
        both = rank_fusion(alone_signals.fused) + rank_fusion(joined_signals.fused)
        both[both == 0] = -np.inf  # found by neither reading
        self._prefer_anchor_section(both, reading.anchor, alone_signals.keyword_order)
        joined = self._held_to_what_is_asked(
            self._with_best_margins(self.decide(reading.text, joined_signals, both), question, alone_signals), question)
        if nouns and self._confident(alone, question) and (
                not self._confident(joined, question) or alone.confidence >= joined.confidence):
            return alone, own
        return joined, reading

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, lang: str | None = None
            ) -> AskResult:
        """Answer a question, read in the light of the conversation only when it leans on it; the product's
        own words (refusal, notes) in `lang` ("zh" or "en"; default: the question's language)."""
        return self._result(question, *self.read(question, history), lang)

    def explain(self, question: str, history: list[tuple[str, str]] | None = None) -> Explanation:
        """A hit test: what `ask` answers, the threshold, every ranked candidate with its score, the decision
        features of the top one, and the keyword tokens (synonyms included) of the question as read."""
        ranking, reading = self.read(question, history)
        # A feature left unmeasured (the second opinion, when it could not change the decision) reads None.
        top_signals = {name: None if math.isnan(value) else value
                       for name, value in (asdict(ranking.features) if ranking.features is not None else {}).items()}
        candidates = [
            Candidate(self.index.passages[row].id, self.index.passages[row].title, float(score),
                      top_signals if rank == 0 else {})
            for rank, (row, score) in enumerate(zip(ranking.passages, ranking.scores, strict=True))
        ]
        unstated, unnamed = self._unmet(question, ranking.passages[0]) if ranking.passages else ((), ())
        return Explanation(self._result(question, ranking, reading, None),
                           self.answer_threshold.for_question(question), candidates,
                           self.fusion.keyword_tokens(reading.text), sorted(unstated), list(unnamed))

    def _result(self, question: str, ranking: Ranking, reading: Reading, lang: str | None) -> AskResult:
        ranked = [self.index.passages[i] for i in ranking.passages]
        read_as = reading.text if reading.used_history else None
        if self._confident(ranking, question):
            result = answer(question, ranked, ranking.confidence, reading.used_history, read_as, lang)
        else:
            result = refusal(question, ranked, ranking.confidence, reading.used_history, read_as, lang)
        return replace(result, ranked_scores=ranking.scores)

    def search(self, query: str, topic: str | None = None, limit: int = 10, offset: int = 0) -> SearchPage:
        """Keyword search with an optional exact topic filter, paged, with highlighted snippets."""
        return self._search(query, topic, limit, offset)

    def topics(self) -> list[tuple[str, int]]:
        """Every parent topic with its passage count, most passages first."""
        return self._search.topics()

    def _confident(self, ranking: Ranking, question: str) -> bool:
        """The ranking's top is answered, at the threshold of the language the user asked `question` in."""
        return bool(ranking.passages) and ranking.confidence >= self.answer_threshold.for_question(question)

    def _prefer_anchor_section(self, scores: np.ndarray, anchor_question: str | None,
                               own_keyword_hits: np.ndarray) -> None:
        """Rank first the candidates that share a keyword with the question and sit on the page and topic
        answering the conversation's anchor question (when it is answered): a follow-up asks about the
        subject the conversation is on, in words of its own."""
        if anchor_question is None or not own_keyword_hits.size:
            return
        anchor = self.rank(anchor_question)
        if not self._confident(anchor, anchor_question):
            return
        preferred = np.zeros(scores.size, dtype=bool)
        preferred[own_keyword_hits] = True
        preferred &= (self._sections == self._sections[anchor.passages[0]]) & np.isfinite(scores)
        scores[preferred] += 1.0  # above any sum of reciprocal ranks

    def _with_best_margins(self, joined: Ranking, question: str, alone_signals: Signals) -> Ranking:
        """The joined ranking, its top's margins and second opinion taken from the reading where that top stands
        highest: both readings chose it together, so neither reading's own first place need be it."""
        if joined.features is None or self.abstention is None:
            return joined
        alone = self._features(question, alone_signals, joined.passages[0], candidates=joined.passages[1:])
        if alone is None:
            return joined
        features = replace(joined.features, cos_margin=max(joined.features.cos_margin, alone.cos_margin),
                           score_margin=max(joined.features.score_margin, alone.score_margin),
                           second_agrees=float(np.fmax(joined.features.second_agrees, alone.second_agrees)))
        return replace(joined, features=features, confidence=self.abstention.confidence(features))

    def _held_to_what_is_asked(self, ranking: Ranking, question: str) -> Ranking:
        """`ranking`, with no confidence when its top passage states none of a kind of answer the user's own
        `question` asks for (a duration, an amount, a number; `retrieval.answer_kinds`), or when the question asks
        whether something is supported that the corpus never names (`retrieval.named_terms`): it cannot be
        the answer."""
        if not self.config.abstain or self.abstention is None or not ranking.passages:
            return ranking
        return replace(ranking, confidence=0.0) if any(self._unmet(question, ranking.passages[0])) else ranking

    def _unmet(self, question: str, top: int) -> tuple[frozenset[str], tuple[str, ...]]:
        """What the user's own `question` asks that passage `top` cannot give: the kinds of answer it never states,
        and the names of a support question that the corpus never uses."""
        passage = self.index.passages[top]
        return (unstated_kinds(question, passage),
                unnamed_terms(question, passage, self.index.document_frequency, self._read_as))

    def _read_as(self, words: list[str]) -> list[str]:
        """`words`, each that no passage uses read as the corpus word the term bridge finds for it, if any."""
        return self.bridge(words, self.index.document_frequency) if self.bridge is not None else words

    def _names_unknown_subject(self, nouns: list[str]) -> bool:
        """One of the question's `nouns` is a word no passage of the corpus uses, nor the
        term bridge reads as one of the corpus's words: in a Chinese corpus every English word is unused, and
        "appeal" read as 异议 names the corpus's own subject."""
        nouns = self._read_as(nouns)
        return bool(nouns) and not self.index.document_frequency(nouns).all()

    @staticmethod
    def _off_topic(ranking: Ranking) -> bool:
        """The question sits nearer the off-topic background than any passage."""
        return ranking.features is not None and ranking.features.cos_over_background < 0


def _sections(index: SearchableBuild) -> np.ndarray:
    """Each passage's section: one number per distinct (source page, parent topic)."""
    numbers: dict[tuple[str, str], int] = {}
    return np.array([numbers.setdefault((p.source, p.topic), len(numbers)) for p in index.passages], dtype=np.int64)
