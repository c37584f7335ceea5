"""The server-rendered HTML pages: the landing page and one page per passage. Every text is escaped here."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from ingest.passage import Passage

NO_TOPIC = "（无父主题）"
# One stylesheet for both pages: readable text, AA contrast (#57606a on white is 6.1:1), visible focus.
STYLE = (
    "body{font:16px/1.6 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
    "'WenQuanYi Micro Hei',sans-serif;max-width:48rem;margin:0 auto;padding:1.5rem 1rem 6rem;color:#1f2328;"
    "background:#fff}"
    "a{color:#0550ae}a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #0550ae;"
    "outline-offset:2px}"
    "pre,code{background:#f3f4f6;border-radius:4px}pre{padding:.75rem;overflow:auto;white-space:pre-wrap}"
    ".meta{color:#57606a}.answer{white-space:pre-wrap}"
    "nav.crumbs ol{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.25rem;color:#57606a}"
    "nav.crumbs li+li::before{content:'›';margin-right:.25rem}"
    ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1.5rem 0}"
    ".actions a,.ask{display:inline-block;padding:.4rem .9rem;border:1px solid #0550ae;border-radius:8px;"
    "text-decoration:none;background:#fff;color:#0550ae;font:inherit;cursor:pointer}"
    ".hero{padding:1rem 0}.hero p{font-size:1.1rem}"
    "form.search{display:flex;gap:.5rem;flex-wrap:wrap}form.search input{flex:1;min-width:12rem;font:inherit;"
    "padding:.45rem .7rem;border:1px solid #6e7781;border-radius:8px}"
    "form.search button{font:inherit;padding:.45rem 1rem;border:0;border-radius:8px;background:#0550ae;color:#fff}"
    ".examples{list-style:none;padding:0;display:flex;flex-direction:column;gap:.5rem}"
    ".examples .ask{text-align:left}"
)
# Scripts from this origin only (the widget and the page helper), no inline script, nothing from elsewhere.
PAGE_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@dataclass(frozen=True, slots=True)
class PassageView:
    """What a passage page shows besides the passage itself."""

    passage: Passage
    source: str  # a web address, or the file's name
    source_is_web: bool
    links: list[str]  # http(s) only
    related: list[Passage]


def document(title: str, body: str, lang: str = "zh", scripts: tuple[str, ...] = ()) -> str:
    """A complete HTML document; `title` is escaped here, `body` must already be escaped."""
    tags = "".join(scripts)
    return (f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}{tags}</body></html>")


def widget_tag(lang: str, title: str) -> str:
    """The one tag that embeds the chat widget, as a customer page would."""
    return f'<script src="/widget.js" data-lang="{escape(lang)}" data-title="{escape(title)}"></script>'


PAGE_SCRIPT = '<script src="/static/pages.js"></script>'


def passage_path(passage_id: str) -> str:
    """This service's page for a passage."""
    return "/passages/" + quote(passage_id, safe="")


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}" rel="noopener noreferrer">{escape(text)}</a>'


def _search_href(query: str | None = None, topic: str | None = None) -> str:
    params = {k: v for k, v in {"q": query, "topic": topic}.items() if v is not None}
    return "/search" + (f"?{urlencode(params, quote_via=quote)}" if params else "")


def _ask_button(question: str, label: str) -> str:
    """A button the page helper wires to `FAQWidget.open`; a plain link to the landing page without scripts."""
    return (f'<a class="ask" href="/?{urlencode({"ask": question}, quote_via=quote)}" '
            f'data-faq-ask="{escape(question)}">{escape(label)}</a>')


def passage_page(view: PassageView) -> str:
    """Title, 父主题 breadcrumb, the answer, its links, related entries, and ways to search and ask on."""
    p = view.passage
    topic_label = p.topic or NO_TOPIC
    topic_href = _search_href(query=p.topic, topic=p.topic) if p.topic else _search_href()
    crumbs = ('<nav class="crumbs" aria-label="位置 · Breadcrumb"><ol>'
              f'<li>{_link("/", "首页 · Home")}</li>'
              f'<li>{_link(_search_href(), "知识库 · Knowledge base")}</li>'
              f'<li>{_link(topic_href, topic_label)}</li>'
              f'<li aria-current="page">{escape(p.title)}</li></ol></nav>')
    link_heading = "接口文档 · API reference" if p.kind == "scenario" else "链接 · Links"
    links = "".join(f"<li>{_link(link, link)}</li>" for link in view.links)
    related = "".join(
        f'<li>{_link(passage_path(r.id), r.title)} <span class="meta">· {escape(r.topic or NO_TOPIC)}</span></li>'
        for r in view.related)
    source = (_link(view.source, "在帮助中心查看原文 · Open the original help-center page")
              if view.source_is_web else escape(view.source))
    body = (
        f"<header>{crumbs}</header><main>"
        f"<h1>{escape(p.title)}</h1>"
        f'<p class="meta">父主题: {escape(topic_label)}</p>'
        f'<div class="answer">{escape(p.answer)}</div>'
        + ('<p class="meta">（原文在此处不完整 · the source text is cut off here）</p>' if p.truncated else "")
        + (f"<h2>{link_heading}</h2><ul>{links}</ul>" if links else "")
        + f'<p class="meta">来源 · Source: {source}</p>'
        + (f"<h2>相关条目 · Related entries</h2><ul>{related}</ul>" if related else "")
        + '<div class="actions">'
        + _link(_search_href(query=p.title), "搜索相关内容 · Search for more")
        + _ask_button(p.title, "问在线助手 · Ask the assistant")
        + "</div></main>"
    )
    return document(p.title, body, p.lang, (widget_tag(p.lang, "在线帮助" if p.lang == "zh" else "Help"), PAGE_SCRIPT))


def not_found_page() -> str:
    """The page for an unknown passage id (no scripts)."""
    body = ("<main><h1>未找到该条目 · Passage not found</h1>"
            f'<p>{_link(_search_href(), "去知识库搜索 · Search the knowledge base")}</p></main>')
    return document("未找到 · Not found", body)


def landing_page(snippet: str, examples: list[str]) -> str:
    """What the product is, a search box, example questions that open the live widget, and how to embed it."""
    example_items = "".join(f"<li>{_ask_button(q, q)}</li>" for q in examples)
    body = (
        '<main><section class="hero">'
        "<h1>FAQ 助手 · FAQ assistant</h1>"
        "<p>帮助中心的问答机器人：用中文或英文提问，得到知识库里的答案和出处；没有答案时如实告知，并给出相关主题。"
        "<br>A help-center chatbot: ask in Chinese or English and get the knowledge base's answer with its source,"
        " or an honest “no answer” with related topics.</p>"
        "<p>右下角的按钮就是可嵌入任何网页的聊天小部件，现在就可以试试。"
        "<br>The button in the corner is the chat widget any page can embed: try it now.</p></section>"
        '<section aria-labelledby="search-heading"><h2 id="search-heading">搜索知识库 · Search the knowledge base</h2>'
        '<form class="search" role="search" action="/search" method="get">'
        '<label for="landing-q" class="meta">关键词 · Keywords</label>'
        '<input id="landing-q" name="q" type="search" placeholder="PSM、机会点、发票…" maxlength="500">'
        '<button type="submit">搜索 · Search</button></form></section>'
        + (f'<section aria-labelledby="examples-heading"><h2 id="examples-heading">试试这些问题 · Try these questions'
           f'</h2><ul class="examples">{example_items}</ul></section>' if example_items else "")
        + "<h2>嵌入聊天小部件 · Embed the chat widget</h2>"
        "<p>把下面这一行放进网页（站点的来源需列在 <code>FAQ_CORS_ORIGINS</code> 中）："
        "<br>Add this tag to a page (its origin must be listed in <code>FAQ_CORS_ORIGINS</code>):</p>"
        f"<pre><code>{escape(snippet)}</code></pre>"
        "<p>在页面脚本中 · From page scripts: <code>FAQWidget.open({question: \"…\", context: \"…\"})</code></p>"
        '<h2>更多 · More</h2><ul><li><a href="/search">知识库搜索 (staff search)</a></li>'
        '<li><a href="/docs">API 文档 (OpenAPI)</a></li></ul></main>'
    )
    return document("FAQ 助手 · FAQ assistant", body, "zh", (widget_tag("zh", "在线帮助"), PAGE_SCRIPT))
