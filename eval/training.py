"""Fit the shipped abstention model across corpora: `faq train-abstention`.

The model must transfer to help centers nobody labelled, so it is fitted on several corpora at once,
each weighed alike: the partner FAQ with the team's calibration questions, the training half of the
Tianchi medical-question set (split by entry: its test half is never seen), and on every corpus the
examples the corpus makes of itself (answer sentences, held-out titles, the off-topic background; see
`retrieval.abstention.self_calibration`). Tianchi's paraphrases are where a near neighbour takes the
first place, the mistake the partner FAQ's 95 questions show too rarely to weigh. Its default
threshold is chosen for precision on the first source (the team's labelled set: Tianchi's share of
right answers, every question answerable, says nothing about a help center's); each build then fits
its own at ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.runner import cached_index, sample_questions
from index.build import ProgressFactory
from index.embedders import Embedder
from retrieval.abstention.background import load_background
from retrieval.abstention.model import AbstentionModel, fit
from retrieval.abstention.second_opinion import load_second_opinion
from retrieval.abstention.self_calibration import self_examples
from retrieval.config import CONFIGS
from retrieval.questions import Question, is_match, load_questions
from retrieval.retriever import Retriever
from retrieval.settings import PROJECT_ROOT

EVAL_DATA = PROJECT_ROOT / "var" / "eval-data"


@dataclass(frozen=True, slots=True)
class TrainingSource:
    """A corpus and (optionally) labelled questions about it; at most `limit` questions are used."""

    name: str
    corpus: list[Path]
    questions: Path | None
    limit: int | None = None


def default_sources(eval_data: Path = EVAL_DATA) -> list[TrainingSource]:
    """The corpora the shipped model is fitted on (run `faq eval-data tianchi` first)."""
    return [
        TrainingSource("partner-faq", [PROJECT_ROOT / "corpus"], PROJECT_ROOT / "eval/questions/calibration.jsonl"),
        TrainingSource("tianchi-train", [eval_data / "tianchi" / "corpus"],
                       eval_data / "tianchi" / "tianchi-train.jsonl", 600),
    ]


@dataclass(frozen=True, slots=True)
class SourceExamples:
    """One source's feature rows and labels (1: answering with the top passage is right)."""

    name: str
    features: np.ndarray
    labels: np.ndarray


def source_examples(source: TrainingSource, embedder: Embedder, cache_dir: Path,
                    progress: ProgressFactory | None = None) -> SourceExamples:
    """Decision features and labels of a source's questions and of its self-made examples."""
    index = cached_index(source.corpus, embedder, cache_dir, progress)
    background = load_background(embedder, cache_dir / "background")
    # Read without the term bridge: fitted on bridged readings, the model's threshold fell to 0.370 and it
    # answered more and less precisely on every held-out set (docs/evaluation.md, "Ninth pass").
    retriever = Retriever(index, embedder, None, CONFIGS["hybrid"], background=background,
                          second_opinion=load_second_opinion(index, cache_dir / "second-opinion"))
    rows, labels = [], []
    questions: Sequence[Question] = ()
    if source.questions is not None:
        questions = sample_questions(load_questions(source.questions), source.limit)
    for q in questions:
        ranking, _ = retriever.read(q.question, list(q.history))
        if ranking.features is None:
            continue
        top = index.passages[ranking.passages[0]]
        rows.append(ranking.features.to_array())
        labels.append(int(q.expected is not None and is_match(top, q.expected, q.match)))
    for example in self_examples(retriever):
        # A held-out title that another passage answers (the same question under another role) is neither
        # right nor wrong to answer: self-calibration leaves it out, and so does the fit.
        if example.features is not None and example.group != "answered_elsewhere":
            rows.append(example.features.to_array())
            labels.append(int(example.right))
    return SourceExamples(source.name, np.array(rows), np.array(labels))


def train_abstention(sources: Sequence[TrainingSource], embedder: Embedder, cache_dir: Path,
                     min_precision: float = 0.85, log: Callable[[str], None] = lambda _: None,
                     progress: ProgressFactory | None = None) -> AbstentionModel:
    """Fit the abstention model on every source, each weighed alike; the threshold on the first."""
    parts = []
    for source in sources:
        part = source_examples(source, embedder, cache_dir, progress)
        log(f"{source.name}: {len(part.labels)} examples, {int(part.labels.sum())} right")
        parts.append(part)
    features = np.concatenate([p.features for p in parts])
    labels = np.concatenate([p.labels for p in parts])
    weights = np.concatenate([np.full(len(p.labels), 1.0 / len(p.labels)) for p in parts]) * len(labels)
    fitted_on = ", ".join(f"{p.name} ({len(p.labels)})" for p in parts)
    first = np.arange(len(labels)) < len(parts[0].labels)
    return fit(embedder.name, features, labels, min_precision, fitted_on, sample_weight=weights, threshold_rows=first)
