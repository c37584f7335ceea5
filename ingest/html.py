"""Parser for help-center HTML pages (beautifulsoup4 on the stdlib `html.parser` backend).

Site chrome (scripts, navigation, headers, footers, forms, cookie/login banners) is dropped, the
page title comes from its h1 (else `<title>` without the site name), the topic from its 父主题 link
or breadcrumb, and a long page is split at its headings like a Markdown page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import PreformattedString
from bs4.exceptions import ParserRejectedMarkup

from ingest.errors import ParseError
from ingest.normalize import clean_display, is_chrome
from ingest.passage import Passage
from ingest.sections import Section, page_passages

# Elements whose text is never page text.
CODE_TAGS = ("script", "style", "noscript", "template")
# Elements that hold site chrome, not content (never the content element or one around it).
CHROME_TAGS = (
    "nav", "footer", "aside", "form", "iframe", "svg", "canvas", "button", "select", "textarea",
    "object", "embed", "dialog",
)
# An element whose id or class contains one of these is a banner, not content.
CHROME_MARKERS = ("cookie", "consent", "banner", "login-tip")
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "dialog", "alertdialog"})
BREADCRUMB_MARKERS = ("breadcrumb", "crumbs", "面包屑")
PARENT_LINK_MARKERS = ("parentlink", "familylinks")
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "main", "article", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead",
        "tbody", "tfoot", "tr", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure",
        "figcaption", "hr", "address", "details", "summary", "center",
    }
)
HEADING_LEVELS = {f"h{level}": level for level in range(1, 7)}
# More '<' than this is not a help-center page (and html.parser would take minutes on it).
MAX_TAGS = 50_000
# How far up from a 父主题 label to look for the element that also holds the topic.
PARENT_SEARCH_DEPTH = 3
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:", "mailto:", "tel:", "file:")

PARENT_MARK_RE = re.compile("父主题")
PARENT_TOPIC_RE = re.compile(r"父主题\s*[:：]\s*(\S[^\n]*)")
PARENT_LINE_RE = re.compile(r"\s*父主题\s*[:：].*$")
# Separators between a page title and the site name in <title>: "页面 - 华为云", "页面_伙伴中心_华为云".
TITLE_SEPARATOR_RE = re.compile(r"\s+[-|–—·]\s+|_|\s*\|\s*")
CRUMB_SEPARATOR_RE = re.compile(r"[>›»/]")
_SPACE_RE = re.compile(r"\s+")
_LOOSE_AMPERSAND_RE = re.compile(r"&(?!#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,8};|[a-zA-Z][a-zA-Z0-9]{0,31};)")
_CELL_EDGE_RE = re.compile(r"^[\s|]+|[\s|]+$")


def parse_html(path: Path, text: str, root: Path | None = None) -> list[Passage]:
    """Parse a help-center page into passages; raises `ParseError` when it has no text content."""
    if (markup := text.count("<")) > MAX_TAGS:
        raise ParseError(f"too much markup for one page ({markup} tags, limit {MAX_TAGS})")
    try:
        soup = BeautifulSoup(defuse_markup(text), "html.parser")
    except ParserRejectedMarkup as err:
        raise ParseError(f"unparsable HTML ({err})") from None
    tags = [node for node in soup.descendants if isinstance(node, Tag)]
    source = _canonical_url(tags)
    base = _attr(tags, "base", "href", lambda _: True) or source
    head_title = _title_from_head(tags)
    _drop(tags, set(), lambda tag: tag.name in CODE_TAGS)
    content = _content_root(tags, soup)
    # The content element and the ones around it (an ASP.NET page wraps the body in a <form>).
    keep = {id(content), *(id(parent) for parent in content.parents)}
    parent_topic = _parent_topic(tags, soup if "父主题" in text else None, keep)
    trail = _breadcrumb_trail(tags)
    _drop(tags, keep, lambda tag: tag.name in CHROME_TAGS or _is_chrome_element(tag))
    if content.name in ("[document]", "html", "body"):  # no content element: headers are the site's
        _drop(tags, keep, lambda tag: tag.name == "header")
    title_element = next((n for n in content.descendants if isinstance(n, Tag) and n.name == "h1"), None)
    title = _heading_parts(title_element)[0] if title_element is not None else ""
    title = title or head_title or path.stem
    _drop(tags, keep, lambda tag: tag.name == "header")
    topic = parent_topic or _trail_topic(trail, title)
    sections = _sections(content, title_element, base)
    return page_passages(title, sections, topic=topic, source=source or str(path), lang=None)


def defuse_markup(text: str) -> str:
    """Escape each '<' or '&' that cannot start a complete tag, comment or character reference.

    Python's html.parser (before CPython 3.13.4) rescans to the end of the page for every
    unterminated construct, which is quadratic on broken input. A '<' whose next '>' comes after
    another '<' (or never), an unclosed '<!--', a '<![' section and a bare '&' become text instead.
    """
    text = _LOOSE_AMPERSAND_RE.sub("&amp;", text)
    parts: list[str] = []
    copied = 0
    next_gt, comment_end = text.find(">"), text.find("-->")
    position = text.find("<")
    while position != -1:
        following = text.find("<", position + 1)
        if text.startswith("<!--", position):
            if comment_end != -1 and comment_end < position + 4:
                comment_end = text.find("-->", position + 4)
            if comment_end != -1:  # a closed comment: keep it whole
                position = text.find("<", comment_end + 3)
                continue
            escape = True
        else:
            if next_gt != -1 and next_gt < position:
                next_gt = text.find(">", position)
            escape = text.startswith("<![", position) or next_gt == -1 or -1 < following < next_gt
        if escape:
            parts.append(text[copied:position])
            parts.append("&lt;")
            copied = position + 1
        position = following
    parts.append(text[copied:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Close:
    """Marker on the walk stack: the end of a block (a line break) or of a table cell."""

    text: str


_BLOCK_END, _CELL_END = _Close("\n"), _Close(" | ")


@dataclass(slots=True)
class _Draft:
    """A section being collected during the walk: raw text pieces and links."""

    heading: str
    parts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def section(self) -> Section:
        """The finished section: lines cleaned, chrome and 父主题 lines dropped, cell pipes trimmed."""
        lines = "".join(self.parts).split("\n")
        kept = (_CELL_EDGE_RE.sub("", PARENT_LINE_RE.sub("", line)) for line in lines)
        text = clean_display("\n".join(line for line in kept if not is_chrome(line)))
        return Section(self.heading, text, list(dict.fromkeys(self.links)))


def _sections(content: Tag, title_element: Tag | None, base: str) -> list[Section]:
    """Walk the content (iteratively, so deep nesting is safe) into sections cut at its top headings."""
    levels = {
        HEADING_LEVELS[node.name]
        for node in content.descendants
        if isinstance(node, Tag) and node.name in HEADING_LEVELS and node is not title_element
    }
    split_levels = set(sorted(levels)[:2])
    drafts = [_Draft("")]
    stack: list[PageElement | _Close] = list(reversed(content.contents))
    while stack:
        node = stack.pop()
        if isinstance(node, _Close):
            drafts[-1].parts.append(node.text)
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA, …
                drafts[-1].parts.append(_SPACE_RE.sub(" ", node))
        elif not isinstance(node, Tag):
            continue
        elif node is title_element:
            stack.extend(reversed(_heading_parts(node)[1]))
        elif HEADING_LEVELS.get(node.name) in split_levels:
            heading, rest = _heading_parts(node)
            drafts.append(_Draft(heading))
            stack.extend(reversed(rest))
        elif node.name == "br":
            drafts[-1].parts.append("\n")
        elif node.name == "pre":
            drafts[-1].parts.append(f"\n{node.get_text()}\n")
        else:
            if node.name == "a" and (link := _absolute_link(node.get("href"), base)):
                drafts[-1].links.append(link)
            if node.name in ("td", "th"):
                stack.append(_CELL_END)
            elif node.name in BLOCK_TAGS:
                drafts[-1].parts.append("\n")
                stack.append(_BLOCK_END)
            stack.extend(reversed(node.contents))
    return [draft.section() for draft in drafts]


def _heading_parts(heading: Tag) -> tuple[str, list[PageElement]]:
    """A heading's own text, and the blocks an unclosed heading swallowed (`<h1>Title<p>body…`)."""
    children = list(heading.contents)
    first_block = next(
        (index for index, child in enumerate(children) if isinstance(child, Tag) and child.name in BLOCK_TAGS),
        len(children),
    )
    inline = (child for child in children[:first_block] if not isinstance(child, PreformattedString))
    own = "".join(child.get_text(" ") if isinstance(child, Tag) else str(child) for child in inline)
    return " ".join(own.split()), children[first_block:]


def _content_root(tags: list[Tag], soup: BeautifulSoup) -> Tag:
    """The main content element: the first <main>, role=main or <article> with text, else <body>."""
    for is_candidate in (
        lambda tag: tag.name == "main",
        lambda tag: str(tag.get("role", "")).lower() == "main",
        lambda tag: tag.name == "article",
    ):
        candidate = next((tag for tag in tags if not _gone(tag) and is_candidate(tag)), None)
        if candidate is not None and candidate.get_text(strip=True):
            return candidate
    return soup.body if isinstance(soup.body, Tag) else soup


def _parent_topic(tags: list[Tag], soup: BeautifulSoup | None, keep: set[int]) -> str:
    """The topic named by a `.parentlink` block or a 父主题 line; a small 父主题 block is removed.

    `soup` is given only when the page mentions 父主题 at all (the text search is a full pass);
    tags in `keep` (the content element and its ancestors) are never removed.
    """
    marked = next((tag for tag in tags if not _gone(tag) and _marked(tag, PARENT_LINK_MARKERS)), None)
    if marked is not None:
        match = PARENT_TOPIC_RE.search(marked.get_text("\n", strip=True))
        if topic := clean_display(match.group(1) if match else _text(marked)):
            return topic
    mark = soup.find(string=PARENT_MARK_RE) if soup is not None else None
    container = mark.parent if mark is not None else None
    for _ in range(PARENT_SEARCH_DEPTH):  # "<strong>父主题：</strong><a>X</a>": the label's parent has both
        if not isinstance(container, Tag):
            break
        if match := PARENT_TOPIC_RE.search(container.get_text("\n", strip=True)):
            topic = clean_display(match.group(1))
            if id(container) not in keep and len(_text(container)) <= len(topic) + 20:
                container.decompose()
            return topic
        container = container.parent
    return ""


def _breadcrumb_trail(tags: list[Tag]) -> list[str]:
    """Names in the first breadcrumb, without a trailing current-page item (unlinked or aria-current)."""
    crumb = next((tag for tag in tags if not _gone(tag) and _marked(tag, BREADCRUMB_MARKERS, aria=True)), None)
    if crumb is None:
        return []
    items = crumb.find_all("li") or crumb.find_all("a")
    if items:
        last = items[-1]
        is_current = bool(last.get("aria-current")) or (last.name != "a" and last.find("a") is None)
        names = [_text(item) for item in (items[:-1] if is_current else items)]
    else:
        names = [part.strip() for part in CRUMB_SEPARATOR_RE.split(_text(crumb))]
    return [name for name in names if name]


def _trail_topic(trail: list[str], title: str) -> str:
    """The last breadcrumb item before the page itself."""
    if trail and _SPACE_RE.sub("", trail[-1]) == _SPACE_RE.sub("", title):
        trail = trail[:-1]
    return clean_display(trail[-1]) if trail else ""


def _is_chrome_element(tag: Tag) -> bool:
    """Banners, breadcrumbs, 父主题 blocks, navigation roles and hidden elements."""
    if tag.attrs is None:
        return False
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    if "display:none" in str(tag.get("style", "")).replace(" ", "").lower():
        return True
    if str(tag.get("role", "")).lower() in CHROME_ROLES:
        return True
    return _marked(tag, CHROME_MARKERS + BREADCRUMB_MARKERS + PARENT_LINK_MARKERS, aria=True)


def _marked(tag: Tag, markers: tuple[str, ...], *, aria: bool = False) -> bool:
    """True when the tag's id or class (or, with `aria`, its aria-label) contains one of the markers."""
    if tag.attrs is None:
        return False
    classes = tag.get("class") or []
    names = [*(classes if isinstance(classes, list) else [classes]), str(tag.get("id", ""))]
    if aria:
        names.append(str(tag.get("aria-label", "")))
    joined = " ".join(names).lower()
    return any(marker in joined for marker in markers)


def _title_from_head(tags: list[Tag]) -> str:
    """<title> (else og:title) without the site name after ' - ' or '_'."""
    title = next((_text(tag) for tag in tags if tag.name == "title"), "")
    og_title = _attr(tags, "meta", "content", lambda tag: tag.get("property") == "og:title")
    for candidate in (title, og_title):
        if first := next((part.strip() for part in TITLE_SEPARATOR_RE.split(candidate) if part.strip()), ""):
            return first
    return ""


def _canonical_url(tags: list[Tag]) -> str:
    """The page's own URL: <link rel=canonical>, else og:url; '' when neither is an http(s) URL."""
    canonical = _attr(tags, "link", "href", lambda tag: "canonical" in (tag.get("rel") or []))
    og_url = _attr(tags, "meta", "content", lambda tag: tag.get("property") == "og:url")
    return _absolute_link(canonical, "") or _absolute_link(og_url, "")


def _attr(tags: list[Tag], name: str, attr: str, is_wanted: Callable[[Tag], bool]) -> str:
    """An attribute of the first `name` tag that has it and is wanted ('' when none)."""
    for tag in tags:
        if tag.name == name and isinstance(value := tag.get(attr), str) and is_wanted(tag):
            return value
    return ""


def _absolute_link(href: object, base: str) -> str:
    """An http(s) URL for an href (a relative one resolved against `base`), else ''."""
    if not isinstance(href, str):
        return ""
    href = _SPACE_RE.sub("", href)
    if not href or href.startswith("#") or href.lower().startswith(UNSAFE_SCHEMES):
        return ""
    if not href.lower().startswith(("http://", "https://")):
        if not base:
            return ""
        try:
            href = urljoin(base, href)
        except ValueError:
            return ""
    return href if href.lower().startswith(("http://", "https://")) and len(href) > len("https://") else ""


def _drop(tags: list[Tag], keep: set[int], is_unwanted: Callable[[Tag], bool]) -> None:
    """Remove the unwanted tags from the tree, except those in `keep` (by id) and ones already gone."""
    for tag in tags:
        if not _gone(tag) and id(tag) not in keep and is_unwanted(tag):
            tag.decompose()


def _gone(tag: Tag) -> bool:
    """True once the tag was removed with `decompose` (directly or with an ancestor).

    Not `Tag.decomposed`: on a live tag that property falls through to `Tag.__getattr__`, which
    searches the whole subtree, making a pass over nested tags quadratic.
    """
    return "_decomposed" in vars(tag)


def _text(element: Tag) -> str:
    """An element's text on one line, whitespace folded."""
    return " ".join(element.get_text(" ", strip=True).split())
