"""`GET /api/suggested-questions`: what the chat widget offers before the first question."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import PopularDep, RateLimited, RetrieverDep
from service.api.schemas import Lang, SuggestedQuestionOut, SuggestedQuestionsOut
from service.suggested import representative_questions

router = APIRouter(tags=["chat"], dependencies=[RateLimited])


@router.get("/api/suggested-questions", response_model=SuggestedQuestionsOut)
def suggested_questions(
    retriever: RetrieverDep,
    popular: PopularDep,
    limit: Annotated[int, Query(ge=1, le=10)] = 4,
    lang: Annotated[Lang | None, Query(description="Prefer entries in this language (topic titles only)")] = None,
) -> SuggestedQuestionsOut:
    """The questions most often marked helpful in the feedback log; with none yet, one entry per topic.

    A plain `def`: the feedback log is read (when it changed) in the thread pool.
    """
    asked = popular.top(retriever.index.passage, limit)
    if asked:
        return SuggestedQuestionsOut(source="feedback", questions=[
            SuggestedQuestionOut(question=q.question, topic=q.topic) for q in asked])
    return SuggestedQuestionsOut(source="topics", questions=[
        SuggestedQuestionOut(question=q.question, topic=q.topic)
        for q in representative_questions(retriever.index.passages, limit, lang)])
