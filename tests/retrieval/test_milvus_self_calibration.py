"""Milvus builds self-calibrate at ingest as folder builds do, against a real `milvus-lite server`: the fit is
stored with the collection, replicas answer with its threshold, and a hand-fitted model (`faq calibrate`) still
wins."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from index.build import BuildReport, build_index
from index.embedders import Embedder
from index.index_dir import LoadedBuild
from index.milvus_build import MilvusBuild
from index.milvus_publish import MilvusTarget
from ingest.registry import parse_paths
from retrieval.abstention.model import AbstentionModel
from retrieval.abstention.self_calibration import METHOD
from retrieval.loading import load_retriever, make_calibrator, milvus_config, shipped_model_path
from retrieval.settings import RetrievalSettings
from tests.conftest import CORPUS
from tests.milvus import MilvusServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
FIT = ("threshold", "precision", "coverage", "false_answers", "model_threshold")


@pytest.fixture(scope="module")
def calibrated(milvus_server: MilvusServer, embedder: Embedder, cache_dir: Path,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[RetrievalSettings, BuildReport]:
    """The shipped corpus ingested into Milvus as `faq ingest` does with FAQ_VECTOR_STORE=milvus."""
    root = tmp_path_factory.mktemp("milvus-calibration")
    settings = RetrievalSettings(  # type: ignore[call-arg]
        _env_file=None, index_dir=root, cache_dir=cache_dir, vector_store="milvus", milvus_uri=milvus_server.uri,
        milvus_collection=f"cal_{uuid.uuid4().hex[:10]}", milvus_timeout_seconds=10)
    report = build_index(parse_paths([CORPUS]).passages, root, embedder, calibrate=make_calibrator(settings, embedder),
                         target=MilvusTarget(milvus_config(settings)))
    return settings, report


def test_a_milvus_build_fits_the_threshold_the_folder_build_of_the_same_corpus_fits(
        calibrated: tuple[RetrievalSettings, BuildReport], corpus_index: Path) -> None:
    _, report = calibrated
    ours, folder = report.calibration, LoadedBuild.open(corpus_index).manifest.calibration
    assert ours is not None and folder is not None
    assert (ours["model"], ours["method"]) == (folder["model"], METHOD)
    assert (ours["positives"], ours["held_out_titles"], ours["off_topic"]) == (
        folder["positives"], folder["held_out_titles"], folder["off_topic"])
    assert [ours[key] for key in FIT] == pytest.approx([folder[key] for key in FIT], abs=1e-6)


def test_the_collection_holds_the_fit_and_a_replica_answers_with_its_threshold(
        calibrated: tuple[RetrievalSettings, BuildReport], embedder: Embedder) -> None:
    settings, report = calibrated
    assert report.calibration is not None
    build = MilvusBuild.open(milvus_config(settings))
    assert build.manifest.calibration == report.calibration
    build.close()
    retriever = load_retriever(settings, embedder=embedder)
    assert retriever.abstention is not None
    assert retriever.threshold == report.calibration["threshold"]
    assert retriever.threshold != retriever.abstention.threshold  # the model's own threshold is another one
    retriever.index.close()


def test_a_hand_fitted_model_wins_over_the_milvus_build_s_fit(
        calibrated: tuple[RetrievalSettings, BuildReport], embedder: Embedder, tmp_path: Path) -> None:
    settings, report = calibrated
    override = tmp_path / "hand-fitted.json"
    replace(AbstentionModel.load(shipped_model_path(embedder.name)), threshold=0.4321).save(override)
    retriever = load_retriever(settings.model_copy(update={"calibration_file": override}), embedder=embedder)
    assert retriever.threshold == 0.4321 != report.calibration["threshold"]  # type: ignore[index]
    retriever.index.close()
