"""Publishing a build to Milvus: write a new collection, check it, move the alias, drop the oldest builds.

The alias moves only after the new collection is complete, flushed, indexed, loaded and holds
every row (read back with strong consistency), so a failed ingest leaves the published build
untouched; the half-written collection is dropped. Incremental builds read the vectors of the
published build (same embedder) so unchanged texts are copied, not embedded again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from index.index_dir import Manifest, VectorRows
from index.keyword_index import KeywordIndex
from index.milvus_store import (
    BUILD_PROPERTY,
    EMPTY_TERM,
    KEYWORDS_FIELD,
    PASSAGE_JSON_MAX_BYTES,
    MilvusConfig,
    MilvusStore,
    build_id_of,
    space_field,
    term_id,
)
from index.vector_store import FIELD_BODY
from ingest.passage import Passage

log = logging.getLogger(__name__)
INSERT_BATCH = 1_000
PUBLISH_TIMEOUT_S = 600.0  # index building and loading a large collection take minutes, not seconds


class MilvusTarget:
    """Where `build_index` publishes when the store is Milvus (see `index.publish_target.BuildTarget`)."""

    def __init__(self, config: MilvusConfig) -> None:
        self.config = config
        self.store = MilvusStore(config)

    @property
    def location(self) -> str:
        """Where builds go, for messages."""
        return f"Milvus {self.config.uri} alias {self.config.base!r}"

    def previous_vectors(self, space: str, dim: int) -> dict[str, np.ndarray]:
        """Vectors of the published build in `space` by text key (empty when none or another embedder's)."""
        collection = self.store.alias_target()
        if collection is None:
            return {}
        spaces = self.store.description(collection)["spaces"]
        if space not in spaces or spaces[space]["dim"] != dim:
            return {}
        field = spaces[space]["field"]
        client = self.store.client
        iterator = self.store.call(lambda: client.query_iterator(
            collection, batch_size=INSERT_BATCH, filter="row >= 0", output_fields=["text_key", field],
            timeout=self.config.timeout))
        cache: dict[str, np.ndarray] = {}
        try:
            while batch := self.store.call(iterator.next):
                for row in batch:
                    cache[row["text_key"]] = np.asarray(row[field], dtype=np.float32)
        finally:
            iterator.close()
        return cache

    def publish(self, manifest: Manifest, passages: list[Passage], spaces: Mapping[str, np.ndarray],
                rows: VectorRows, keyword: KeywordIndex) -> str:
        """Write the build as a new collection and move the alias to it; returns the collection's name."""
        name = self.config.collection(manifest.build_id)
        client = self.store.client
        try:
            self._create(name, manifest, spaces, rows)
            self._insert(name, passages, spaces, rows, keyword)
            self.store.call(lambda: client.flush(name, timeout=PUBLISH_TIMEOUT_S))
            self.store.call(lambda: client.load_collection(name, timeout=PUBLISH_TIMEOUT_S))
            self._check_complete(name, len(rows.passage))
        except BaseException:
            self._drop(name)
            raise
        self._move_alias(name)
        self._drop_old(keep=name)
        return name

    def _create(self, name: str, manifest: Manifest, spaces: Mapping[str, np.ndarray], rows: VectorRows) -> None:
        from pymilvus import DataType, MilvusClient

        body = rows.field == FIELD_BODY
        about = {
            "manifest": asdict(manifest),
            "spaces": {space: {"field": space_field(space), "dim": int(vectors.shape[1]),
                               "centroid": vectors[body].mean(axis=0).round(6).tolist() if body.any() else None}
                       for space, vectors in spaces.items()},
        }
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("passage", DataType.INT64)
        schema.add_field("field", DataType.INT8)
        schema.add_field("text_key", DataType.VARCHAR, max_length=64)
        schema.add_field("passage_json", DataType.VARCHAR, max_length=PASSAGE_JSON_MAX_BYTES)
        schema.add_field(KEYWORDS_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        index = MilvusClient.prepare_index_params()
        index.add_index(KEYWORDS_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        for space, vectors in spaces.items():
            schema.add_field(space_field(space), DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
            index.add_index(space_field(space), index_type=self.config.index_type, metric_type="IP")
        client = self.store.client
        self.store.call(lambda: client.create_collection(
            name, schema=schema, index_params=index, consistency_level="Strong", timeout=PUBLISH_TIMEOUT_S,
            properties={BUILD_PROPERTY: json.dumps(about, ensure_ascii=False)}))

    def _insert(self, name: str, passages: list[Passage], spaces: Mapping[str, np.ndarray], rows: VectorRows,
                keyword: KeywordIndex) -> None:
        weights = [_sparse(terms) for terms in keyword.document_terms()]
        client = self.store.client
        batch: list[dict[str, Any]] = []
        for row in range(len(rows.passage)):
            passage, field = int(rows.passage[row]), int(rows.field[row])
            is_body = field == FIELD_BODY
            record: dict[str, Any] = {
                "row": row, "passage": passage, "field": field, "text_key": rows.text_key[row],
                "passage_json": _passage_json(passages[passage]) if is_body else "",
                KEYWORDS_FIELD: weights[passage] if is_body else {EMPTY_TERM: 1.0},
            }
            for space, vectors in spaces.items():
                record[space_field(space)] = vectors[row].tolist()
            batch.append(record)
            if len(batch) == INSERT_BATCH or row == len(rows.passage) - 1:
                self.store.call(lambda data=batch: client.insert(name, data, timeout=PUBLISH_TIMEOUT_S))
                batch = []

    def _check_complete(self, name: str, expected: int) -> None:
        client = self.store.client
        counted = self.store.call(lambda: client.query(name, filter="", output_fields=["count(*)"],
                                                       consistency_level="Strong", timeout=PUBLISH_TIMEOUT_S))
        if counted[0]["count(*)"] != expected:
            raise RuntimeError(f"Milvus collection {name} holds {counted[0]['count(*)']} rows, expected {expected}")

    def _move_alias(self, name: str) -> None:
        client = self.store.client
        if self.store.alias_target() is None:
            self.store.call(lambda: client.create_alias(name, self.config.base, timeout=self.config.timeout))
        else:
            self.store.call(lambda: client.alter_alias(name, self.config.base, timeout=self.config.timeout))

    def _drop_old(self, keep: str) -> None:
        builds = [c for c in self.store.build_collections() if c != keep]
        for old in builds[:max(0, len(builds) - self.config.keep_builds)]:
            self._drop(old)

    def _drop(self, name: str) -> None:
        try:
            client = self.store.client
            self.store.call(lambda: client.drop_collection(name, timeout=self.config.timeout))
        except Exception as err:  # best effort: the build it belonged to is not published
            log.warning("could not drop Milvus collection %s (build %s): %s", name,
                        build_id_of(name, self.config.base), err)


def _sparse(terms: Mapping[str, float]) -> dict[int, float]:
    """A passage's BM25 weights by sparse dimension (terms whose hashes collide add up)."""
    vector: dict[int, float] = {}
    for term, weight in terms.items():
        vector[term_id(term)] = vector.get(term_id(term), 0.0) + weight
    return vector or {EMPTY_TERM: 1.0}


def _passage_json(passage: Passage) -> str:
    text = json.dumps(passage.to_dict(), ensure_ascii=False)
    if len(text.encode("utf-8")) > PASSAGE_JSON_MAX_BYTES:
        raise ValueError(f"passage {passage.id} ({passage.title!r}) is over {PASSAGE_JSON_MAX_BYTES} bytes as JSON: "
                         "Milvus cannot hold it; split the page")
    return text
