"""`POST /admin/reload`: switch to the index folder's CURRENT build without a restart."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException

from index.index_dir import IndexLoadError, current_build
from service.api.deps import AdminOnly, MetricsDep, RateLimited, ServicesDep
from service.api.schemas import ErrorOut, ManifestOut
from service.loading import load_retriever

router = APIRouter(tags=["operations"], dependencies=[RateLimited, AdminOnly])
log = logging.getLogger(__name__)


@router.post(
    "/admin/reload",
    response_model=ManifestOut,
    responses={
        401: {"model": ErrorOut, "description": "Missing or wrong bearer token"},
        404: {"model": ErrorOut, "description": "No FAQ_ADMIN_TOKEN configured: admin endpoints are off"},
        409: {"model": ErrorOut, "description": "The new build could not be loaded; the previous one keeps serving"},
    },
)
def reload(services: ServicesDep, metrics: MetricsDep) -> ManifestOut:
    """Load the CURRENT build, warm it up, then swap it in atomically.

    A plain `def`, so loading runs in the thread pool and the event loop keeps serving. Requests
    already running finish on the retriever they started with. Only this worker process reloads.
    """
    state = services.retrievers
    with state.reload_lock:
        previous = state.current
        try:
            if current_build(services.settings.index_dir) is None:  # never build a whole index inside a request
                raise IndexLoadError(f"no index at {services.settings.index_dir}: run `faq ingest` first")
            retriever = load_retriever(services.settings, embedder=previous.embedder if previous else None)
        except Exception as err:  # whatever is wrong with the new build, the old one keeps serving
            metrics.reloads.labels("failed").inc()
            log.warning("index reload failed, still serving the previous build: %s", err)
            serving = previous.index.manifest.build_id if previous else "none"
            raise HTTPException(409, f"reload failed, still serving build {serving}: {err}") from err
        state.swap(retriever)
    metrics.reloads.labels("ok").inc()
    manifest = retriever.index.manifest
    log.info("index reloaded: build %s (%d passages)", manifest.build_id, manifest.passage_count)
    return ManifestOut(
        build_id=manifest.build_id, built_at=manifest.built_at, embedder=manifest.embedder, dim=manifest.dim,
        corpus_hash=manifest.corpus_hash, passage_count=manifest.passage_count,
        vector_count=manifest.vector_count, format_version=manifest.format_version,
        previous_build_id=previous.index.manifest.build_id if previous else None,
    )
