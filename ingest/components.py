"""Haystack component for the ingestion stage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from haystack import component

from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse_paths


@component
class PassageParser:
    """Files and folders → de-duplicated passages, with the files that were skipped and why."""

    def __init__(self, progress: Callable[[Iterable], Iterable] | None = None) -> None:
        self.progress = progress

    @component.output_types(passages=list[Passage], skipped=list[SkippedFile], result=ParseResult)
    def run(self, paths: list[str]) -> dict[str, object]:
        """Parse every file under `paths`."""
        result = parse_paths([Path(p) for p in paths], progress=self.progress)
        return {"passages": result.passages, "skipped": result.skipped, "result": result}
