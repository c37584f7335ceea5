"""`GET /api/search`: keyword search for the staff search page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from service.api.deps import INDEX_BUILD_HEADER_DOC, RateLimited, RetrieverDep, SettingsDep, check_length, mark_build
from service.api.routes.passages import link_for
from service.api.schemas import NON_BLANK_SCHEMA, ErrorOut, SearchHitOut, SearchOut, clean_text

router = APIRouter(tags=["search"], dependencies=[RateLimited])
MAX_OFFSET = 100_000
DEFAULT_LIMIT = 10


@router.get(
    "/api/search",
    response_model=SearchOut,
    responses={
        200: {"headers": INDEX_BUILD_HEADER_DOC},
        413: {"model": ErrorOut, "description": "q longer than FAQ_MAX_QUESTION_CHARS"},
        422: {"model": ErrorOut, "description": "Blank q, or limit/offset out of range"},
        429: {"model": ErrorOut, "description": "Rate limit; see Retry-After"},
        503: {"model": ErrorOut, "description": "Index not loaded yet, or the vector store (Milvus) unavailable"},
    },
)
async def search(
    request: Request,
    response: Response,
    retriever: RetrieverDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="Keywords (required, non-blank); longer than FAQ_MAX_QUESTION_CHARS → 413",
                            examples=["PSM"], json_schema_extra=NON_BLANK_SCHEMA)],
    topic: Annotated[str | None, Query(description="Only this parent topic (exact; '' = no topic)")] = None,
    limit: Annotated[int, Query(ge=1, description="Results per page, at most FAQ_SEARCH_PAGE_MAX")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchOut:
    """Keyword search with highlighted snippets, an optional topic filter and paging.

    `async`: a search takes about a millisecond of CPU, less than the hop to the thread pool costs.
    """
    query = clean_text(q)
    if not query:
        raise HTTPException(422, "q: must not be blank")
    check_length(query, settings.max_question_chars, "q")
    if "limit" not in request.query_params:  # the default never exceeds a smaller configured page size
        limit = min(DEFAULT_LIMIT, settings.search_page_max)
    if limit > settings.search_page_max:
        raise HTTPException(422, f"limit: must be at most {settings.search_page_max}")
    mark_build(response, retriever)
    page = retriever.search(query, topic=topic, limit=limit, offset=offset)
    return SearchOut(
        total=page.total,
        results=[
            SearchHitOut(passage_id=hit.passage_id, title=hit.title, topic=hit.topic,
                         url=link_for(request, hit.passage_id, hit.url), snippet=hit.snippet, score=hit.score)
            for hit in page.results
        ],
    )
