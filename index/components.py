"""Haystack component for the indexing stage."""

from __future__ import annotations

from pathlib import Path

from haystack import component

from index.build import BuildReport, ProgressFactory, build_index
from index.embedders import Embedder
from ingest.curation import Lexicon
from ingest.passage import Passage


@component
class IndexBuilder:
    """Passages → embedded, keyword-indexed build published atomically under `root`."""

    def __init__(self, root: Path, embedder: Embedder, progress: ProgressFactory | None = None) -> None:
        self.root = root
        self.embedder = embedder
        self.progress = progress

    @component.output_types(report=BuildReport | None)
    def run(self, passages: list[Passage], lexicon: Lexicon | None = None) -> dict[str, object]:
        """Build and publish the index; with no passages, leave the current build alone (report None)."""
        if not passages:
            return {"report": None}
        return {"report": build_index(passages, self.root, self.embedder, self.progress, lexicon)}
