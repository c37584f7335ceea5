"""Open the configured index (building it from the corpus if missing) and make a warm `Retriever`."""

from __future__ import annotations

import re
from pathlib import Path

from index.embedders import Embedder, make_embedder
from index.index_dir import LoadedBuild, current_build
from index.tokenizer import warm_up
from retrieval.abstention.model import AbstentionModel
from retrieval.retriever import CONFIGS, Retriever
from retrieval.settings import RetrievalSettings

CALIBRATION_DIR = Path(__file__).resolve().parent / "abstention" / "models"


class CalibrationMissingError(RuntimeError):
    """No abstention model has been fitted for the configured embedder."""


def calibration_path(settings: RetrievalSettings) -> Path:
    """The abstention model file for the configured embedder."""
    if settings.calibration_file:
        return settings.calibration_file
    return CALIBRATION_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', settings.embedder)}.json"


def load_abstention(settings: RetrievalSettings) -> AbstentionModel:
    """Read the abstention model, refusing one fitted for another embedder."""
    path = calibration_path(settings)
    if not path.is_file():
        raise CalibrationMissingError(
            f"no abstention calibration at {path}: run `faq calibrate eval/questions/calibration.jsonl`"
        )
    model = AbstentionModel.load(path)
    if model.embedder != settings.embedder:
        raise CalibrationMissingError(f"{path} was fitted for {model.embedder!r}, not {settings.embedder!r}")
    return model


def ensure_index(settings: RetrievalSettings, embedder: Embedder) -> LoadedBuild:
    """Open the index, first building it from the corpus folder when there is none."""
    if current_build(settings.index_dir) is None:
        # Imported here: the ingestion pipeline loads Haystack (and with it torch, when installed),
        # which a service with a built index never needs.
        from index.pipeline import run_ingest

        run_ingest([settings.corpus_dir], settings.index_dir, embedder, curation=settings.curation_dir)
    return LoadedBuild.open(settings.index_dir, embedder=embedder.name, dim=embedder.dim)


WARM_UP_QUESTIONS = ("怎么申请激励？", "How do I register an opportunity?")


def load_retriever(settings: RetrievalSettings, config: str = "default", embedder: Embedder | None = None) -> Retriever:
    """A ready retriever: index open, abstention loaded, models and dictionaries warmed up."""
    embedder = embedder or make_embedder(settings.embedder)
    index = ensure_index(settings, embedder)
    retrieval = CONFIGS[config]
    abstention = load_abstention(settings) if retrieval.abstain else None
    retriever = Retriever(index, embedder, abstention, retrieval, top_k=settings.top_k)
    warm_up()
    for question in WARM_UP_QUESTIONS:  # every step of an answer runs once before the first request
        retriever.ask(question)
    return retriever
