"""The ingestion pipeline: parse → curate (new entries, alternates, lexicon) → embed → write, as a Haystack
Pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from haystack import Pipeline

from index.build import BuildReport, ProgressFactory
from index.components import IndexBuilder
from index.embedders import Embedder
from ingest.components import CurationApplier, PassageParser
from ingest.curation import CurationProblem
from ingest.registry import NothingToIndexError, ParseResult


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Parsing and build results of one `faq ingest` run, with the curation lines that were not used."""

    parsed: ParseResult
    build: BuildReport
    curation_problems: list[CurationProblem] = field(default_factory=list)


def run_ingest(
    paths: list[Path],
    root: Path,
    embedder: Embedder,
    file_progress: Callable[[Iterable], Iterable] | None = None,
    embed_progress: ProgressFactory | None = None,
    curation: Path | None = None,
) -> IngestReport:
    """Parse `paths`, apply the `curation` folder (never parsed as pages) and publish a new build under
    `root`; raises `NothingToIndexError` if nothing parsed."""
    exclude = [str(curation)] if curation else []
    pipeline = Pipeline()
    pipeline.add_component("parser", PassageParser(progress=file_progress, exclude=exclude))
    pipeline.add_component("curation", CurationApplier(str(curation) if curation else None))
    pipeline.add_component("builder", IndexBuilder(root, embedder, embed_progress))
    pipeline.connect("parser.passages", "curation.passages")
    pipeline.connect("curation.passages", "builder.passages")
    pipeline.connect("curation.lexicon", "builder.lexicon")
    outputs = pipeline.run({"parser": {"paths": [str(p) for p in paths]}},
                           include_outputs_from={"parser", "curation"})
    parsed: ParseResult = outputs["parser"]["result"]
    report: BuildReport | None = outputs["builder"]["report"]
    if report is None:
        raise NothingToIndexError(parsed)
    return IngestReport(parsed, report, outputs["curation"]["problems"])
