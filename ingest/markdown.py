"""Parser for Markdown pages in a folder tree: each page becomes one or more guide passages.

markdown-it-py (CommonMark, with tables, strike-through and inline HTML) reads the page; this
module turns its tokens into sections cut at the two highest heading levels, and the sections into
readable text with the http(s) links they name. `markdown_to_text` (also used for JSONL answers)
does the same for a piece of Markdown.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.normalize import clean_display, is_chrome
from ingest.passage import Passage
from ingest.sections import Section, page_passages, unique

URL_RE = re.compile(r"https?://[^\s<>\"'`\[\](){}|，。；、）》】]+")
_URL_TRAILING = ".,;:!?*_~"

# YAML (---) or TOML (+++) front matter: a delimited block at the very top whose first line is a key.
_FRONT_MATTER_RE = re.compile(
    r"\A(---|\+\+\+)[ \t]*\n[ \t]*[\w-]+[ \t]*[:=][^\n]*\n(?:.*?\n)?\1[ \t]*(?:\n|\Z)", re.DOTALL
)
# Broken markup markdown-it keeps as text: unpaired `**`, and links or images whose target has spaces.
_STRAY_STARS_RE = re.compile(r"\*{2,}")
_BROKEN_LINK_RE = re.compile(r"(!?)\[([^\[\]\n]*)\]\(([^()\n]*)\)")
# A table's separator row (`|---|:--:|`), left in a pipe table markdown-it did not take for one.
_TABLE_RULE_RE = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
# Tencent's `>!` (warning) and `>?` (note) callouts: the mark opens each line of the quote.
_CALLOUT_RE = re.compile(r"^[!?]", re.MULTILINE)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w:-]*)((?:\s[^<>]*)?)/?>")
_HREF_RE = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_ALT_RE = re.compile(r"""alt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "tr", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "caption",
        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section", "article", "hr", "details",
        "summary", "figure", "figcaption", "dx-alert", "dx-tabs",
    }
)
# Alt texts that say nothing about an image (single-word Latin alt texts are dropped too).
GENERIC_ALT_TEXT = frozenset({"图片", "图", "截图", "示意图"})
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Text with none of these characters (nor '://' or '--') has no Markdown or HTML to convert.
_MARKUP_CHARS = frozenset("[]*_`<>|#~\\&=")
_LANG_SUFFIX_RE = re.compile(r"^(.+?)(?:_intl_([a-z]{2})|_(en|zh))$", re.IGNORECASE)


class _TextMarkdown(MarkdownIt):
    """CommonMark + tables + strike-through + inline HTML, without indented code; link targets as written.

    Help-center pages indent prose (steps under a step), never code: code is fenced. Nothing is
    rendered as HTML, so no link needs the HTML renderer's guard against `javascript:`; only
    absolute http(s) targets are collected as links.
    """

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": True})
        self.enable(["table", "strikethrough"]).disable("code")

    def validateLink(self, url: str) -> bool:
        """Every target is a link; `_add_link` decides which are kept."""
        return True

    def normalizeLink(self, url: str) -> str:
        """The target as written (no percent-encoding of CJK paths)."""
        return url


_MARKDOWN = _TextMarkdown()
# For what is left of an HTML block once its tags are gone: any '<' left is text, not another block.
_MARKDOWN_WITHOUT_HTML = _TextMarkdown().disable("html_block").disable("html_inline")


def parse_markdown(path: Path, text: str, root: Path | None = None) -> list[Passage]:
    """Parse a Markdown page: title from its first heading, topic from its folders, long pages split."""
    stem, lang = split_lang_suffix(path.stem)
    raw = _split_headings(_MARKDOWN.parse(_FRONT_MATTER_RE.sub("", text, count=1)))
    title_at = _title_index(raw)
    title = ""
    if title_at is not None:
        title = raw[title_at].heading
        raw[title_at] = _RawSection(0, "", [], raw[title_at].body)
    converted: list[Section] = []
    for section in _fold_minor_headings(raw):
        links: list[str] = []
        converted.append(Section(section.heading, _clean(_blocks_text(section.body, links)), unique(links)))
    return page_passages(
        title or clean_display(stem) or path.name,
        converted,
        topic=topic_from_folders(path, root),
        source=str(path),
        lang=lang,
    )


def split_lang_suffix(stem: str) -> tuple[str, str | None]:
    """'账单_intl_zh' → ('账单', 'zh'); a stem without a language suffix gives (stem, None)."""
    match = _LANG_SUFFIX_RE.match(stem)
    if not match:
        return stem, None
    lang = (match.group(2) or match.group(3)).lower()
    return match.group(1), lang if lang in ("en", "zh") else None


def topic_from_folders(path: Path, root: Path | None) -> str:
    """Folders between `root` and the file, joined with ' > '; the parent folder's name without a root."""
    if root is None:
        return path.parent.name
    try:
        relative = path.parent.resolve().relative_to(root.resolve())
    except ValueError:
        return path.parent.name
    return " > ".join(relative.parts)


def markdown_to_text(markdown: str) -> tuple[str, list[str]]:
    """Readable text of Markdown (with inline HTML), plus the http(s) link targets it names.

    Code keeps its content verbatim; images keep their alt text only (their URLs are not links);
    emphasis, quote marks, table pipes and tags are dropped; site chrome lines are removed.
    """
    links: list[str] = []
    if _MARKUP_CHARS.isdisjoint(markdown) and "://" not in markdown and "--" not in markdown:
        text = markdown  # plain text: nothing to convert
    else:
        text = _blocks_text(_MARKDOWN.parse(markdown), links)
    return _clean(text), unique(links)


@dataclass(slots=True)
class _RawSection:
    """A heading (its level and text; level 0 for text before the first heading) and the blocks under it."""

    level: int
    heading: str
    heading_tokens: list[Token] = field(default_factory=list)  # heading_open, inline, heading_close
    body: list[Token] = field(default_factory=list)


def _split_headings(tokens: list[Token]) -> list[_RawSection]:
    """Cut a page's block tokens at its top-level headings (ATX and setext; not those in quotes or lists)."""
    sections = [_RawSection(0, "")]
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.type == "heading_open" and token.level == 0:
            heading = tokens[position:position + 3]
            sections.append(_RawSection(int(token.tag[1]), _one_line(_inline_text(heading[1], [])), heading))
            position += 3
        else:
            sections[-1].body.append(token)
            position += 1
    return sections


def _title_index(sections: list[_RawSection]) -> int | None:
    """The page title: the first level-1 heading, else an opening heading that no other outranks.

    A page opening with `### 1. Step one` followed by `### 2. Step two` has no title heading.
    """
    for index, section in enumerate(sections):
        if section.level == 1 and section.heading:
            return index
    if len(sections) < 2 or sections[0].body:
        return None
    level = sections[1].level
    outranked = any(section.level <= level for section in sections[2:])
    return None if outranked or not sections[1].heading else 1


def _fold_minor_headings(sections: list[_RawSection]) -> list[_RawSection]:
    """Keep the two highest heading levels as section breaks; deeper headings become lines of text."""
    levels = sorted({section.level for section in sections if section.level})[:2]
    kept: list[_RawSection] = []
    for section in sections:
        if kept and section.level not in levels:
            kept[-1].body.extend([*section.heading_tokens, *section.body])
        else:
            kept.append(section)
    return kept


def _blocks_text(tokens: list[Token], links: list[str]) -> str:
    """Block tokens → text lines: list items keep their marker (bullets as '- '), table rows become
    'a | b', quote marks and callout marks go, code and HTML blocks are handled as such."""
    lines: list[str] = []
    marker = ""  # a list item's marker, waiting for the item's first line
    quotes = 0
    row: list[str] | None = None
    for token in tokens:
        kind = token.type
        if kind == "inline":
            text = _inline_text(token, links)
            if row is not None:
                row.append(text.strip())
                continue
            if quotes:
                text = _CALLOUT_RE.sub("", text)
            lines.append(marker + _table_rows(text))
            marker = ""
        elif kind in ("fence", "code_block", "html_block"):
            text = token.content.rstrip("\n") if kind != "html_block" else _html_block_text(token.content, links)
            lines.append(marker + text)
            marker = ""
        elif kind == "list_item_open":
            marker = f"{token.info}{token.markup} " if token.info else "- "
        elif kind == "list_item_close":
            marker = ""
        elif kind in ("blockquote_open", "blockquote_close"):
            quotes += token.nesting
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            line = " | ".join(cell for cell in row if cell)
            if not _TABLE_RULE_RE.match(line):  # a separator row taken for a data row (two tables, no blank line)
                lines.append(line)
            row = None
    return "\n".join(lines)


def _inline_text(inline: Token, links: list[str]) -> str:
    """An inline token's text: links and images to their text, code unwrapped, tags dropped; collects links."""
    parts: list[str] = []
    for child in inline.children or []:
        kind = child.type
        if kind == "text":
            parts.append(_text(child.content, links))
        elif kind == "code_inline":  # help-center pages escape HTML inside code spans too
            parts.append(html.unescape(child.content) if "&" in child.content else child.content)
            _add_bare_links(child.content, links)
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "link_open":
            _add_link(str(child.attrGet("href") or ""), links)
        elif kind == "image":  # its alt text only, never its URL
            alt = "".join(c.content for c in child.children or [] if c.type in ("text", "code_inline"))
            parts.append(_alt_text(alt))
        elif kind == "html_inline":
            parts.append("" if child.content.startswith("<!--") else _strip_html(child.content, links))
    return "".join(parts)


def _text(text: str, links: list[str]) -> str:
    """Plain text, with the broken markup markdown-it leaves as text dropped; collects the URLs it names."""
    if "](" in text:

        def link(match: re.Match[str]) -> str:
            if match.group(1):
                return _alt_text(match.group(2))
            _add_link(match.group(3), links)
            return match.group(2)

        text = _BROKEN_LINK_RE.sub(link, text)
    _add_bare_links(text, links)
    return _STRAY_STARS_RE.sub("", text) if "**" in text else text


def _add_bare_links(text: str, links: list[str]) -> None:
    """Collect the http(s) URLs written out in `text`."""
    if "://" in text:
        for url in URL_RE.findall(text):
            _add_link(url, links)


def _html_block_text(block: str, links: list[str]) -> str:
    """An HTML block → text: comments and tags dropped (block tags break lines, cells end with ' | '),
    then what is left read as Markdown without HTML (indentation is not code in HTML)."""
    text = _strip_html(_strip_comments(block), links)
    return _blocks_text(_MARKDOWN_WITHOUT_HTML.parse("\n".join(line.strip() for line in text.split("\n"))), links)


def _table_rows(text: str) -> str:
    """Lines of a pipe table markdown-it did not take for one: '|a|b|' → 'a | b', the separator row dropped."""
    if "|" not in text:
        return text
    return "\n".join(_table_row(line) for line in text.split("\n") if not _TABLE_RULE_RE.match(line))


def _table_row(line: str) -> str:
    """'|a|b|' → 'a | b'; a line that only ends a table cell loses its dangling pipe."""
    stripped = line.strip()
    if "|" not in stripped:
        return line
    cells = [cell.strip() for cell in stripped.strip("|").split("|")]
    return " | ".join(cell for cell in cells if cell) if stripped.startswith("|") else stripped.rstrip("| ")


def _strip_comments(text: str) -> str:
    """Drop closed `<!-- … -->` comments (linear scan; an unclosed one is left as text)."""
    parts, start = [], 0
    while (open_at := text.find("<!--", start)) != -1:
        close_at = text.find("-->", open_at + 4)
        if close_at == -1:
            break
        parts.append(text[start:open_at])
        start = close_at + 3
    parts.append(text[start:])
    return "".join(parts)


def _strip_html(text: str, links: list[str]) -> str:
    """HTML tags → text: block tags break lines, cells end with ' | ', hrefs become links, images their alt text."""

    def replace(match: re.Match[str]) -> str:
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        if name == "br" or name in _BLOCK_TAGS:
            return "\n"
        if name in ("td", "th"):
            return " | " if closing else ""
        if name == "a" and not closing and (href := _HREF_RE.search(attrs)):
            _add_link(next(g for g in href.groups() if g is not None), links)
        if name == "img" and (alt := _ALT_RE.search(attrs)):
            return f" {_alt_text(alt.group(1) or alt.group(2))} "
        return ""

    return _TAG_RE.sub(replace, text)


def _alt_text(alt: str) -> str:
    """An image's alt text when it describes something: not 'img', '图片' or a file-name-like token."""
    alt = alt.strip()
    if alt.lower() in GENERIC_ALT_TEXT or not (" " in alt or _CJK_RE.search(alt)):
        return ""
    return alt


def _add_link(url: str, links: list[str]) -> None:
    """Collect `url` when it is an absolute http(s) URL (trailing punctuation trimmed)."""
    url = html.unescape(url.strip()).rstrip(_URL_TRAILING)
    if url.lower().startswith(("http://", "https://")) and len(url) > len("https://") and " " not in url:
        links.append(url)


def _clean(text: str) -> str:
    """Display text without site chrome lines."""
    return clean_display("\n".join(line for line in text.split("\n") if not is_chrome(line)))


def _one_line(text: str) -> str:
    """Text on one line, whitespace folded."""
    return " ".join(text.split())
