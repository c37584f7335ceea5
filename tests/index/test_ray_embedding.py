"""Embedding on Ray: a local Ray started by the test; vectors match a local build, progress is reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from index.build import ProgressBar, build_index
from index.embedders import BulkEmbedder, Embedder
from index.index_dir import LoadedBuild
from index.ray_embedding import RayEmbedder, connect
from ingest.registry import parse_paths
from tests.conftest import CORPUS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A local Ray of two CPUs for this module."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


class RecordingBar(ProgressBar):
    """Remembers the total it was made for and every advance."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.steps, self.closed = total, label, [], False
        RecordingBar.made.append(self)

    def update(self, n: int) -> None:
        self.steps.append(n)

    def close(self) -> None:
        self.closed = True


def test_a_ray_build_matches_a_local_build_and_reports_progress(local_ray: None, embedder: Embedder,
                                                                corpus_index: Path, tmp_path: Path) -> None:
    remote = RayEmbedder(embedder, address="auto", workers=2, chunk=8)
    assert isinstance(remote, BulkEmbedder) and remote.name == embedder.name and remote.dim == embedder.dim
    RecordingBar.made.clear()
    try:
        report = build_index(parse_paths([CORPUS]).passages, tmp_path / "index", remote, progress=RecordingBar)
    finally:
        remote.close()
    assert report.embedded == report.vectors > 0
    [bar] = RecordingBar.made
    assert bar.total == report.embedded and sum(bar.steps) == bar.total and len(bar.steps) > 2 and bar.closed
    on_ray, local = LoadedBuild.open(tmp_path / "index"), LoadedBuild.open(corpus_index)
    assert on_ray.rows.text_key == local.rows.text_key
    cosines = np.sum(on_ray.vectors * local.vectors, axis=1)
    assert cosines.min() >= 0.999, cosines.min()
    assert (on_ray.manifest.embedder, on_ray.manifest.corpus_hash) == (local.manifest.embedder,
                                                                       local.manifest.corpus_hash)


def test_embed_many_keeps_the_order_of_the_texts(local_ray: None, embedder: Embedder) -> None:
    texts = [f"第{i}个问题:怎么申请第{i}号激励?" for i in range(21)]
    remote = RayEmbedder(embedder, workers=2, chunk=4)
    try:
        done: list[int] = []
        vectors = remote.embed_many(texts, as_query=True, on_progress=done.append)
        assert remote.embed_many([], as_query=False).shape == (0, embedder.dim)
    finally:
        remote.close()
    assert sum(done) == len(texts)
    assert np.sum(vectors * embedder.embed_queries(texts), axis=1).min() >= 0.999


def test_faq_ingest_with_ray_builds_the_same_index_as_without(local_ray: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text("\n".join(json.dumps({"question": f"第{i}号流程怎么走?", "answer": f"先提交申请,再等{i}天。"},
                                         ensure_ascii=False) for i in range(12)), "utf-8")
    runner = CliRunner()
    for name, extra in (("local", []), ("ray", ["--ray", "auto"])):
        result = runner.invoke(app, ["ingest", str(faqs), "--index", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        assert "24 vectors: 24 embedded" in " ".join(result.output.split())
    local, on_ray = LoadedBuild.open(tmp_path / "local"), LoadedBuild.open(tmp_path / "ray")
    assert local.rows.text_key == on_ray.rows.text_key
    assert np.sum(local.vectors * on_ray.vectors, axis=1).min() >= 0.999


def test_connect_starts_ray_again_once_when_the_first_node_misses_its_startup_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    calls: list[str] = []

    def init(**_: object) -> None:
        calls.append("init")
        if len(calls) == 1:
            raise Exception("The current node timed out during startup. This could happen because ...")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: calls.append("shutdown"))
    assert connect("auto")
    assert calls == ["init", "shutdown", "init"]


def test_connect_reports_any_other_failure_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    calls: list[str] = []

    def init(**_: object) -> None:
        calls.append("init")
        raise ConnectionError("no Ray cluster at ray://10.0.0.9:10001")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    with pytest.raises(ConnectionError, match="no Ray cluster"):
        connect("ray://10.0.0.9:10001")
    assert calls == ["init"]
