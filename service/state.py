"""The retriever currently serving: replaced whole on reload, never modified in place."""

from __future__ import annotations

import threading

from service.retriever import Retriever


class RetrieverState:
    """Holds the live `Retriever`.

    Requests read `current` once and keep that object for their whole duration, so a reload
    (a single reference assignment) never shows a request a mix of two indexes.
    """

    def __init__(self) -> None:
        self._retriever: Retriever | None = None
        self.reload_lock = threading.Lock()

    @property
    def current(self) -> Retriever | None:
        """The retriever new requests should use, or None before the first load."""
        return self._retriever

    def swap(self, retriever: Retriever) -> Retriever | None:
        """Make `retriever` current; returns the one it replaces."""
        previous, self._retriever = self._retriever, retriever
        return previous
