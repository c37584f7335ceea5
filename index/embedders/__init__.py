"""Embedders behind one protocol, created by name."""

from index.embedders.base import Embedder, UnknownEmbedderError, make_embedder

__all__ = ["Embedder", "UnknownEmbedderError", "make_embedder"]
