"""HTML and static pages: landing page, chat widget script, staff search page, one page per passage."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from ingest.passage import Passage
from retrieval.retriever import Retriever
from service.api.deps import RateLimited, RetrieverDep
from service.api.routes.passages import PAGE_ROUTE, http_links, is_http_url, public_source
from service.page_views import PAGE_CSP, PassageView, landing_page, not_found_page, passage_page
from service.suggested import representative_questions

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
DOCS_ASSETS = "/docs/assets"  # Swagger UI served from the swagger-ui-bundle package: /docs works offline
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
WIDGET_PARTS = ("texts.js", "styles.js", "dom.js", "markdown.js", "widget.js")
RELATED = 6
EXAMPLES = 4

router = APIRouter(include_in_schema=False)


def _html(document: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(document, status_code=status_code, headers=PAGE_HEADERS)


def _static(name: str, media_type: str, cache_seconds: int) -> FileResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise HTTPException(404, f"{name} is not installed")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": f"public, max-age={cache_seconds}"})


@router.get("/")
def landing(request: Request, retriever: RetrieverDep) -> HTMLResponse:
    """What the product is, the live widget, a search box, example questions, and how to embed the widget."""
    widget_url = str(request.url_for("widget"))
    snippet = f'<script src="{widget_url}" data-title="在线帮助" data-lang="zh" data-position="bottom-right"></script>'
    examples = [q.question for q in representative_questions(retriever.index.passages, EXAMPLES)]
    return _html(landing_page(snippet, examples))


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI schema, with its scripts and styles served locally (no CDN)."""
    root = request.scope.get("root_path", "")
    assets = f"{root}{DOCS_ASSETS}"
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}", title="FAQ assistant — API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
    )


@router.get("/widget.js", name="widget")
async def widget() -> Response:
    """The embeddable chat widget: its parts as one script, in one function scope (cacheable)."""
    return Response(widget_bundle(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


@cache
def widget_bundle() -> str:
    """texts, styles, DOM helpers, Markdown and the widget itself, wrapped so that they define no globals."""
    try:
        parts = [(STATIC_DIR / "widget" / name).read_text(encoding="utf-8") for name in WIDGET_PARTS]
    except OSError as err:
        raise HTTPException(404, "widget.js is not installed") from err
    return "(function () {\n" + "\n".join(parts) + "\n})();\n"


@router.get("/search")
async def search_page() -> FileResponse:
    """The staff keyword-search page."""
    return _static("search.html", "text/html; charset=utf-8", cache_seconds=300)


@router.get("/passages/{passage_id}", name=PAGE_ROUTE, dependencies=[RateLimited])
def passage_page_route(passage_id: str, retriever: RetrieverDep) -> HTMLResponse:
    """A readable page for one passage: breadcrumb, answer, links, related entries, all escaped."""
    passage = retriever.index.passage(passage_id)
    if passage is None:
        return _html(not_found_page(), status_code=404)
    source = public_source(passage)
    view = PassageView(passage, source, is_http_url(source), http_links(passage), related_passages(retriever, passage))
    return _html(passage_page(view))


def related_passages(retriever: Retriever, passage: Passage, limit: int = RELATED) -> list[Passage]:
    """Entries of the same topic first, then the title's keyword neighbours; never the passage itself."""
    related: dict[str, Passage] = {}
    if passage.topic:
        for other in retriever.index.passages:
            if other.topic == passage.topic and other.id != passage.id:
                related.setdefault(other.id, other)
                if len(related) >= limit // 2:
                    break
    for hit in retriever.search(passage.title, limit=limit + 1).results:
        neighbour = retriever.index.passage(hit.passage_id)
        if neighbour is not None and neighbour.id != passage.id:
            related.setdefault(neighbour.id, neighbour)
    return list(related.values())[:limit]
