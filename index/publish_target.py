"""Where a build is published other than an index folder (e.g. Milvus): the hook `build_index` calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from index.index_dir import Manifest, VectorRows
from index.keyword_index import KeywordIndex
from ingest.passage import Passage


class BuildTarget(Protocol):
    """A store that holds published builds and says which one is current."""

    @property
    def location(self) -> str:
        """Where builds go, for messages."""
        ...

    def previous_vectors(self, space: str, dim: int) -> dict[str, np.ndarray]:
        """Vectors of the published build in `space` by text key (empty when there is none to reuse)."""
        ...

    def publish(self, manifest: Manifest, passages: list[Passage], spaces: Mapping[str, np.ndarray],
                rows: VectorRows, keyword: KeywordIndex) -> str:
        """Store the complete build, then make it current atomically; returns its name in the store."""
        ...
