"""Run retrieval configurations side by side over any corpus `faq ingest` reads and a question set.

Each configuration is a `retrieval.retriever.RetrievalConfig` over an index built with one embedder.
Every configuration is measured through `Retriever.ask`, the code the API serves, history
included; the configurations that do not abstain answer with their top passage whenever they have one.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import K, MetricValue, Outcome, by_kind, recall_curve, summarize
from index.build import ProgressFactory, build_is_current, corpus_hash
from index.embedders import Embedder, make_embedder
from index.index_dir import LoadedBuild
from index.pipeline import run_ingest
from index.tokenizer import warm_up
from ingest.curation import apply_curation, load_curation
from ingest.normalize import normalize_for_matching
from ingest.passage import Passage
from ingest.registry import iter_files, parse_paths
from retrieval.abstention.model import AbstentionModel
from retrieval.loading import (
    PartCaches,
    SelfCalibrator,
    assemble_retriever,
    build_threshold,
    load_abstention,
    make_calibrator,
)
from retrieval.questions import Question, is_match, load_questions
from retrieval.retriever import CONFIGS, RetrievalConfig, Retriever
from retrieval.settings import PROJECT_ROOT, RetrievalSettings

DEFAULT_CACHE = PROJECT_ROOT / "var" / "eval-cache"
# Embedders whose dense-only configuration runs by default besides the service's own.
EXTRA_EMBEDDERS = ("use",)
DEFAULT_CONFIGS = ("bm25", "dense", "hybrid", "default")
SAMPLE_SEED = 0
TOP_TITLES = 3

Progress = Callable[[Sequence[Question], str], Iterable[Question]]


class EvalSetupError(ValueError):
    """The command line names an unknown configuration."""


@dataclass(frozen=True, slots=True)
class ConfigPlan:
    """One configuration to run: its report name, its retrieval settings and its embedder."""

    name: str
    retrieval: RetrievalConfig
    embedder: str


def plan_configs(names: Sequence[str] | None, embedders: Sequence[str] | None,
                 service_embedder: str) -> list[ConfigPlan]:
    """Expand `NAME[:EMBEDDER]` configuration names; bare `dense` runs once per embedder.

    Configurations other than `dense` use the service's embedder unless one is named.
    """
    dense_embedders = list(dict.fromkeys(embedders or [service_embedder, *EXTRA_EMBEDDERS]))
    plans: dict[str, ConfigPlan] = {}
    for name in names or DEFAULT_CONFIGS:
        base, _, embedder = name.partition(":")
        if base not in CONFIGS:
            raise EvalSetupError(f"unknown configuration {name!r}: use {', '.join(CONFIGS)} (optionally NAME:EMBEDDER)")
        if base == "dense":
            for each in [embedder] if embedder else dense_embedders:
                plans.setdefault(f"dense:{each}", ConfigPlan(f"dense:{each}", CONFIGS["dense"], each))
        else:
            plans.setdefault(name, ConfigPlan(name, CONFIGS[base], embedder or service_embedder))
    return list(plans.values())


def sample_questions(questions: list[Question], limit: int | None) -> list[Question]:
    """At most `limit` questions, a fixed random sample kept in file order."""
    if limit is None or limit >= len(questions):
        return questions
    chosen = sorted(random.Random(SAMPLE_SEED).sample(range(len(questions)), limit))
    return [questions[i] for i in chosen]


def corpus_key(paths: Sequence[Path], curation: Path | None = None) -> str:
    """Hash of the corpus files' names and contents (the curation folder's included)."""
    digest = hashlib.sha256()
    for file, root in iter_files([*paths, *([curation] if curation and curation.is_dir() else [])]):
        name = file.relative_to(root) if root else Path(file.name)
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(file.read_bytes()).digest() if file.is_file() else b"missing")
    return digest.hexdigest()[:16]


def cached_index(paths: Sequence[Path], embedder: Embedder, cache_dir: Path,
                 progress: ProgressFactory | None = None, calibrate: SelfCalibrator | None = None,
                 curation: Path | None = None) -> LoadedBuild:
    """The index of `paths` for `embedder` under `cache_dir`, built or brought up to date when needed.

    Folders are keyed by corpus content and embedder; a build is reused only when its passages are
    what today's parsers make of the corpus, otherwise it is rebuilt (re-embedding only what changed).
    """
    root = cache_dir / f"{corpus_key(paths, curation)}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', embedder.name)}"
    passages = apply_curation(parse_paths(paths, exclude=[curation] if curation else []).passages,
                              load_curation(curation))[0]
    if not build_is_current(root, corpus_hash(passages), embedder.name,
                            calibrated_with=calibrate.identity if calibrate else None):
        run_ingest(list(paths), root, embedder, embed_progress=progress, calibrate=calibrate, curation=curation)
    return LoadedBuild.open(root, embedder=embedder.name, dim=embedder.dim)


class RelevanceJudge:
    """The passages of an index that `is_match` accepts for a question, computed once per expected set.

    Candidates are found on texts normalised once (the test `is_match` applies, made cheap), then
    each candidate is confirmed by `is_match` itself, which stays the one rule.
    """

    def __init__(self, passages: list[Passage]) -> None:
        self._passages = passages
        self._by_title: dict[str, list[int]] = {}
        for i, passage in enumerate(passages):
            self._by_title.setdefault(normalize_for_matching(passage.title), []).append(i)
        self._texts = [normalize_for_matching(f"{p.title}\n{p.answer}") for p in passages]
        self._cache: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}

    def relevant(self, question: Question) -> frozenset[str]:
        """Ids of the right passages (empty for a question that must be refused)."""
        if question.expected is None:
            return frozenset()
        key = (question.expected, question.match)
        if key not in self._cache:
            needles = [normalize_for_matching(e) for e in question.expected if e.strip()]
            if question.match == "title":
                candidates = sorted({i for n in needles for i in self._by_title.get(n, ())})
            else:
                candidates = [i for i, text in enumerate(self._texts) if any(n in text for n in needles)]
            self._cache[key] = frozenset(self._passages[i].id for i in candidates
                                         if is_match(self._passages[i], question.expected, question.match))
        return self._cache[key]


@dataclass(slots=True)
class ConfigRun:
    """One configuration's outcomes, per-question records and metrics, or why it could not run."""

    plan: ConfigPlan
    error: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    threshold: float | None = None
    threshold_by_language: dict[str, float] = field(default_factory=dict)  # where the build has its own
    overall: dict[str, MetricValue] = field(default_factory=dict)
    kinds: dict[str, dict[str, MetricValue]] = field(default_factory=dict)
    curve: list[float | None] = field(default_factory=list)

    @property
    def available(self) -> bool:
        """It ran."""
        return self.error is None


@dataclass(slots=True)
class EvalRun:
    """Everything one `faq eval` produced."""

    command: str
    questions_file: Path
    corpus: list[Path]
    questions: list[Question]
    total_questions: int
    relevant_counts: list[int]
    configs: list[ConfigRun]
    passages: int


# The abstention model for an embedder, and whether it overrides the build's self-calibrated threshold.
AbstentionLoader = Callable[[str], tuple[AbstentionModel, bool]]
EmbedderFactory = Callable[[str], Embedder]


class _Resources:
    """Embedders, indexes and abstention models, each created once and failures remembered."""

    def __init__(self, corpus: Sequence[Path], cache_dir: Path, embedder_factory: EmbedderFactory,
                 abstention_loader: AbstentionLoader, progress: ProgressFactory | None,
                 settings: RetrievalSettings) -> None:
        self.corpus, self.cache_dir, self.settings = corpus, cache_dir, settings
        # The retrievers' parts and the builds' self-calibration share these: the passages' USE vectors are
        # embedded once per corpus.
        self.caches = PartCaches(cache_dir / "background", cache_dir / "term-bridge", cache_dir / "second-opinion")
        self.embedder_factory, self.abstention_loader, self.progress = embedder_factory, abstention_loader, progress
        self._embedders: dict[str, Embedder | str] = {}
        self._indexes: dict[str, LoadedBuild | str] = {}

    def embedder(self, name: str) -> Embedder:
        """The embedder, or `RuntimeError` with the reason it is unavailable."""
        if name not in self._embedders:
            try:
                self._embedders[name] = self.embedder_factory(name)
            except Exception as err:  # any failure makes this configuration unavailable
                self._embedders[name] = f"embedder {name!r} unavailable: {type(err).__name__}: {err}"
        return _value(self._embedders[name])

    def index(self, name: str) -> LoadedBuild:
        """The corpus index for the embedder, or `RuntimeError` with the reason there is none."""
        embedder = self.embedder(name)
        if name not in self._indexes:
            try:
                settings = self.settings.model_copy(update={"embedder": name})
                calibrator = make_calibrator(settings, embedder, self.caches)
                self._indexes[name] = cached_index(self.corpus, embedder, self.cache_dir, self.progress, calibrator,
                                                   settings.curation_dir)
            except Exception as err:  # reported, the other configurations still run
                self._indexes[name] = f"index for {name!r} failed: {type(err).__name__}: {err}"
        return _value(self._indexes[name])

    def retriever(self, plan: ConfigPlan, top_k: int) -> Retriever:
        """A warm retriever for the plan, or `RuntimeError` with the reason it cannot run."""
        index, embedder = self.index(plan.embedder), self.embedder(plan.embedder)
        abstention, threshold = None, None
        if plan.retrieval.abstain:
            try:
                abstention, overridden = self.abstention_loader(plan.embedder)
            except Exception as err:  # missing or mismatched calibration
                raise RuntimeError(f"no abstention model: {err}") from err
            threshold = None if overridden else build_threshold(index, abstention)
        retriever = assemble_retriever(index, embedder, abstention, plan.retrieval, top_k, self.caches, threshold)
        warm_up()
        retriever.rank("warm up 预热")
        return retriever


def _value(item: Any) -> Any:
    if isinstance(item, str):
        raise RuntimeError(item)
    return item


def _ask(retriever: Retriever, question: Question) -> tuple[list[str], bool, float | None]:
    """Ranked passage ids, whether it answered, and its confidence (None without abstention), through
    `Retriever.ask` as the service asks it, history included."""
    result = retriever.ask(question.question, list(question.history))
    return result.ranked_ids, result.answered, result.confidence if retriever.config.abstain else None


def run_config(retriever: Retriever, plan: ConfigPlan, questions: Sequence[Question], judge: RelevanceJudge,
               progress: Progress | None = None) -> ConfigRun:
    """Ask every question, time each call, judge the ranking and summarise."""
    run = ConfigRun(plan, threshold=retriever.threshold if retriever.config.abstain else None,
                    threshold_by_language=dict(retriever.answer_threshold.by_language))
    for question in progress(questions, plan.name) if progress else questions:
        started = time.perf_counter()
        ids, answered, confidence = _ask(retriever, question)
        latency_ms = (time.perf_counter() - started) * 1000
        right = judge.relevant(question)
        outcome = Outcome(question.kind, question.answerable, tuple(ids), tuple(i in right for i in ids),
                          len(right), answered, latency_ms)
        run.outcomes.append(outcome)
        run.records.append({
            "top_titles": [retriever.index.passage(i).title for i in ids[:TOP_TITLES]],
            "correct_rank": outcome.correct_rank,
            "answered": answered,
            "confidence": confidence,
            "latency_ms": round(latency_ms, 2),
        })
    run.overall = summarize(run.outcomes)
    run.kinds = by_kind(run.outcomes)
    run.curve = recall_curve(run.outcomes, K)
    return run


def run_eval(
    questions_file: Path,
    corpus: Sequence[Path],
    configs: Sequence[str] | None = None,
    embedders: Sequence[str] | None = None,
    limit: int | None = None,
    cache_dir: Path = DEFAULT_CACHE,
    command: str = "",
    settings: RetrievalSettings | None = None,
    embedder_factory: EmbedderFactory = make_embedder,
    abstention_loader: AbstentionLoader | None = None,
    build_progress: ProgressFactory | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> EvalRun:
    """Evaluate each configuration on the questions; unavailable ones are reported with the reason."""
    settings = settings or RetrievalSettings()
    plans = plan_configs(configs, embedders, settings.embedder)
    all_questions = load_questions(questions_file)
    questions = sample_questions(all_questions, limit)
    loader = abstention_loader or (lambda name: load_abstention(settings.model_copy(update={"embedder": name})))
    resources = _Resources(corpus, cache_dir, embedder_factory, loader, build_progress, settings)
    runs: list[ConfigRun] = []
    judge: RelevanceJudge | None = None
    passages = 0
    for plan in plans:
        log(f"{plan.name}: preparing")
        try:
            retriever = resources.retriever(plan, settings.top_k)
        except RuntimeError as err:
            log(f"{plan.name}: unavailable: {err}")
            runs.append(ConfigRun(plan, error=str(err)))
            continue
        if judge is None:
            judge, passages = RelevanceJudge(retriever.index.passages), len(retriever.index.passages)
        runs.append(run_config(retriever, plan, questions, judge, progress))
    relevant_counts = [len(judge.relevant(q)) for q in questions] if judge else []
    return EvalRun(command, questions_file, list(corpus), questions, len(all_questions), relevant_counts, runs,
                   passages)
