"""`faq serve` hands each worker process its share of the cores, and keeps its own process light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import PROJECT


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, corpus_index: Path) -> dict[str, Any]:
    """What `uvicorn.run` was called with, and OMP_NUM_THREADS at that moment (nothing is served)."""
    seen: dict[str, Any] = {}

    def run(*_args: Any, **kwargs: Any) -> None:
        seen.update(workers=kwargs["workers"], omp=os.environ.get("OMP_NUM_THREADS"),
                    keep_alive=kwargs["timeout_keep_alive"])

    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.setenv("FAQ_INDEX_DIR", str(corpus_index))  # `serve --index` sets it: restored after the test
    monkeypatch.setenv("OMP_NUM_THREADS", "restored after the test")
    monkeypatch.delenv("OMP_NUM_THREADS")
    return seen


@pytest.mark.parametrize(("workers", "preset", "expected"), [("2", None, "2"), ("4", None, "1"), ("1", None, None),
                                                             ("2", "3", "3")])
def test_serve_splits_the_cores_between_workers(started: dict[str, Any], corpus_index: Path,
                                                monkeypatch: pytest.MonkeyPatch, workers: str, preset: str | None,
                                                expected: str | None) -> None:
    if preset is not None:
        monkeypatch.setenv("OMP_NUM_THREADS", preset)  # an operator's own setting wins
    result = CliRunner().invoke(app, ["serve", "--index", str(corpus_index), "--workers", workers])
    assert result.exit_code == 0, result.output
    assert started == {"workers": int(workers), "omp": expected, "keep_alive": 75}


def test_serve_with_a_built_index_does_not_load_the_model(started: dict[str, Any], corpus_index: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A single worker runs in the `faq serve` process: a model loaded there for checks would be held twice."""
    def refuse(name: str) -> None:
        raise AssertionError(f"faq serve loaded the {name} model although the index was built")

    monkeypatch.setattr("cli.make_embedder", refuse)
    result = CliRunner().invoke(app, ["serve", "--index", str(corpus_index)])
    assert result.exit_code == 0, result.output
    assert started["workers"] == 1


def test_the_command_line_loads_haystack_only_to_ingest() -> None:
    """Haystack imports torch when it is installed (~250 MiB): `faq serve`, `ask` and `search` never need it."""
    probe = "import sys, cli; print(sorted(m for m in ('haystack', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parents[1])
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_serve_keeps_idle_connections_as_configured(started: dict[str, Any], corpus_index: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's own default (5 s) equals httpx's idle expiry: the server closed connections the client was reusing."""
    monkeypatch.setenv("FAQ_KEEP_ALIVE_SECONDS", "120")
    result = CliRunner().invoke(app, ["serve", "--index", str(corpus_index)])
    assert result.exit_code == 0, result.output
    assert started["keep_alive"] == 120


def test_serve_on_a_fresh_clone_says_it_builds_the_index_with_a_progress_bar(
        started: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first `make serve` embeds the corpus before serving: it says so, with `faq ingest`'s progress bar."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "faq.txt").write_text("PO提交后多久能验证完? 十个工作日。 父主题: 共享给华为(PO)\n"
                                    "如何取消PO? 由BD驳回。 父主题: 共享给华为(PO)\n", encoding="utf-8")
    bars: list[tuple[int, str]] = []

    class Bar:
        def __init__(self, total: int, label: str) -> None:
            bars.append((total, label))

        def update(self, n: int) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr("index.build.TqdmProgressBar", Bar)
    monkeypatch.setenv("FAQ_CORPUS_DIR", str(corpus))
    result = CliRunner().invoke(app, ["serve", "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "building it from" in result.output and "index built: 2 passages" in result.output
    assert bars and all(total > 0 for total, _ in bars)
    assert started["workers"] == 1


def test_ingest_reports_unusable_curation_lines_and_uses_the_rest(corpus_index: Path, tmp_path: Path) -> None:
    import shutil

    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    curation = tmp_path / "curation"
    curation.mkdir()
    (curation / "alternates.jsonl").write_text(
        '{"entry": "机会点/PO验证时效?", "question": "商机验证一般几天出结果"}\nnot json\n'
        '{"entry": "no such entry", "question": "x"}\n', "utf-8")
    (curation / "synonyms.txt").write_text("商机 机会点\nalone\n", "utf-8")
    result = CliRunner().invoke(app, ["ingest", str(PROJECT / "corpus"), "--index", str(index),
                                      "--curation", str(curation)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    lines = " ".join(result.output.split())
    assert f"curation line not used {curation}/alternates.jsonl:2: invalid JSON" in lines
    assert f"{curation}/alternates.jsonl:3: no entry with id or title 'no such entry'" in lines
    assert f"{curation}/synonyms.txt:2: a synonym group needs at least two terms" in lines
    assert "indexed 20 passages" in lines and "1 embedded" in lines
