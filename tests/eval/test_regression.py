"""Regression gate: the service's default configuration must hold each baseline of `eval/`: the dev set
(`baseline.json`) and the conversation set (`baseline-conversations.json`, kind by kind)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.runner import run_eval
from service.core.config import PROJECT_ROOT, Settings

BASELINES = [PROJECT_ROOT / "eval" / "baseline.json", PROJECT_ROOT / "eval" / "baseline-conversations.json"]
GATED = ("recall@1", "answered_correctly", "abstention_precision")


@pytest.fixture(scope="module")
def eval_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index cache for every baseline: each is asked of the shipped corpus, built and calibrated once."""
    return tmp_path_factory.mktemp("eval-cache")


def _drops(now: dict, baseline: dict, tolerance: float) -> dict[str, tuple]:
    """The gated metrics of `baseline` that `now` falls more than `tolerance` below (or no longer measures)."""
    return {key: (now.get(key), floor) for key, floor in baseline.items()
            if key in GATED and (now.get(key) is None or now[key] < floor - tolerance)}


@pytest.mark.parametrize("baseline_file", BASELINES, ids=lambda path: path.stem)
def test_default_config_holds_its_baseline(baseline_file: Path, eval_cache: Path) -> None:
    baseline = json.loads(baseline_file.read_text("utf-8"))
    settings = Settings(embedder=baseline["embedder"], calibration_file=None, corpus_dir=PROJECT_ROOT / "corpus")
    run = run_eval(PROJECT_ROOT / baseline["questions"], [settings.corpus_dir], ["default"],
                   cache_dir=eval_cache, settings=settings)
    config = run.configs[0]
    assert config.available, config.error
    assert run.relevant_counts.count(0) == sum(1 for q in run.questions if not q.answerable)
    tolerance = baseline["tolerance"]
    drops = {f"overall {key}": value for key, value in _drops(config.overall, baseline["metrics"], tolerance).items()}
    for kind, metrics in baseline.get("by_kind", {}).items():
        drops.update({f"{kind} {key}": value
                      for key, value in _drops(config.kinds.get(kind, {}), metrics, tolerance).items()})
    assert not drops, f"below {baseline_file.name} - {tolerance} (now, baseline): {drops}"
