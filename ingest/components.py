"""Haystack component for the ingestion stage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from haystack import component, default_from_dict, default_to_dict

from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse_paths

FileProgress = Callable[[Iterable], Iterable]


@component
class PassageParser:
    """Files and folders → de-duplicated passages, with the files that were skipped and why.

    It has no settings, so it serialises to an empty `init_parameters`. `progress` (wraps the
    iteration over files, e.g. a tqdm bar) is a run-time hook set after construction, not saved.
    """

    def __init__(self) -> None:
        self.progress: FileProgress | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to `{"type": ..., "init_parameters": {}}`."""
        return default_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassageParser:
        """Re-create from `to_dict`'s output."""
        return default_from_dict(cls, data)

    @component.output_types(passages=list[Passage], skipped=list[SkippedFile], result=ParseResult)
    def run(self, paths: list[str]) -> dict[str, object]:
        """Parse every file under `paths`."""
        result = parse_paths([Path(p) for p in paths], progress=self.progress)
        return {"passages": result.passages, "skipped": result.skipped, "result": result}
