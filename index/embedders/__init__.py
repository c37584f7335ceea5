"""Embedders behind one protocol, created by name."""

from index.embedders.base import BulkEmbedder, Embedder, UnknownEmbedderError, make_embedder

__all__ = ["BulkEmbedder", "Embedder", "UnknownEmbedderError", "make_embedder"]
