"""`GET /api/search`: keyword search for the staff search page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from service.api.deps import RateLimited, RetrieverDep, SettingsDep, check_length
from service.api.routes.passages import link_for
from service.api.schemas import ErrorOut, SearchHitOut, SearchOut, clean_text

router = APIRouter(tags=["search"], dependencies=[RateLimited])
MAX_OFFSET = 100_000


@router.get(
    "/api/search",
    response_model=SearchOut,
    responses={
        413: {"model": ErrorOut, "description": "q longer than FAQ_MAX_QUESTION_CHARS"},
        422: {"model": ErrorOut, "description": "Blank q, or limit/offset out of range"},
        429: {"model": ErrorOut, "description": "Rate limit; see Retry-After"},
        503: {"model": ErrorOut, "description": "Index not loaded yet"},
    },
)
def search(
    request: Request,
    retriever: RetrieverDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="Keywords (required, non-blank)", examples=["PSM"])],
    topic: Annotated[str | None, Query(description="Only this parent topic (exact; '' = no topic)")] = None,
    limit: Annotated[int, Query(ge=1, description="Results per page, at most FAQ_SEARCH_PAGE_MAX")] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchOut:
    """Keyword search with highlighted snippets, an optional topic filter and paging (plain `def`: thread pool)."""
    query = clean_text(q)
    if not query:
        raise HTTPException(422, "q: must not be blank")
    check_length(query, settings.max_question_chars, "q")
    if limit > settings.search_page_max:
        raise HTTPException(422, f"limit: must be at most {settings.search_page_max}")
    page = retriever.search(query, topic=topic, limit=limit, offset=offset)
    return SearchOut(
        total=page.total,
        results=[
            SearchHitOut(passage_id=hit.passage_id, title=hit.title, topic=hit.topic,
                         url=link_for(request, hit.passage_id, hit.url), snippet=hit.snippet, score=hit.score)
            for hit in page.results
        ],
    )
