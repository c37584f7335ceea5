"""A corrupted or mismatched index (or a missing calibration) stops start-up with one clear line.

Index-level refusals (no pickle, bad files, wrong embedder) are in tests/index/test_build.py; these
run the real entry points as subprocesses and check what an operator sees: a non-zero exit and the
reason, not a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eval.bench.server import free_port
from index.index_dir import current_build
from service.app import create_app
from service.errors import StartupError
from tests.conftest import PROJECT
from tests.service.conftest import SettingsFactory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
START_TIMEOUT_S = 120


def _corrupt_vectors(root: Path) -> str:
    (current_build(root) / "vectors.npy").write_bytes(b"not a numpy file")
    return "is corrupted"


def _mismatch_format(root: Path) -> str:
    manifest_path = current_build(root) / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    return "format version 99, expected 1"


@pytest.fixture(params=[_corrupt_vectors, _mismatch_format], ids=["corrupted", "mismatched"])
def broken_index(request: pytest.FixtureRequest, corpus_index: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the corpus index, damaged; and the words the refusal must contain."""
    root = tmp_path / "index"
    shutil.copytree(corpus_index, root)
    return root, request.param(root)


def _run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT), "OMP_WAIT_POLICY": "passive", "COLUMNS": "1000",
                   "FAQ_FEEDBACK_LOG": str(tmp_path / "feedback.jsonl"),
                   "FAQ_QUEUE_DB": str(tmp_path / "queue.sqlite3"), **env}
    return subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=START_TIMEOUT_S)


def _one_clear_line(output: str, *words: str) -> None:
    flat = " ".join(output.split())
    assert "Traceback" not in output, output
    for word in words:
        assert word in flat, output


def test_faq_serve_refuses_a_broken_index(broken_index: tuple[Path, str], tmp_path: Path) -> None:
    root, reason = broken_index
    result = _run([sys.executable, str(PROJECT / "cli.py"), "serve", "--port", str(free_port())], tmp_path,
                  FAQ_INDEX_DIR=str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    _one_clear_line(result.stderr, "error:", str(current_build(root)), reason)


def test_uvicorn_factory_refuses_a_broken_index(broken_index: tuple[Path, str], tmp_path: Path) -> None:
    root, reason = broken_index
    result = _run([sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
                   "--port", str(free_port())], tmp_path, FAQ_INDEX_DIR=str(root))
    assert result.returncode != 0, result.stdout + result.stderr
    _one_clear_line(result.stderr, "cannot start: index at", reason, "Application startup failed")


def test_uvicorn_factory_refuses_a_missing_calibration(corpus_index: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-calibration.json"
    result = _run([sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
                   "--port", str(free_port())], tmp_path, FAQ_INDEX_DIR=str(corpus_index),
                  FAQ_CALIBRATION_FILE=str(missing))
    assert result.returncode != 0, result.stdout + result.stderr
    _one_clear_line(result.stderr, f"cannot start: FAQ_CALIBRATION_FILE names {missing}", "does not exist")


def test_lifespan_raises_a_startup_error_in_process(broken_index: tuple[Path, str],
                                                    make_settings: SettingsFactory) -> None:
    root, reason = broken_index
    with pytest.raises(StartupError, match=reason), TestClient(create_app(make_settings(index_dir=root))):
        pass
