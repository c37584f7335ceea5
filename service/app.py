"""The FastAPI application factory (`uvicorn service.app:create_app --factory`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from swagger_ui_bundle import swagger_ui_path

from index.index_dir import IndexLoadError
from index.pointer import StoreUnavailableError
from retrieval.loading import CalibrationMissingError, build_pointer, load_retriever
from retrieval.retriever import Retriever
from service.answer_cache import AnswerCache
from service.api.deps import Services
from service.api.routes import admin, ask, feedback, health, pages, passages, search, suggested, topics
from service.api.routes.pages import DOCS_ASSETS, STATIC_DIR
from service.api.schemas import document_limits
from service.core.config import Settings
from service.errors import StartupError, StartupErrorMiddleware, install_error_handlers
from service.feedback import FeedbackLog
from service.metrics import Metrics, MetricsMiddleware
from service.queue import QuestionQueue
from service.ratelimit import BodySizeLimitMiddleware, RateLimiter
from service.rebuild import Rebuilder
from service.review import QueueReview
from service.state import RetrieverState
from service.suggested import PopularQuestions

log = logging.getLogger(__name__)
STATIC_MOUNT = "/static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load and warm up the retriever before the first request is accepted; follow `CURRENT` while serving.

    An index or calibration that cannot be loaded stops start-up with one clear line (see
    `StartupErrorMiddleware`), not a traceback.
    """
    services: Services = app.state.services
    try:  # builds the index from the corpus folder when there is none yet
        retriever = await run_in_threadpool(load_retriever, services.settings)
    except (StoreUnavailableError, IndexLoadError) as err:
        if services.retrievers.pointer.store == "faiss":
            raise StartupError(f"cannot start: {err}") from err
        # A shared store may be down or not filled yet: serve 503s and load once it answers.
        services.retrievers.mark_unavailable(str(err))
    except CalibrationMissingError as err:
        raise StartupError(f"cannot start: {err}") from err
    else:
        services.retrievers.swap(retriever)
        services.metrics.observe_build(retriever.index.manifest.build_id, None)
        manifest = retriever.index.manifest
        log.info("serving index build %s (%d passages, %s)", manifest.build_id, manifest.passage_count,
                 manifest.embedder)
    watcher = None
    if services.retrievers.check_interval > 0:
        watcher = asyncio.create_task(_follow_current(services.retrievers), name="follow-index-CURRENT")
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await run_in_threadpool(services.queue.close)  # every question logged is written before the process ends
        await run_in_threadpool(services.retrievers.close)
        services.metrics.process_exiting()


async def _follow_current(state: RetrieverState) -> None:
    """Notice a new `CURRENT` build even when this worker gets no requests (requests check too)."""
    while True:
        await asyncio.sleep(max(state.check_interval, 0.05))
        try:
            state.check_for_new_build()
        except Exception:  # never let the watcher die
            log.exception("checking the index folder for a new build failed")


def _make_retriever_state(settings: Settings, metrics: Metrics, answers: AnswerCache) -> RetrieverState:
    def load(previous: Retriever | None) -> Retriever:
        return load_retriever(settings, embedder=previous.embedder if previous else None)

    def reloaded(retriever: Retriever | None, previous: Retriever | None) -> None:
        if retriever is None:
            metrics.reloads.labels("failed").inc()
            return
        metrics.reloads.labels("ok").inc()
        answers.keep_only(retriever.index.manifest.build_id)
        metrics.observe_build(retriever.index.manifest.build_id,
                              previous.index.manifest.build_id if previous is not None else None)

    return RetrieverState(build_pointer(settings), load, on_reload=reloaded,
                          check_interval=settings.index_check_seconds)


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """Serve an OpenAPI document that states this instance's limits (see `document_limits`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_limits(
                generate(), max_question_chars=settings.max_question_chars,
                max_history_turns=settings.max_history_turns, search_page_max=settings.search_page_max,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment (FAQ_*) once, here, when not given."""
    settings = settings or Settings()
    metrics = Metrics(settings.metrics_dir)
    answers = AnswerCache(settings.answer_cache_size, on_lookup=metrics.observe_cache_lookup)
    queue = QuestionQueue(settings.queue_db, review_below=settings.review_below)
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
        retrievers=_make_retriever_state(settings, metrics, answers),
        feedback=FeedbackLog(settings.feedback_log),
        metrics=metrics,
        rate_limiter=RateLimiter(settings.rate_limit_per_minute),
        popular=PopularQuestions(settings.feedback_log),
        answers=answers,
        queue=queue,
        review=QueueReview(queue, settings.cluster_similarity, settings.close_margin),
        rebuilder=Rebuilder(settings.queue_db.parent, settings.corpus_dir, settings.curation_dir,
                            settings.index_dir, settings.embedder),
    )
    _document_limits(app, settings)
    install_error_handlers(app)
    for module in (ask, suggested, search, topics, passages, feedback, health, admin, pages):
        app.include_router(module.router)
    app.include_router(admin.page_router)
    app.mount(STATIC_MOUNT, StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    # Added innermost first: metrics see every response, CORS headers reach 413s and 429s too.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        expose_headers=["X-Index-Build", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, mounts=(STATIC_MOUNT, DOCS_ASSETS))
    app.add_middleware(StartupErrorMiddleware)
    return app
