"""A published build read from Milvus: the `SearchableBuild` retrieval uses, with no index files on the replica.

Passages are read once when the build is opened (retrieval addresses them by row); vectors and
keyword weights stay in Milvus and are searched per question. The collection is immutable once
its alias has moved to it, so searches use eventual consistency: nothing is ever written to it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.bigram_index import CharacterBigramIndex
from index.index_dir import IndexLoadError, Manifest
from index.milvus_store import KEYWORDS_FIELD, MilvusConfig, MilvusStore, term_id
from index.searchable import PassageVectors
from index.synonyms import Synonyms
from index.tokenizer import Tokenizer
from index.vector_store import FIELD_BODY, FIELDS, DenseHits
from ingest.passage import Passage

MAX_TOPK = 16_384  # Milvus's limit on one search's results
READ_BATCH = 2_000
SEARCH_CONSISTENCY = "Eventually"
LOAD_TIMEOUT_S = 300.0


class MilvusBuild:
    """One build collection, opened by its id (or the one the alias names)."""

    def __init__(self, store: MilvusStore, collection: str, manifest: Manifest, spaces: dict[str, dict[str, Any]],
                 passages: list[Passage]) -> None:
        self._store = store
        self.collection = collection
        self._manifest = manifest
        self._spaces = spaces
        self._passages = passages
        self._by_id = {passage.id: i for i, passage in enumerate(passages)}
        self._tokenizer = Tokenizer.for_words(manifest.dictionary)
        self._synonyms = Synonyms(manifest.synonyms, self._tokenizer)
        self._frequency: Counter[str] | None = None
        # Made from the passages this replica holds: the collection keeps word weights only.
        self._bigrams = CharacterBigramIndex.for_passages(passages)
        self._closed = False

    @classmethod
    def open(cls, config: MilvusConfig, build_id: str | None = None, embedder: str | None = None,
             dim: int | None = None) -> MilvusBuild:
        """Open a build (default: the published one), checking it holds the expected embedder's space."""
        store = MilvusStore(config)
        try:
            collection = config.collection(build_id) if build_id else store.alias_target()
            if collection is None:
                raise IndexLoadError(f"no build published at alias {config.base!r} in Milvus at {config.uri}: "
                                     "run `faq ingest` with FAQ_VECTOR_STORE=milvus first")
            about = store.description(collection)
            manifest = Manifest(**about["manifest"])
            spaces = about["spaces"]
            if embedder is not None and embedder not in spaces:
                raise IndexLoadError(f"Milvus build {manifest.build_id} holds no vectors of {embedder!r} "
                                     f"(only {', '.join(spaces)})")
            if embedder is not None and dim is not None and spaces[embedder]["dim"] != dim:
                raise IndexLoadError(f"Milvus build {manifest.build_id}: {embedder!r} vectors have dimension "
                                     f"{spaces[embedder]['dim']}, the embedder gives {dim}")
            _ensure_loaded(store, collection)
            passages = _read_passages(store, collection, manifest.passage_count)
        except BaseException:
            store.close()
            raise
        return cls(store, collection, manifest, spaces, passages)

    @property
    def build_id(self) -> str:
        """The build's id (the alias names `<base>__<build id>`)."""
        return self._manifest.build_id

    @property
    def manifest(self) -> Manifest:
        """What the build holds and how it was made."""
        return self._manifest

    @property
    def passages(self) -> list[Passage]:
        """Every passage, row i being passage i."""
        return self._passages

    @property
    def spaces(self) -> tuple[str, ...]:
        """The embedder spaces the build holds."""
        return tuple(self._spaces)

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with that id, if present."""
        row = self._by_id.get(passage_id)
        return None if row is None else self._passages[row]

    def tokenize(self, text: str) -> list[str]:
        """Keyword tokens of `text`, as the keyword weights were computed (with the build's user dictionary)."""
        return self._tokenizer.tokenize(text)

    def nouns(self, tokens: list[str]) -> list[str]:
        """The keyword tokens that are nouns, by the build's user dictionary and jieba's."""
        return self._tokenizer.nouns(tokens)

    def with_synonyms(self, tokens: list[str]) -> list[str]:
        """A query's keyword tokens followed by the tokens of the synonyms of its terms."""
        return self._synonyms.expand(tokens)

    def document_frequency(self, tokens: list[str]) -> np.ndarray:
        """How many passages contain each token (0 for a token the corpus never uses); counted once, on first use,
        from the passages this replica holds."""
        if self._frequency is None:
            self._frequency = Counter(t for p in self._passages for t in set(self._tokenizer.tokenize(p.keyword_text)))
        return np.array([self._frequency.get(token, 0) for token in tokens], dtype=np.int64)

    def bigram_scores(self, text: str) -> np.ndarray:
        """BM25 score of every passage for the character bigrams of `text`."""
        return self._bigrams.scores(text)

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage (0 beyond Milvus's top 16,384) for already-tokenised query terms."""
        scores = np.zeros(len(self._passages), dtype=np.float32)
        if not tokens or not self._passages:
            return scores
        query: dict[int, float] = {}
        for term, count in Counter(tokens).items():
            query[term_id(term)] = query.get(term_id(term), 0.0) + float(count)
        hits = self._search(KEYWORDS_FIELD, query, min(len(self._passages), MAX_TOPK), ["passage"])
        for hit in hits:
            scores[hit["entity"]["passage"]] = hit["distance"]
        return scores

    def dense_search(self, space: str, query: np.ndarray, k: int) -> DenseHits:
        """The passages of the top-k vectors of `space`, with their best cosine per field."""
        field = self._field(space)
        hits = self._search(field, np.asarray(query, dtype=np.float32).ravel().tolist(), min(k, MAX_TOPK),
                            ["passage", "field"])
        found: dict[int, list[float]] = {}
        for hit in hits:  # best first
            per_field = found.setdefault(int(hit["entity"]["passage"]), [np.nan] * FIELDS)
            kind = int(hit["entity"]["field"])
            if np.isnan(per_field[kind]):
                per_field[kind] = float(hit["distance"])
        passages = np.fromiter(found, dtype=np.int64, count=len(found))
        per_field = np.array(list(found.values()), dtype=np.float32).reshape(len(found), FIELDS).T
        return DenseHits.of(passages, per_field)

    def passage_vectors(self, space: str, passages: Sequence[int]) -> PassageVectors:
        """Every vector of these passages in `space`, in row order."""
        field = self._field(space)
        wanted = [int(p) for p in passages]
        client = self._store.client
        rows = self._store.call(lambda: client.query(
            self.collection, filter=f"passage in {wanted}", output_fields=["row", "passage", "field", field],
            consistency_level=SEARCH_CONSISTENCY, timeout=self._store.config.timeout))
        rows = sorted(rows, key=lambda r: r["row"])
        dim = self._spaces[space]["dim"]
        vectors = np.array([r[field] for r in rows], dtype=np.float32).reshape(len(rows), dim)
        return PassageVectors(np.array([r["passage"] for r in rows], dtype=np.int64),
                              np.array([r["field"] for r in rows], dtype=np.int8), vectors)

    def centroid(self, space: str) -> np.ndarray | None:
        """Mean of the body vectors of `space` (computed when the build was published)."""
        centroid = self._spaces[self._check(space)]["centroid"]
        return None if centroid is None else np.asarray(centroid, dtype=np.float32)

    @property
    def closed(self) -> bool:
        """Whether `close` released the connection."""
        return self._closed

    def close(self) -> None:
        """Close the connection."""
        self._closed = True
        self._store.close()

    def _check(self, space: str) -> str:
        if space not in self._spaces:
            raise KeyError(f"build {self.build_id} holds no vectors of {space!r} (only {', '.join(self._spaces)})")
        return space

    def _field(self, space: str) -> str:
        return self._spaces[self._check(space)]["field"]

    def _search(self, field: str, query: Any, limit: int, output: list[str]) -> list[dict[str, Any]]:
        client = self._store.client
        result = self._store.call(lambda: client.search(
            self.collection, data=[query], anns_field=field, limit=limit, output_fields=output,
            search_params={"metric_type": "IP"}, consistency_level=SEARCH_CONSISTENCY,
            timeout=self._store.config.timeout))
        return list(result[0])


def _ensure_loaded(store: MilvusStore, collection: str) -> None:
    """Load the collection into memory when it is not (a Milvus Lite server forgets it on restart)."""
    from pymilvus.client.types import LoadState

    client = store.client
    state = store.call(lambda: client.get_load_state(collection, timeout=store.config.timeout))
    if state.get("state") != LoadState.Loaded:
        store.call(lambda: client.load_collection(collection, timeout=LOAD_TIMEOUT_S))


def _read_passages(store: MilvusStore, collection: str, count: int) -> list[Passage]:
    """Every passage of a build, by row, read in batches from the body rows."""
    client = store.client
    passages: list[Passage | None] = [None] * count
    iterator = store.call(lambda: client.query_iterator(
        collection, batch_size=READ_BATCH, filter=f"field == {FIELD_BODY}", output_fields=["passage", "passage_json"],
        timeout=store.config.timeout))
    try:
        while batch := store.call(iterator.next):
            for row in batch:
                passages[row["passage"]] = Passage.from_dict(json.loads(row["passage_json"]))
    finally:
        iterator.close()
    missing = [i for i, p in enumerate(passages) if p is None]
    if missing:
        raise IndexLoadError(f"Milvus collection {collection} is incomplete: {len(missing)} of {count} passages "
                             "missing")
    return [p for p in passages if p is not None]
