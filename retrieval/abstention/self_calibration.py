"""Self-calibration at ingest: the corpus makes its own calibration set, and its answer threshold is fitted on it.

- Positives: a sentence of an entry's answer, asked as a question, should find that entry.
- In-domain negatives: an entry's title asked with that entry held out of the corpus (and with it its
  near-duplicates: the same title, or a body at cosine >= 0.9, as translations and copies are) is a
  question about this help center that the index cannot answer. Unless the passage it then finds has a
  title as close to the question (cosine >= 0.9): documentation repeats a page under several roles or
  splits it into chunks ("账户冻结" under 子客 and under 经销商), and such a question is answered
  elsewhere, not unanswerable; counting it as a negative would lift the threshold until nothing is
  answered. Those are left out of the set and counted (`answered_elsewhere`).
- Off-topic negatives: each shipped background question, asked with itself held out of the background.

The shipped model's confidence is fitted across corpora; a corpus whose unanswerable questions still
look confident (many near-identical entries, a new domain) needs a higher bar. So the threshold is the
model's own, raised until at most `MAX_FALSE_ANSWERS` of the negatives (in-domain and off-topic weighed
alike) would be answered. The bar is set per question language too, where the build has enough held-out
titles in that language to measure it: in a bilingual guide the short English headings find their
neighbours confidently and the Chinese ones do not, and one threshold for both would refuse every Chinese
question for the English ones' sake. The manifest records the thresholds with their estimated precision
(half of the questions assumed unanswerable, a deliberately cautious prior) and coverage (positives
answered with the right entry).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from index.vector_store import FIELD_BODY, FIELD_TITLE
from ingest.normalize import normalize_for_matching
from ingest.passage import detect_lang
from retrieval.abstention.features import DecisionFeatures
from retrieval.abstention.threshold import AnswerThreshold
from retrieval.retriever import Ranking, Retriever

# Versioned: a build calibrated by an earlier rule, or for an earlier ranking, is not taken for one calibrated by
# this one (self-3: the ranking adds the character-bigram signal; self-4: a threshold per question language).
METHOD = "self-4"
MAX_FALSE_ANSWERS = 0.1
MAX_ENTRIES = 400
MIN_SENTENCE_CHARS = 8
SEED = 0
# Another passage whose body is this close to an entry's body says the same (a translation, a copy).
DUPLICATE_COSINE = 0.9
DUPLICATE_NEIGHBOURS = 20
# A language gets a threshold of its own from this many held-out titles in it: with fewer, one of them alone
# weighs more than the false answers allowed (held-out titles carry half the weight), so the bar would have to
# refuse each; a lone English heading in a Chinese FAQ would set it for every English question.
MIN_LANGUAGE_HELD_OUT = math.ceil(0.5 / MAX_FALSE_ANSWERS)
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s")


@dataclass(frozen=True, slots=True)
class SelfCalibration:
    """The threshold fitted on a build's own calibration set, and what it is estimated to give."""

    threshold: float
    precision: float
    coverage: float
    false_answers: float
    model_threshold: float
    positives: int
    held_out_titles: int
    off_topic: int
    answered_elsewhere: int = 0  # held-out titles left out: another passage's title says the same
    by_language: dict[str, float] = field(default_factory=dict)  # question language -> its own threshold
    model: str = ""  # fingerprint of the abstention model the threshold was fitted for
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        """As recorded in the build manifest."""
        return asdict(self)

    @property
    def answer_threshold(self) -> AnswerThreshold:
        """The thresholds questions are held to."""
        return AnswerThreshold(self.threshold, self.by_language)


def first_sentence(answer: str) -> str | None:
    """The answer's first sentence long enough to be a question on its own."""
    for sentence in _SENTENCE_END.split(answer):
        sentence = sentence.strip()
        if len(sentence) >= MIN_SENTENCE_CHARS:
            return sentence[:200]
    return None


@dataclass(frozen=True, slots=True)
class SelfExample:
    """One question the build asks of itself: its decision features, confidence and whether answering is right."""

    group: str  # "positive", "held_out", "answered_elsewhere" or "off_topic"
    features: DecisionFeatures | None
    confidence: float
    right: bool
    language: str = "zh"  # of the question asked


def self_examples(retriever: Retriever, max_entries: int = MAX_ENTRIES) -> list[SelfExample]:
    """The calibration set a build makes of itself (see the module docstring)."""
    index, space = retriever.index, retriever.embedder.name
    entries = list(range(len(index.passages)))
    random.Random(SEED).shuffle(entries)
    entries = entries[:max_entries]
    examples = []
    sentences = [(i, first_sentence(index.passages[i].answer)) for i in entries]
    sentences = [(i, s) for i, s in sentences if s and s != index.passages[i].title]
    vectors = retriever.embedder.embed_queries([s for _, s in sentences]) if sentences else []
    for (entry, sentence), vector in zip(sentences, vectors, strict=True):
        ranking = retriever.decide(sentence, *_fused(retriever, sentence, vector))
        right = bool(ranking.passages) and ranking.passages[0] == entry
        examples.append(SelfExample("positive", ranking.features, ranking.confidence, right, detect_lang(sentence)))
    same_title: dict[str, list[int]] = {}
    for i, passage in enumerate(index.passages):
        same_title.setdefault(normalize_for_matching(passage.title), []).append(i)
    if len(index.passages) > 1:
        for entry in entries:
            own = index.passage_vectors(space, [entry])
            titles = own.vectors[own.field == FIELD_TITLE]
            if len(titles):
                title = index.passages[entry].title
                signals, fused = _fused(retriever, title, titles[0])
                held_out = (entry, *same_title.get(normalize_for_matching(title), ()),
                            *_duplicates(retriever, entry, own.vectors[own.field == FIELD_BODY]))
                ranking = retriever.decide(title, signals, fused, exclude=held_out)
                group = "answered_elsewhere" if _same_question(retriever, ranking, titles[0]) else "held_out"
                examples.append(SelfExample(group, ranking.features, ranking.confidence, False, detect_lang(title)))
    background = retriever.background
    for i, question in enumerate(background.questions):
        ranking = retriever.decide(question, *_fused(retriever, question, background.vectors[i]),
                                   exclude_background=i)
        examples.append(SelfExample("off_topic", ranking.features, ranking.confidence, False, detect_lang(question)))
    return examples


def self_calibrate(retriever: Retriever, max_false_answers: float = MAX_FALSE_ANSWERS,
                   max_entries: int = MAX_ENTRIES) -> SelfCalibration:
    """Fit the answer thresholds of the retriever's build on the set the build makes of itself."""
    model = retriever.abstention
    return calibration_of(self_examples(retriever, max_entries), model.threshold if model else 0.0,
                          model.fingerprint if model else "", max_false_answers)


def calibration_of(examples: list[SelfExample], model_threshold: float, model: str = "",
                   max_false_answers: float = MAX_FALSE_ANSWERS) -> SelfCalibration:
    """The thresholds a build's own examples call for (`model`: the fingerprint of the model that scored them)."""
    pooled = _threshold(examples, model_threshold, max_false_answers)
    held_out = Counter(e.language for e in examples if e.group == "held_out")
    by_language = {lang: _threshold([e for e in examples if e.language == lang], model_threshold, max_false_answers)
                   for lang, count in sorted(held_out.items()) if count >= MIN_LANGUAGE_HELD_OUT}
    # Rounded up: a threshold rounded below the model's own, or below the negative it must refuse, would answer it.
    answer_threshold = AnswerThreshold(_round_up(pooled), {lang: _round_up(t) for lang, t in by_language.items()})
    bar = np.array([answer_threshold.for_language(e.language) for e in examples])
    answered = np.array([e.confidence for e in examples], dtype=np.float64) >= bar
    groups = [np.array([e.group == name for e in examples], dtype=bool) for name in ("held_out", "off_topic")]
    groups = [group for group in groups if group.any()]
    false_answers = float(np.mean([answered[group].mean() for group in groups])) if groups else 0.0
    positives = np.array([e.group == "positive" for e in examples], dtype=bool)
    right = np.array([e.right for e in examples], dtype=bool)
    coverage = float((answered & right)[positives].mean()) if positives.any() else 0.0
    precision = coverage / (coverage + false_answers) if coverage + false_answers > 0 else 0.0
    counts = {name: sum(e.group == name for e in examples)
              for name in ("positive", "held_out", "off_topic", "answered_elsewhere")}
    return SelfCalibration(answer_threshold.default, round(precision, 4), round(coverage, 4),
                           round(false_answers, 4), round(model_threshold, 6), counts["positive"],
                           counts["held_out"], counts["off_topic"], counts["answered_elsewhere"],
                           by_language=dict(answer_threshold.by_language), model=model)


def _threshold(examples: list[SelfExample], model_threshold: float, max_false_answers: float) -> float:
    """The model's threshold, raised until at most `max_false_answers` of the negatives among `examples` (held-out
    titles and off-topic questions weighed alike) would be answered."""
    groups = [np.array([e.confidence for e in examples if e.group == name], dtype=np.float64)
              for name in ("held_out", "off_topic")]
    groups = [group for group in groups if group.size]
    if not groups:
        return model_threshold
    negatives = np.concatenate(groups)
    weights = np.concatenate([np.full(group.size, 1.0 / group.size) for group in groups])
    return max(model_threshold, refusing_threshold(negatives, weights, max_false_answers))


def _round_up(threshold: float) -> float:
    return math.ceil(threshold * 1e6) / 1e6


def _duplicates(retriever: Retriever, entry: int, body: np.ndarray) -> list[int]:
    """Passages that say the same as `entry` (its translation, a copy on another page): held out with it, since
    the index could answer its title with them."""
    if not len(body):
        return []
    hits = retriever.index.dense_search(retriever.embedder.name, body[0], DUPLICATE_NEIGHBOURS)
    return [int(p) for p, cosine in zip(hits.passages.tolist(), np.nan_to_num(hits.body, nan=-1.0).tolist(),
                                        strict=True) if p != entry and cosine >= DUPLICATE_COSINE]


def _same_question(retriever: Retriever, ranking: Ranking, title_vector: np.ndarray) -> bool:
    """The top passage of `ranking` has a title (or alternate question) that asks what `title_vector` asks."""
    if not ranking.passages:
        return False
    found = retriever.index.passage_vectors(retriever.embedder.name, ranking.passages[:1])
    titles = found.vectors[found.field == FIELD_TITLE]
    return bool(len(titles)) and float((titles @ title_vector).max()) >= DUPLICATE_COSINE


def _fused(retriever: Retriever, question: str, vector: np.ndarray) -> tuple[Any, np.ndarray]:
    signals = retriever.fusion(question, vector)
    return signals, signals.fused


def refusing_threshold(values: np.ndarray, weights: np.ndarray, max_share: float) -> float:
    """The lowest threshold at which at most `max_share` of the weight of `values` is answered (>= threshold)."""
    order = np.argsort(-values, kind="stable")
    answered = np.cumsum(weights[order]) / weights.sum()
    first_refused = int(np.searchsorted(answered, max_share, side="right"))
    if first_refused >= values.size:
        return -np.inf
    return float(np.nextafter(values[order][first_refused], np.inf))
