"""Index: embedders, the FAISS vector store, the jieba BM25 keyword index and the on-disk index directory."""

import ingest  # noqa: F401  (switches Haystack telemetry off before any Haystack import)
