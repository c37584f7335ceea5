"""One Milvus holding every build: the connection, the naming, the alias replicas follow, the row layout.

    <base>                    alias: the build published now (moved atomically by `alter_alias`)
    <base>__<build id>        one collection per build, one row per vector row of the build:
        row        int64 primary key (the build's vector row)
        passage    int64, the passage row; field int8 (FIELD_BODY | FIELD_TITLE | FIELD_WINDOW); text_key varchar
        passage_json  the passage (on its body row; '' on title rows)
        keywords   sparse vector: the passage's BM25 weight per term (body rows), see `term_id`
        vec_<space>   one float vector field per embedder space (cosine = inner product)
    The collection's property `faq.build` holds the build's manifest and each space's field and centroid.

The URI names a Milvus server (`http://host:19530`, standalone or cluster; `milvus-lite server`
speaks the same protocol) or a local file (Milvus Lite embedded in this process). Every call has a
timeout; any failure surfaces as `StoreUnavailableError`, which the service answers with 503.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from index.index_dir import IndexLoadError
from index.pointer import StoreUnavailableError

T = TypeVar("T")
SEPARATOR = "__"
KEYWORDS_FIELD = "keywords"
BUILD_PROPERTY = "faq.build"
EMPTY_TERM = 0  # title rows hold only this sparse dimension, which no query term maps to
PASSAGE_JSON_MAX_BYTES = 65_535
# No keep-alive pings on an idle connection: gRPC servers with the default ping policy (milvus-lite's)
# answer them with GOAWAY "too_many_pings" and the connection is lost; a dead server is noticed by the
# next call's timeout instead.
GRPC_OPTIONS = {"grpc.keepalive_permit_without_calls": 0, "grpc.keepalive_time_ms": 60_000}


def term_id(term: str) -> int:
    """The sparse dimension of a keyword term: a 32-bit hash (never `EMPTY_TERM`), the same on every replica."""
    return zlib.crc32(term.encode("utf-8")) % 0xFFFF_FFFE + 1


def space_field(space: str) -> str:
    """The vector field of an embedder space (Milvus field names are identifiers)."""
    return "vec_" + re.sub(r"[^A-Za-z0-9_]", "_", space)


def build_id_of(collection: str, base: str) -> str | None:
    """The build id of one of `base`'s build collections, None for any other collection."""
    prefix = base + SEPARATOR
    return collection.removeprefix(prefix) if collection.startswith(prefix) else None


@dataclass(frozen=True, slots=True)
class MilvusConfig:
    """Where the builds live and how long one call may take."""

    uri: str
    base: str = "faq"
    timeout: float = 3.0
    index_type: str = "AUTOINDEX"
    keep_builds: int = 2

    def collection(self, build_id: str) -> str:
        """The collection of one build."""
        return f"{self.base}{SEPARATOR}{build_id}"


class MilvusStore:
    """A pymilvus client for one base name; every call bounded by the timeout, failures as `StoreUnavailableError`."""

    def __init__(self, config: MilvusConfig) -> None:
        self.config = config
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The connected `MilvusClient` (connected on first use)."""
        if self._client is None:
            from pymilvus import MilvusClient

            self._client = self.call(lambda: MilvusClient(uri=self.config.uri, timeout=self.config.timeout,
                                                          grpc_options=GRPC_OPTIONS))
        return self._client

    def call(self, action: Callable[[], T]) -> T:
        """Run one Milvus call, turning its failures into `StoreUnavailableError`."""
        from pymilvus.exceptions import MilvusException

        try:
            return action()
        except MilvusException as err:
            raise StoreUnavailableError(f"Milvus at {self.config.uri}: {err.message or err}") from err
        except (OSError, TimeoutError) as err:  # grpc channel and socket errors
            raise StoreUnavailableError(f"Milvus at {self.config.uri}: {err}") from err

    def alias_target(self) -> str | None:
        """The collection the base alias names, or None when no build was ever published."""
        client = self.client
        aliases = self.call(lambda: client.list_aliases(timeout=self.config.timeout))
        if self.config.base not in aliases.get("aliases", []):
            return None
        described = self.call(lambda: client.describe_alias(self.config.base, timeout=self.config.timeout))
        return described["collection_name"]

    def build_collections(self) -> list[str]:
        """Every build collection of this base name, oldest first (build ids sort by time)."""
        client = self.client
        names = self.call(lambda: client.list_collections(timeout=self.config.timeout))
        return sorted(name for name in names if build_id_of(name, self.config.base) is not None)

    def description(self, collection: str) -> dict[str, Any]:
        """The manifest and spaces a build collection was published with."""
        client = self.client
        described = self.call(lambda: client.describe_collection(collection, timeout=self.config.timeout))
        try:
            return json.loads(described["properties"][BUILD_PROPERTY])
        except (KeyError, ValueError) as err:
            raise IndexLoadError(f"Milvus collection {collection} is not a published build: {err!r}") from err

    def close(self) -> None:
        """Close the connection."""
        if self._client is not None:
            client, self._client = self._client, None
            client.close()


class MilvusPointer:
    """The build the base alias names: what Milvus replicas follow instead of a `CURRENT` file."""

    store = "milvus"

    def __init__(self, config: MilvusConfig) -> None:
        self._store = MilvusStore(config)

    def current(self) -> str | None:
        """The build id the alias names, or None; `StoreUnavailableError` when Milvus cannot be reached."""
        try:
            target = self._store.alias_target()
        except StoreUnavailableError:
            self._store.close()  # reconnect on the next look: the server may have restarted
            raise
        return None if target is None else build_id_of(target, self._store.config.base)
