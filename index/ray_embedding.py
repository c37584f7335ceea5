"""Embedding a large corpus on a Ray cluster: one actor per worker slot, each loading the model once.

`RayEmbedder` wraps the local embedder: questions (a few at a time) are embedded locally, and a
build's bulk embedding (`embed_many`, the `BulkEmbedder` hook `index/build.py` uses) is cut into
chunks that the actors embed in parallel. At most two chunks per actor are in flight, so the
object store holds a bounded slice of the corpus, and the progress callback advances as chunks
finish. The actors make the embedder by its name, so every node needs this package installed
(`pip install faq-assistant[ray]`, as on the driver).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from index.embedders.base import Embedder, make_embedder

CHUNK_TEXTS = 64
STARTUP_TIMEOUT = "timed out during startup"  # in the message of Ray's startup failure
IN_FLIGHT_PER_ACTOR = 2


class EmbedWorker:
    """A Ray actor holding one embedder (created from its name where the actor runs)."""

    def __init__(self, name: str) -> None:
        self.embedder = make_embedder(name)

    def embed(self, texts: list[str], as_query: bool) -> np.ndarray:
        """Vectors of `texts`, embedded as queries or passages."""
        return self.embedder.embed_queries(texts) if as_query else self.embedder.embed_passages(texts)


def connect(address: str) -> bool:
    """Join the Ray cluster at `address`; 'auto': the one RAY_ADDRESS or `ray start` names, else a new local one.

    Returns True when this call started Ray (and so should shut it down), False when Ray was running.
    """
    import ray

    if ray.is_initialized():
        return False
    def start() -> None:
        ray.init(address=None if address == "auto" else address, include_dashboard=False, log_to_driver=False)

    try:
        start()
    except Exception as err:  # Ray raises a bare Exception when a new node misses its fixed 30 s startup window
        if STARTUP_TIMEOUT not in str(err):
            raise
        # On a cold machine (first start after install) the raylet can miss it once; a second start is warm.
        ray.shutdown()
        start()
    return True


class RayEmbedder:
    """The `local` embedder for questions; its model on Ray actors for a build's bulk embedding."""

    def __init__(self, local: Embedder, address: str = "auto", workers: int | None = None,
                 cpus_per_worker: int = 1, chunk: int = CHUNK_TEXTS) -> None:
        self.local = local
        self.name = local.name
        self.dim = local.dim
        self.address = address
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.chunk = chunk
        self._actors: list[Any] = []
        self._started_ray = False

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Question vectors, embedded locally."""
        return self.local.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors, embedded locally (a few texts are not worth a round trip)."""
        return self.local.embed_passages(texts)

    def embed_many(self, texts: list[str], as_query: bool, on_progress: Callable[[int], None] | None = None
                   ) -> np.ndarray:
        """Vectors of every text, embedded by the actors chunk by chunk, in the order of `texts`."""
        import ray

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        actors = self._ensure_actors()
        chunks = [(start, texts[start:start + self.chunk]) for start in range(0, len(texts), self.chunk)]
        pending: dict[Any, tuple[int, int]] = {}  # object ref → (start, length)
        queue = iter(enumerate(chunks))
        limit = IN_FLIGHT_PER_ACTOR * len(actors)

        def submit() -> bool:
            item = next(queue, None)
            if item is None:
                return False
            number, (start, part) = item
            pending[actors[number % len(actors)].embed.remote(part, as_query)] = (start, len(part))
            return True

        while len(pending) < limit and submit():
            pass
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            start, length = pending.pop(done[0])
            out[start:start + length] = ray.get(done[0])
            if on_progress is not None:
                on_progress(length)
            submit()
        return out

    def _ensure_actors(self) -> list[Any]:
        if self._actors:
            return self._actors
        import ray

        self._started_ray = connect(self.address)
        count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // self.cpus_per_worker)
        actor = ray.remote(num_cpus=self.cpus_per_worker)(EmbedWorker).options(
            runtime_env={"env_vars": {"OMP_NUM_THREADS": str(self.cpus_per_worker)}})
        self._actors = [actor.remote(self.name) for _ in range(count)]
        return self._actors

    def close(self) -> None:
        """Stop the actors, and Ray itself when this embedder started it."""
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False
