"""`/healthz` (the process is up), `/readyz` (an index is loaded) and `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from service.api.deps import MetricsDep, ServicesDep
from service.api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    """Liveness: answers as long as the process serves HTTP."""
    return HealthOut()


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut, "description": "Not loaded"}})
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: 200 with the index build in use; 503 with the reason while none is loaded or the store is down."""
    state = services.retrievers
    state.check_for_new_build()
    retriever, unavailable, store = state.current, state.unavailable, state.pointer.store
    if retriever is None or unavailable is not None:
        reason = unavailable or "the index is not loaded yet"
        body = ReadyOut(ready=False, passages=0, embedder=services.settings.embedder, built_at="", build_id="",
                        store=store, reason=reason)
        return JSONResponse(body.model_dump(), status_code=503)
    manifest = retriever.index.manifest
    body = ReadyOut(ready=True, passages=len(retriever.index.passages), embedder=manifest.embedder,
                    built_at=manifest.built_at, build_id=manifest.build_id, store=store)
    return JSONResponse(body.model_dump())


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text exposition (plain `def`: multiprocess mode reads files)."""
    return Response(metrics.render(), media_type=metrics.content_type)
