"""Which build is current: the seam replicas follow, whether a `CURRENT` file or a Milvus alias names it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from index.index_dir import current_build


class StoreUnavailableError(RuntimeError):
    """The shared store (Milvus) cannot be reached or cannot answer now; serving resumes when it returns."""


class BuildPointer(Protocol):
    """Names the published build; `StoreUnavailableError` when the store holding it cannot be reached."""

    @property
    def store(self) -> str:
        """The kind of store: 'faiss' or 'milvus'."""
        ...

    def current(self) -> str | None:
        """The id of the build published now, or None when none is."""
        ...


class FolderPointer:
    """The `CURRENT` file of an index folder."""

    store = "faiss"

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> str | None:
        """The build `CURRENT` names (its folder name), or None."""
        build = current_build(self.root)
        return None if build is None else build.name
