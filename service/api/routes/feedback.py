"""`POST /api/feedback`: was an answer helpful?"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import APIRouter, HTTPException

from service.api.deps import (
    FeedbackDep,
    MetricsDep,
    QueueDep,
    RateLimited,
    RetrieverDep,
    SettingsDep,
    check_length,
)
from service.api.schemas import ErrorOut, FeedbackIn, FeedbackOut

router = APIRouter(tags=["chat"], dependencies=[RateLimited])
log = logging.getLogger(__name__)


@router.post(
    "/api/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses={
        404: {"model": ErrorOut, "description": "Unknown passage_id"},
        413: {"model": ErrorOut, "description": "Question longer than FAQ_MAX_QUESTION_CHARS"},
        422: {"model": ErrorOut, "description": "Blank question or wrong types"},
        429: {"model": ErrorOut, "description": "Rate limit; see Retry-After"},
        503: {"model": ErrorOut, "description": "Feedback could not be stored"},
    },
)
def feedback(body: FeedbackIn, retriever: RetrieverDep, settings: SettingsDep, log_file: FeedbackDep,
             metrics: MetricsDep, queue: QueueDep) -> FeedbackOut:
    """Append the feedback as one JSON line to FAQ_FEEDBACK_LOG and to the console's store (a thumbs-down
    is queued for review); a plain `def`: file I/O in the thread pool."""
    check_length(body.question, settings.max_question_chars, "question")
    passage = retriever.index.passage(body.passage_id)
    if passage is None:
        raise HTTPException(404, f"no passage with id {body.passage_id!r}")
    if body.reason is not None and body.helpful:
        raise HTTPException(422, "a reason is given only with helpful: false")
    try:
        log_file.append(body.passage_id, body.question, body.helpful, retriever.index.manifest.build_id, body.reason)
    except OSError as err:
        log.error("cannot write feedback to %s: %s", log_file.path, err)
        raise HTTPException(503, "feedback could not be stored; try again later") from err
    try:
        queue.record_feedback(body.question, passage.id, passage.title, passage.answer, body.helpful,
                              retriever.index.manifest.build_id)
    except (sqlite3.Error, OSError) as err:  # the JSONL log holds it: the console misses it, nothing is lost
        log.warning("cannot record the feedback in %s: %s", queue.path, err)
    metrics.feedback.labels(str(body.helpful).lower()).inc()
    return FeedbackOut()
