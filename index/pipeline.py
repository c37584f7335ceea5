"""The ingestion pipeline: parse → (clean, de-duplicate) → embed → write, as a Haystack Pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from haystack import Pipeline

from index.build import BuildReport, ProgressFactory
from index.components import IndexBuilder
from index.embedders import Embedder
from index.publish_target import BuildTarget
from ingest.components import PassageParser
from ingest.registry import NothingToIndexError, ParseResult


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Parsing and build results of one `faq ingest` run."""

    parsed: ParseResult
    build: BuildReport


def run_ingest(
    paths: list[Path],
    root: Path,
    embedder: Embedder,
    file_progress: Callable[[Iterable], Iterable] | None = None,
    embed_progress: ProgressFactory | None = None,
    target: BuildTarget | None = None,
) -> IngestReport:
    """Parse `paths` and publish a new build under `root` (or in `target`); raises `NothingToIndexError` if nothing
    parsed."""
    pipeline = Pipeline()
    pipeline.add_component("parser", PassageParser(progress=file_progress))
    pipeline.add_component("builder", IndexBuilder(root, embedder, embed_progress, target))
    pipeline.connect("parser.passages", "builder.passages")
    outputs = pipeline.run({"parser": {"paths": [str(p) for p in paths]}}, include_outputs_from={"parser"})
    parsed: ParseResult = outputs["parser"]["result"]
    report: BuildReport | None = outputs["builder"]["report"]
    if report is None:
        raise NothingToIndexError(parsed)
    return IngestReport(parsed, report)
