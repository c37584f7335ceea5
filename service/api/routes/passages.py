"""`GET /api/passages/{id}`, and how a passage is addressed and shown publicly."""

from __future__ import annotations

import re
from pathlib import PurePath

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import URLPath

from ingest.passage import Passage
from retrieval.answer import source_url
from service.api.deps import RateLimited, RetrieverDep
from service.api.schemas import ErrorOut, PassageOut
from service.page_views import passage_path

router = APIRouter(tags=["passages"], dependencies=[RateLimited])
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
PAGE_ROUTE = "passage_page"


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) address with a host."""
    return bool(_HTTP_URL.match(url))


def link_for(request: Request, passage_id: str, source: str | None) -> str:
    """Where to read a passage: its http(s) source when it has one, else this service's page for it.

    The page's path is built directly rather than by `request.url_for`, which walks every route of the app
    (two thirds of a cached `/api/ask`'s own time); `tests/service` checks both give the same address.
    """
    if source and is_http_url(source):
        return source
    return str(URLPath(passage_path(passage_id)).make_absolute_url(request.base_url))


def public_source(passage: Passage) -> str:
    """The source to show: a web address as is, a local file by name only (server paths stay private)."""
    source = source_url(passage)
    return source if source and is_http_url(source) else PurePath(passage.source).name


def http_links(passage: Passage) -> list[str]:
    """The passage's links that are http(s) addresses."""
    return [link for link in passage.links if is_http_url(link)]


@router.get("/api/passages/{passage_id}", response_model=PassageOut, responses={404: {"model": ErrorOut}})
async def get_passage(passage_id: str, request: Request, retriever: RetrieverDep) -> PassageOut:
    """One passage by id."""
    passage = retriever.index.passage(passage_id)
    if passage is None:
        raise HTTPException(404, f"no passage with id {passage_id!r}")
    return PassageOut(
        id=passage.id, title=passage.title, answer=passage.answer, topic=passage.topic,
        source=public_source(passage), url=link_for(request, passage.id, source_url(passage)), kind=passage.kind,
        links=http_links(passage), lang=passage.lang, truncated=passage.truncated,
    )
