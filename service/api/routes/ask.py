"""`POST /api/ask`: the chatbot."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from retrieval.results import AskResult
from retrieval.retriever import Retriever
from service.answer_cache import cache_key
from service.api.deps import INDEX_BUILD_HEADER_DOC, ServingDep, check_length, mark_build
from service.api.routes.passages import link_for
from service.api.schemas import AskIn, AskOut, CitationOut, ErrorOut, SuggestionOut
from service.metrics import server_timing

router = APIRouter(tags=["chat"])  # rate-limited by `serving`


@router.post(
    "/api/ask",
    response_model=AskOut,
    responses={
        200: {"headers": INDEX_BUILD_HEADER_DOC},
        413: {"model": ErrorOut, "description": "Question (or a history question) longer than FAQ_MAX_QUESTION_CHARS,"
                                                " or body over FAQ_MAX_BODY_BYTES"},
        422: {"model": ErrorOut, "description": "Blank question, wrong types, or too many history turns"},
        429: {"model": ErrorOut, "description": "Rate limit; see Retry-After"},
        503: {"model": ErrorOut, "description": "Index not loaded yet, or the vector store (Milvus) unavailable"},
    },
)
async def ask(body: AskIn, request: Request, response: Response, serving: ServingDep) -> AskOut:
    """Answer a question from the FAQ with a citation, or decline (`answered: false`) with suggestions.

    A question this worker already answered from the same build is answered from its cache, on the event
    loop; otherwise retrieval (CPU-bound) runs in the thread pool, keeping the event loop free, and its time is
    reported as `Server-Timing: retrieval;dur=<ms>`.
    """
    retriever, services = serving.retriever, serving.services
    settings, cache = services.settings, services.answers
    check_length(body.question, settings.max_question_chars, "question")
    if len(body.history) > settings.max_history_turns:
        raise HTTPException(422, f"history has {len(body.history)} turns, the limit is {settings.max_history_turns}")
    for turn in body.history:
        check_length(turn.question, settings.max_question_chars, "history question")
    history = [(turn.question, turn.answer) for turn in body.history]
    mark_build(response, retriever)  # the same object answers: ids below all exist in that build
    key = cache_key(retriever.index.manifest.build_id, body.question, history, body.lang)
    result = cache.get(key)
    if result is None:
        result, seconds = await run_in_threadpool(_timed_ask, retriever, body.question, history, body.lang)
        response.headers.append("Server-Timing", server_timing("retrieval", seconds))
        cache.put(key, result)
    services.metrics.observe_answer(result.answered)
    # Logged, and queued for maintainers when refused or unsure, by the queue's background writer: the answer
    # never waits for SQLite, nor fails with it.
    services.queue.record_ask(body.question, result, retriever.index.manifest.build_id)
    citations = [
        CitationOut(passage_id=c.passage_id, title=c.title, topic=c.topic, url=link_for(request, c.passage_id, c.url),
                    score=c.score, lang=_passage_lang(retriever, c.passage_id))
        for c in result.citations
    ]
    return AskOut(
        answered=result.answered,
        answer=result.answer,
        citations=citations,
        confidence=round(result.confidence, 4),
        suggestions=[SuggestionOut(passage_id=s.passage_id, title=s.title) for s in result.suggestions],
        used_history=result.used_history,
        read_as=result.read_as if result.used_history else None,
        handoff_url=None if result.answered or settings.handoff_url is None else str(settings.handoff_url),
    )


def _timed_ask(retriever: Retriever, question: str, history: list[tuple[str, str]], lang: str | None
               ) -> tuple[AskResult, float]:
    """`retriever.ask` and the seconds it took (in the worker thread: the hop to it is not counted)."""
    started = time.perf_counter()
    result = retriever.ask(question, history=history or None, lang=lang)
    return result, time.perf_counter() - started


def _passage_lang(retriever: Retriever, passage_id: str) -> str:
    passage = retriever.index.passage(passage_id)
    return passage.lang if passage is not None else "zh"
