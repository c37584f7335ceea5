"""What routes depend on, as `Annotated` aliases: settings, the current retriever, logs, limits, auth."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Response

from retrieval.retriever import Retriever
from service.answer_cache import AnswerCache
from service.core.config import Settings
from service.feedback import FeedbackLog
from service.metrics import Metrics
from service.queue import QuestionQueue
from service.ratelimit import RateLimiter, retry_after
from service.rebuild import Rebuilder
from service.review import QueueReview
from service.state import RetrieverState
from service.suggested import PopularQuestions


@dataclass(frozen=True, slots=True)
class Services:
    """Everything one app instance shares between requests (kept on `app.state.services`)."""

    settings: Settings
    retrievers: RetrieverState
    feedback: FeedbackLog
    metrics: Metrics
    rate_limiter: RateLimiter
    popular: PopularQuestions
    answers: AnswerCache
    queue: QuestionQueue
    review: QueueReview
    rebuilder: Rebuilder


async def get_services(request: Request) -> Services:
    """The app's services."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    """The settings the app was created with."""
    return services.settings


@contextmanager
def leased_retriever(services: Services) -> Iterator[Retriever]:
    """The retriever a request uses from start to end (read once: a reload never changes it mid-request),
    leased: a reload closes it only after the request is done with it; 503 while there is none.

    Also lets the state look for a new `CURRENT` build (at most once a second, loaded in the
    background: this request is served by the build already loaded).
    """
    services.retrievers.check_for_new_build()
    if services.retrievers.unavailable is not None:  # fail fast until the store answers again
        raise HTTPException(503, f"the vector store is unavailable: {services.retrievers.unavailable}; "
                                 "try again shortly", headers={"Retry-After": "5"})
    with services.retrievers.lease() as retriever:
        if retriever is None:
            raise HTTPException(503, "the index is not loaded yet; try again shortly", headers={"Retry-After": "5"})
        yield retriever


async def get_retriever(services: ServicesDep) -> AsyncIterator[Retriever]:
    """The retriever this request uses, leased for the request (see `leased_retriever`)."""
    with leased_retriever(services) as retriever:
        yield retriever


async def get_metrics(services: ServicesDep) -> Metrics:
    """The app's metrics."""
    return services.metrics


async def get_answer_cache(services: ServicesDep) -> AnswerCache:
    """This worker's answer cache."""
    return services.answers


async def get_feedback_log(services: ServicesDep) -> FeedbackLog:
    """The feedback log."""
    return services.feedback


async def get_queue(services: ServicesDep) -> QuestionQueue:
    """The unanswered-question queue."""
    return services.queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
QueueDep = Annotated[QuestionQueue, Depends(get_queue)]
RetrieverDep = Annotated[Retriever, Depends(get_retriever)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
FeedbackDep = Annotated[FeedbackLog, Depends(get_feedback_log)]
AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]


async def get_popular_questions(services: ServicesDep) -> PopularQuestions:
    """The helpful questions of the feedback log."""
    return services.popular


PopularDep = Annotated[PopularQuestions, Depends(get_popular_questions)]


async def rate_limit(request: Request, services: ServicesDep) -> None:
    """429 with Retry-After when this client (by IP) is over FAQ_RATE_LIMIT_PER_MINUTE."""
    check_rate(request, services)


def check_rate(request: Request, services: Services) -> None:
    """Count this request against its client's limit; 429 with Retry-After when the client is over it."""
    client = request.client.host if request.client else "unknown"
    wait = services.rate_limiter.acquire(client)
    if wait > 0:
        limit = services.rate_limiter.per_minute
        raise HTTPException(429, f"too many requests: at most {limit} per minute; retry in {retry_after(wait)} s",
                            headers={"Retry-After": retry_after(wait)})


RateLimited = Depends(rate_limit)


@dataclass(frozen=True, slots=True)
class Serving:
    """What a rate-limited request is served with: the app's services and the retriever it leased."""

    services: Services
    retriever: Retriever


async def serving(request: Request) -> AsyncIterator[Serving]:
    """`rate_limit` then `get_retriever`, in one dependency.

    FastAPI solves each dependency, and each of its own, with its full machinery: `/api/ask` solved 13
    (about a third of its time outside retrieval); with this one it solves two.
    """
    services: Services = request.app.state.services
    check_rate(request, services)
    with leased_retriever(services) as retriever:
        yield Serving(services, retriever)


ServingDep = Annotated[Serving, Depends(serving)]


async def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """`Authorization: Bearer <FAQ_ADMIN_TOKEN>`; 404 when no token is configured, 401 when it is wrong."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise HTTPException(404, "Not Found")
    scheme, _, given = (authorization or "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode("utf-8")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("utf-8"), expected):
        raise HTTPException(401, "a valid admin bearer token is required", headers={"WWW-Authenticate": "Bearer"})


AdminOnly = Depends(require_admin)


INDEX_BUILD_HEADER = "X-Index-Build"
INDEX_BUILD_HEADER_DOC = {
    INDEX_BUILD_HEADER: {
        "description": "Id of the index build that produced this response",
        "schema": {"type": "string"},
    },
}


def mark_build(response: Response, retriever: Retriever) -> None:
    """Name the build `retriever` serves in the response's `X-Index-Build` header."""
    response.headers[INDEX_BUILD_HEADER] = retriever.index.manifest.build_id


def check_length(text: str, limit: int, field: str) -> None:
    """413 when `text` is longer than `limit` characters."""
    if len(text) > limit:
        raise HTTPException(413, f"{field} is too long: {len(text)} characters, the limit is {limit}")
