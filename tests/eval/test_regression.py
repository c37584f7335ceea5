"""Regression gate: the service's default configuration on the dev set must hold `eval/baseline.json`."""

from __future__ import annotations

import json

import pytest

from eval.runner import run_eval
from service.core.config import PROJECT_ROOT, Settings

BASELINE = PROJECT_ROOT / "eval" / "baseline.json"
GATED = ("recall@1", "answered_correctly", "abstention_precision")


@pytest.fixture(scope="module")
def baseline() -> dict:
    return json.loads(BASELINE.read_text("utf-8"))


def test_default_config_holds_the_dev_baseline(baseline: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(embedder=baseline["embedder"], calibration_file=None, corpus_dir=PROJECT_ROOT / "corpus")
    run = run_eval(PROJECT_ROOT / baseline["questions"], [settings.corpus_dir], ["default"],
                   cache_dir=tmp_path_factory.mktemp("eval-cache"), settings=settings)
    config = run.configs[0]
    assert config.available, config.error
    assert run.relevant_counts.count(0) == sum(1 for q in run.questions if not q.answerable)
    tolerance = baseline["tolerance"]
    drops = {
        key: (config.overall[key], baseline["metrics"][key])
        for key in GATED
        if config.overall[key] is None or config.overall[key] < baseline["metrics"][key] - tolerance
    }
    assert not drops, f"below baseline - {tolerance} (now, baseline): {drops}"
