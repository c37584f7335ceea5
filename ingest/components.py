"""Haystack components for the ingestion stage."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from haystack import component, default_from_dict, default_to_dict

from ingest.curation import CurationProblem, Lexicon, apply_curation, load_curation
from ingest.passage import Passage
from ingest.registry import ParseResult, SkippedFile, parse_paths

FileProgress = Callable[[Iterable], Iterable]


@component
class PassageParser:
    """Files and folders → de-duplicated passages, with the files that were skipped and why.

    Its one setting, the folders never parsed as pages (`exclude`: the curation folder), is a
    plain list, so it serialises to YAML. `progress` (wraps the iteration over files, e.g. a tqdm
    bar) is a run-time hook set after construction, not saved.
    """

    def __init__(self, exclude: list[str] | None = None) -> None:
        self.exclude = list(exclude or [])
        self.progress: FileProgress | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to `{"type": ..., "init_parameters": {"exclude"}}`."""
        return default_to_dict(self, exclude=self.exclude)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassageParser:
        """Re-create from `to_dict`'s output."""
        return default_from_dict(cls, data)

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

    def to_dict(self) -> dict[str, Any]:
        """Serialise to `{"type": ..., "init_parameters": {"folder"}}`."""
        return default_to_dict(self, folder=self.folder)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CurationApplier:
        """Re-create from `to_dict`'s output."""
        return default_from_dict(cls, data)

    @component.output_types(passages=list[Passage], lexicon=Lexicon, problems=list[CurationProblem])
    def run(self, passages: list[Passage]) -> dict[str, object]:
        """Apply the curation folder (none: the passages pass through unchanged)."""
        curation = load_curation(Path(self.folder) if self.folder else None)
        curated, unresolved = apply_curation(passages, curation) if passages else ([], [])
        return {"passages": curated, "lexicon": curation.lexicon,
                "problems": [*curation.problems, *unresolved]}
