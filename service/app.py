"""The FastAPI application factory (`uvicorn service.app:create_app --factory`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

from service.api.deps import Services
from service.api.routes import admin, ask, feedback, health, pages, passages, search, topics
from service.api.routes.pages import DOCS_ASSETS, STATIC_DIR
from service.core.config import Settings
from service.errors import install_error_handlers
from service.feedback import FeedbackLog
from service.loading import load_retriever
from service.metrics import Metrics, MetricsMiddleware
from service.ratelimit import BodySizeLimitMiddleware, RateLimiter
from service.state import RetrieverState

log = logging.getLogger(__name__)
STATIC_MOUNT = "/static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load and warm up the retriever before the first request is accepted."""
    services: Services = app.state.services
    retriever = await run_in_threadpool(load_retriever, services.settings)
    services.retrievers.swap(retriever)
    manifest = retriever.index.manifest
    log.info("serving index build %s (%d passages, %s)", manifest.build_id, manifest.passage_count,
             manifest.embedder)
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment (FAQ_*) once, here, when not given."""
    settings = settings or Settings()
    metrics = Metrics(settings.metrics_dir)
    app = FastAPI(
        title="FAQ assistant",
        version="0.1.0",
        summary="Offline FAQ chatbot with citations, and keyword search, over a help-center corpus.",
        lifespan=lifespan,
        docs_url=None,  # served by the pages router, without a CDN
        redoc_url=None,
    )
    app.state.services = Services(
        settings=settings,
        retrievers=RetrieverState(),
        feedback=FeedbackLog(settings.feedback_log),
        metrics=metrics,
        rate_limiter=RateLimiter(settings.rate_limit_per_minute),
    )
    install_error_handlers(app)
    for module in (ask, search, topics, passages, feedback, health, admin, pages):
        app.include_router(module.router)
    app.mount(STATIC_MOUNT, StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    # Added innermost first: metrics see every response, CORS headers reach 413s and 429s too.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, mounts=(STATIC_MOUNT, DOCS_ASSETS))
    return app
