"""Open the configured index (building it from the corpus if missing) and make a warm `Retriever`.

Which answer threshold applies: a hand-fitted model (`faq calibrate`, written to
`calibration_override_path`) wins whole; otherwise the shipped model decides with the threshold
the build fitted on itself at ingest (`retrieval.abstention.self_calibration`), recorded in its manifest.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.build import ProgressFactory
from index.embedders import Embedder, make_embedder
from index.index_dir import LoadedBuild, current_build
from index.milvus_build import MilvusBuild
from index.milvus_store import MilvusConfig, MilvusPointer
from index.pointer import BuildPointer, FolderPointer
from index.searchable import SearchableBuild
from index.tokenizer import warm_up
from retrieval.abstention.background import load_background
from retrieval.abstention.model import AbstentionModel
from retrieval.abstention.second_opinion import load_second_opinion
from retrieval.abstention.threshold import AnswerThreshold
from retrieval.config import CONFIGS, RetrievalConfig
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from retrieval.term_bridge import load_term_bridge

log = logging.getLogger(__name__)
CALIBRATION_DIR = Path(__file__).resolve().parent / "abstention" / "models"
WARM_UP_QUESTIONS = ("怎么申请激励？", "How do I register an opportunity?")


class CalibrationMissingError(RuntimeError):
    """No abstention model has been fitted for the configured embedder."""


def _file_name(embedder: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', embedder)}.json"


def shipped_model_path(embedder: str) -> Path:
    """The abstention model shipped for an embedder (fitted across corpora by the team)."""
    return CALIBRATION_DIR / _file_name(embedder)


def calibration_override_path(settings: RetrievalSettings) -> Path:
    """Where a hand-fitted model is read from and `faq calibrate` writes: FAQ_CALIBRATION_FILE, or beside the
    index builds."""
    return settings.calibration_file or settings.index_dir / "calibration" / _file_name(settings.embedder)


def load_abstention(settings: RetrievalSettings) -> tuple[AbstentionModel, bool]:
    """The abstention model, and whether it is a hand-fitted override (then its own threshold applies)."""
    override = calibration_override_path(settings)
    if settings.calibration_file is not None and not override.is_file():
        raise CalibrationMissingError(f"FAQ_CALIBRATION_FILE names {override}, which does not exist")
    path = override if override.is_file() else shipped_model_path(settings.embedder)
    if not path.is_file():
        raise CalibrationMissingError(
            f"no abstention model for embedder {settings.embedder!r} at {path}: "
            f"run `faq calibrate` with a labelled question set"
        )
    model = AbstentionModel.load(path)
    if model.embedder != settings.embedder:
        raise CalibrationMissingError(f"{path} was fitted for {model.embedder!r}, not {settings.embedder!r}")
    return model, path == override


@dataclass(frozen=True, slots=True)
class PartCaches:
    """Where a retriever's parts keep what they derive once: its background, term bridge and second opinion."""

    background: Path
    term_bridge: Path
    second_opinion: Path

    @classmethod
    def shared(cls, cache_dir: Path) -> PartCaches:
        """All three in one folder, as the service keeps them."""
        return cls(cache_dir, cache_dir, cache_dir)


def assemble_retriever(index: SearchableBuild, embedder: Embedder, abstention: AbstentionModel | None,
                       config: RetrievalConfig, top_k: int, cache_dir: Path | PartCaches,
                       threshold: float | AnswerThreshold | None = None) -> Retriever:
    """A retriever with its parts: the background always, the term bridge when `config` reads keywords, the second
    opinion when it abstains (only the abstention model asks it). Not warmed up."""
    caches = cache_dir if isinstance(cache_dir, PartCaches) else PartCaches.shared(cache_dir)
    background = load_background(embedder, caches.background)
    bridge = load_term_bridge(index, caches.term_bridge) if config.keyword else None
    second_opinion = load_second_opinion(index, caches.second_opinion) if config.abstain else None
    return Retriever(index, embedder, abstention, config, top_k, background, threshold, bridge, second_opinion)


@dataclass(frozen=True, slots=True)
class SelfCalibrator:
    """What `faq ingest` runs on a new build before publishing it: the build's self-calibration for `model`."""

    model: AbstentionModel
    embedder: Embedder
    cache_dir: Path | PartCaches  # where the retriever it calibrates keeps its parts' caches
    top_k: int = 5

    @property
    def identity(self) -> dict[str, str]:
        """What a build's recorded calibration must say to count as made by this calibrator."""
        from retrieval.abstention.self_calibration import METHOD

        return {"model": self.model.fingerprint, "method": METHOD}

    def __call__(self, build: LoadedBuild) -> dict[str, Any]:
        """The calibration the manifest records."""
        from retrieval.abstention.self_calibration import self_calibrate

        retriever = assemble_retriever(build, self.embedder, self.model, CONFIGS["default"], self.top_k,
                                       self.cache_dir)
        return self_calibrate(retriever).to_dict()


def make_calibrator(settings: RetrievalSettings, embedder: Embedder, caches: Path | PartCaches | None = None
                    ) -> SelfCalibrator | None:
    """The self-calibration of new builds (its parts cached in `caches`, by default the settings' cache folder); None
    when a hand-fitted model overrides it anyway, or no model ships for this embedder."""
    if calibration_override_path(settings).is_file() or not shipped_model_path(embedder.name).is_file():
        return None
    try:
        model = AbstentionModel.load(shipped_model_path(embedder.name))
    except (OSError, ValueError, TypeError) as err:
        raise CalibrationMissingError(f"the shipped abstention model cannot be read: {err}") from err
    return SelfCalibrator(model, embedder, caches or settings.cache_dir, settings.top_k)


def ensure_index(settings: RetrievalSettings, embedder: Embedder, embed_progress: ProgressFactory | None = None
                 ) -> LoadedBuild:
    """Open the index, first building it from the corpus folder when there is none (`embed_progress`: a
    progress bar factory for the embedding, as `faq ingest` shows)."""
    if current_build(settings.index_dir) is None:
        # Imported here: the ingestion pipeline loads Haystack (and with it torch, when installed),
        # which a service with a built index never needs.
        from index.pipeline import run_ingest

        run_ingest([settings.corpus_dir], settings.index_dir, embedder, embed_progress=embed_progress,
                   calibrate=make_calibrator(settings, embedder), curation=settings.curation_dir)
    return LoadedBuild.open(settings.index_dir, embedder=embedder.name, dim=embedder.dim)


def build_threshold(build: SearchableBuild, model: AbstentionModel) -> AnswerThreshold | None:
    """The answer thresholds the build fitted on itself for `model` by today's method, if it did (None: use the
    model's own; a threshold fitted by an earlier rule may refuse a whole corpus, as the first one did)."""
    from retrieval.abstention.self_calibration import METHOD

    calibration = build.manifest.calibration or {}
    threshold = calibration.get("threshold")
    if calibration.get("model") != model.fingerprint or not isinstance(threshold, int | float):
        if calibration:
            log.warning("build %s was self-calibrated for another abstention model: re-run `faq ingest`; "
                        "answering with the model's own threshold until then", build.build_id)
        return None
    if calibration.get("method") != METHOD:
        log.warning("build %s was self-calibrated by an earlier method (%s, now %s): re-run `faq ingest`; "
                    "answering with the model's own threshold until then", build.build_id,
                    calibration.get("method"), METHOD)
        return None
    return AnswerThreshold.recorded(calibration)


def milvus_config(settings: RetrievalSettings) -> MilvusConfig:
    """Where the Milvus builds live, from the settings."""
    return MilvusConfig(uri=settings.milvus_uri, base=settings.milvus_collection,
                        timeout=settings.milvus_timeout_seconds, index_type=settings.milvus_index_type,
                        keep_builds=settings.milvus_keep_builds)


def build_pointer(settings: RetrievalSettings) -> BuildPointer:
    """What names the current build: the index folder's `CURRENT`, or the Milvus alias."""
    if settings.vector_store == "milvus":
        return MilvusPointer(milvus_config(settings))
    return FolderPointer(settings.index_dir)


def open_build(settings: RetrievalSettings, embedder: Embedder) -> SearchableBuild:
    """The published build of the configured store; a missing FAISS index is first built from the corpus.

    Milvus is never filled here (replicas would race to do it): `faq ingest` publishes to it.
    """
    if settings.vector_store == "milvus":
        return MilvusBuild.open(milvus_config(settings), embedder=embedder.name, dim=embedder.dim)
    return ensure_index(settings, embedder)


def load_retriever(settings: RetrievalSettings, config: str = "default", embedder: Embedder | None = None
                   ) -> Retriever:
    """A ready retriever: index open, abstention loaded, models and dictionaries warmed up."""
    embedder = embedder or make_embedder(settings.embedder)
    index = open_build(settings, embedder)
    retrieval = CONFIGS[config]
    abstention, threshold = None, None
    if retrieval.abstain:
        abstention, overridden = load_abstention(settings)
        threshold = None if overridden else build_threshold(index, abstention)
    retriever = assemble_retriever(index, embedder, abstention, retrieval, settings.top_k, settings.cache_dir,
                                   threshold)
    warm_up()
    for question in WARM_UP_QUESTIONS:  # every step of an answer runs once before the first request
        retriever.ask(question)
    return retriever
