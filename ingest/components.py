"""Haystack components for the ingestion stage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from haystack import component

from ingest.curation import CurationProblem, Lexicon, apply_curation, load_curation
from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse_paths


@component
class PassageParser:
    """Files and folders → de-duplicated passages, with the files that were skipped and why."""

    def __init__(self, progress: Callable[[Iterable], Iterable] | None = None,
                 exclude: list[str] | None = None) -> None:
        self.progress = progress
        self.exclude = exclude or []

    @component.output_types(passages=list[Passage], skipped=list[SkippedFile], result=ParseResult)
    def run(self, paths: list[str]) -> dict[str, object]:
        """Parse every file under `paths` (but the `exclude` folders)."""
        result = parse_paths([Path(p) for p in paths], progress=self.progress,
                             exclude=[Path(p) for p in self.exclude])
        return {"passages": result.passages, "skipped": result.skipped, "result": result}


@component
class CurationApplier:
    """Passages → passages with the curation folder's new entries and alternate questions, its lexicon,
    and the curation lines that could not be used."""

    def __init__(self, folder: str | None = None) -> None:
        self.folder = folder

    @component.output_types(passages=list[Passage], lexicon=Lexicon, problems=list[CurationProblem])
    def run(self, passages: list[Passage]) -> dict[str, object]:
        """Apply the curation folder (none: the passages pass through unchanged)."""
        curation = load_curation(Path(self.folder) if self.folder else None)
        curated, unresolved = apply_curation(passages, curation) if passages else ([], [])
        return {"passages": curated, "lexicon": curation.lexicon,
                "problems": [*curation.problems, *unresolved]}
