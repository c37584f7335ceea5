"""`POST /admin/reload`: switch to the index folder's CURRENT build without a restart."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException

from service.api.deps import AdminOnly, RateLimited, ServicesDep
from service.api.schemas import ErrorOut, ManifestOut

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
def reload(services: ServicesDep) -> ManifestOut:
    """Load the CURRENT build, warm it up, then swap it in atomically; answers once it serves.

    A plain `def`, so loading runs in the thread pool and the event loop keeps serving. Requests
    already running finish on the retriever they started with. This reloads the worker process
    that receives the request; the other workers notice the new `CURRENT` build within about a
    second and load it in the background (see `service.state`).
    """
    state = services.retrievers
    try:
        retriever, previous = state.reload()
    except Exception as err:  # whatever is wrong with the new build, the old one keeps serving
        log.warning("index reload failed, still serving the previous build: %s", err)
        serving = state.current.index.manifest.build_id if state.current else "none"
        raise HTTPException(409, f"reload failed, still serving build {serving}: {err}") from err
    manifest = retriever.index.manifest
    log.info("index reloaded: build %s (%d passages)", manifest.build_id, manifest.passage_count)
    return ManifestOut(
        build_id=manifest.build_id, built_at=manifest.built_at, embedder=manifest.embedder, dim=manifest.dim,
        corpus_hash=manifest.corpus_hash, passage_count=manifest.passage_count,
        vector_count=manifest.vector_count, format_version=manifest.format_version,
        previous_build_id=previous.index.manifest.build_id if previous else None,
    )
