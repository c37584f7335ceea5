"""HTML and static pages: landing page, chat widget script, staff search page, one page per passage."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from service.api.deps import RateLimited, RetrieverDep
from service.api.routes.passages import PAGE_ROUTE, http_links, is_http_url, public_source

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
DOCS_ASSETS = "/docs/assets"  # Swagger UI served from the swagger-ui-bundle package: /docs works offline
# Pages are self-contained: no scripts, inline styles only, nothing loaded from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_STYLE = ("body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1f2328}"
          "pre,code{background:#f3f4f6;border-radius:4px}pre{padding:.75rem;overflow:auto;white-space:pre-wrap}"
          ".meta{color:#57606a}.answer{white-space:pre-wrap}")

router = APIRouter(include_in_schema=False)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """A complete HTML document; `title` is escaped here, `body` must already be escaped."""
    document = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>")
    return HTMLResponse(document, status_code=status_code, headers=PAGE_HEADERS)


def _static(name: str, media_type: str, cache_seconds: int) -> FileResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise HTTPException(404, f"{name} is not installed")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": f"public, max-age={cache_seconds}"})


@router.get("/")
async def landing(request: Request) -> HTMLResponse:
    """What the service offers and how to embed the chat widget."""
    widget_url = str(request.url_for("widget"))
    snippet = f'<script src="{widget_url}" data-title="在线帮助" data-lang="zh" data-position="bottom-right"></script>'
    body = (
        "<h1>FAQ 助手 · FAQ assistant</h1>"
        '<ul><li><a href="/search">知识库搜索 (staff search)</a></li>'
        '<li><a href="/docs">API 文档 (OpenAPI)</a></li></ul>'
        "<h2>嵌入聊天小部件 · Embed the chat widget</h2>"
        "<p>把下面这一行放进网页（站点的来源需列在 <code>FAQ_CORS_ORIGINS</code> 中）："
        "<br>Add this tag to a page (its origin must be listed in <code>FAQ_CORS_ORIGINS</code>):</p>"
        f"<pre><code>{escape(snippet)}</code></pre>"
    )
    return _page("FAQ 助手", body)


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
async def widget() -> FileResponse:
    """The embeddable chat widget script (cacheable)."""
    return _static("widget.js", "text/javascript; charset=utf-8", cache_seconds=3600)


@router.get("/search")
async def search_page() -> FileResponse:
    """The staff keyword-search page."""
    return _static("search.html", "text/html; charset=utf-8", cache_seconds=300)


@router.get("/passages/{passage_id}", name=PAGE_ROUTE, dependencies=[RateLimited])
async def passage_page(passage_id: str, retriever: RetrieverDep) -> HTMLResponse:
    """A readable page for one passage: title, 父主题, answer, links and source, all escaped."""
    passage = retriever.index.passage(passage_id)
    if passage is None:
        return _page("未找到 · Not found", "<h1>未找到该条目 · Passage not found</h1>", status_code=404)
    source = public_source(passage)
    source_html = (f'<a href="{escape(source)}" rel="noopener noreferrer">{escape(source)}</a>'
                   if is_http_url(source) else escape(source))
    links = "".join(f'<li><a href="{escape(link)}" rel="noopener noreferrer">{escape(link)}</a></li>'
                    for link in http_links(passage))
    body = (
        f"<h1>{escape(passage.title)}</h1>"
        f'<p class="meta">父主题: {escape(passage.topic) or "—"}</p>'
        f'<div class="answer">{escape(passage.answer)}</div>'
        + ('<p class="meta">（原文在此处不完整 · the source text is cut off here）</p>' if passage.truncated else "")
        + (f"<h2>链接 · Links</h2><ul>{links}</ul>" if links else "")
        + f'<p class="meta">来源 · Source: {source_html}</p>'
    )
    return _page(passage.title, body)
