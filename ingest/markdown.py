"""Parser for Markdown pages in a folder tree: each page becomes one or more guide passages.

Also home of the pieces the HTML parser shares: a page is a title plus `Section`s
(heading, text, links), and `page_passages` keeps short pages whole and splits long ones at
their headings; `markdown_to_text` (also used for JSONL answers) turns markup into readable text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import ParseError
from ingest.normalize import clean_display, is_chrome
from ingest.passage import Passage, PassageKind

# A page up to this many characters stays one passage; a longer one is split at its headings.
LONG_PAGE_CHARS = 1000
# A section with less text than this merges into the one before it.
MIN_SECTION_CHARS = 80
# A section longer than this is cut at line boundaries into numbered parts.
MAX_PASSAGE_CHARS = 2000

QUESTION_START_RE = re.compile(r"^(如何|怎么|为什么|是否|(what|how|why|can)\b)", re.IGNORECASE)
URL_RE = re.compile(r"https?://[^\s<>\"'`\[\](){}|，。；、）》】]+")
_URL_TRAILING = ".,;:!?*_~"

# YAML (---) or TOML (+++) front matter: a delimited block at the very top whose first line is a key.
_FRONT_MATTER_RE = re.compile(
    r"\A(---|\+\+\+)[ \t]*\n[ \t]*[\w-]+[ \t]*[:=][^\n]*\n(?:.*?\n)?\1[ \t]*(?:\n|\Z)", re.DOTALL
)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_SETEXT_RE = re.compile(r"^ {0,3}(={2,}|-{2,})[ \t]*$")
_NOT_PARAGRAPH_RE = re.compile(r"^\s*([-*+>|#]|\d+[.)]\s|`{3}|~{3}|<)")
_REF_DEF_RE = re.compile(r"^ {0,3}\[([^\[\]\n]+)\]:[ \t]*<?([^\s<>]+)>?.*$", re.MULTILINE)
# Lines with no text of their own: link reference definitions, table separators, rules.
_DROP_LINE_RE = re.compile(
    r"^(?: {0,3}\[[^\[\]\n]+\]:.*"
    r"|[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*"
    r"| {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}))$",
    re.MULTILINE,
)
# Quote markers, including Tencent's `>!` (warning) and `>?` (note) callouts.
_QUOTE_RE = re.compile(r"^[ \t]*(?:>[ \t]*)+[!?]?", re.MULTILINE)
_BULLET_RE = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_INLINE_LINK_RE = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"  # ![alt] or [text], one level of nested brackets
    r"\(\s*<?((?:[^()<>\n]|\([^()<>\n]*\))*?)>?"  # (destination, one level of nested parentheses
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"  # optional "title")
)
_REF_LINK_RE = re.compile(r"\[([^\[\]\n]+)\]\[([^\[\]\n]*)\]")
_AUTOLINK_RE = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>", re.IGNORECASE)
_CODE_SPAN_RE = re.compile(r"(`+)([^`\n]+)\1")
# (marker, pattern, replacement) for bold, italic and strike-through, strongest first; `_` never
# inside a word. Unpaired `**` left by broken markup is dropped before italics are matched.
_EMPHASIS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("**", re.compile(r"\*\*([^*\n]+?)\*\*"), r"\1"),
    ("__", re.compile(r"(?<!\w)__(?=\S)([^_\n]+?)(?<=\S)__(?!\w)"), r"\1"),
    ("**", re.compile(r"\*{2,}"), ""),
    ("*", re.compile(r"(?<!\*)\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?!\*)"), r"\1"),
    ("_", re.compile(r"(?<!\w)_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?!\w)"), r"\1"),
    ("~~", re.compile(r"~~(?=\S)([^~\n]+?)(?<=\S)~~"), r"\1"),
)
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
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
_MARKUP_CHARS = frozenset("[]*_`<>|#~\\&")
_LANG_SUFFIX_RE = re.compile(r"^(.+?)(?:_intl_([a-z]{2})|_(en|zh))$", re.IGNORECASE)


@dataclass(slots=True)
class Section:
    """A run of page text under one heading ("" for text before the first heading)."""

    heading: str
    text: str
    links: list[str] = field(default_factory=list)

    def rendered(self) -> str:
        """The section as it reads on the page: heading line, then text."""
        return "\n".join(part for part in (self.heading, self.text) if part)


def parse_markdown(path: Path, text: str, root: Path | None = None) -> list[Passage]:
    """Parse a Markdown page: title from its first heading, topic from its folders, long pages split."""
    stem, lang = split_lang_suffix(path.stem)
    raw = _split_headings(_FRONT_MATTER_RE.sub("", text, count=1).splitlines())
    title_at = _title_index(raw)
    title = _heading_text(raw[title_at].heading) if title_at is not None else ""
    if title_at is not None:
        raw[title_at].level, raw[title_at].heading = 0, ""
    sections = _fold_minor_headings(raw)
    converted: list[Section] = []
    for section in sections:
        body, links = markdown_to_text("\n".join(section.lines))
        converted.append(Section(_heading_text(section.heading), body, links))
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


def is_question(title: str) -> bool:
    """True when a title reads as a question (ends with ?/？ or opens with 如何/怎么/为什么/是否/what/how…)."""
    title = title.strip()
    return title.endswith(("?", "？")) or bool(QUESTION_START_RE.match(title))


def markdown_to_text(markdown: str) -> tuple[str, list[str]]:
    """Readable text of Markdown (with inline HTML), plus the http(s) link targets it names.

    Code fences keep their content verbatim; images keep their alt text only (their URLs are
    not links); emphasis, quotes, table pipes and tags are dropped; site chrome lines are removed.
    """
    links: list[str] = []
    if _MARKUP_CHARS.isdisjoint(markdown) and "://" not in markdown and "--" not in markdown:
        lines = markdown.split("\n")  # plain text: nothing to convert
    else:
        refs = {m.group(1).lower(): m.group(2) for m in _REF_DEF_RE.finditer(markdown)} if "]:" in markdown else {}
        blocks = [block if code else _prose_to_text(block, refs, links) for code, block in _fenced(markdown)]
        lines = "\n".join(blocks).split("\n")
    text = clean_display("\n".join(line for line in lines if not is_chrome(line)))
    return text, _unique(links)


def page_passages(
    title: str, sections: list[Section], *, topic: str, source: str, lang: str | None
) -> list[Passage]:
    """Passages of one page: a short page whole, a long one per heading (short sections merged).

    Raises `ParseError` when the page has no text besides its headings.
    """
    title = clean_display(title).replace("\n", " ")
    if not any(section.text for section in sections):
        raise ParseError("no text content" + (" (only headings)" if any(s.heading for s in sections) else ""))
    total = sum(len(section.rendered()) for section in sections)
    if total <= LONG_PAGE_CHARS:
        text = "\n".join(rendered for s in sections if (rendered := s.rendered()))
        sections = [Section("", text, [link for s in sections for link in s.links])]
    else:
        sections = _merge_short(sections)
    passages = []
    for section in sections:
        base = f"{title} - {section.heading}" if section.heading and section.heading != title else title
        kind: PassageKind = "faq" if is_question(section.heading or title) else "guide"
        parts = _chunk(section.text)
        for number, part in enumerate(parts, start=1):
            passages.append(
                Passage.create(
                    title=f"{base} ({number}/{len(parts)})" if len(parts) > 1 else base,
                    answer=part,
                    topic=topic,
                    source=source,
                    kind=kind,
                    links=_unique(section.links),
                    lang=lang,
                )
            )
    return passages


@dataclass(slots=True)
class _RawSection:
    level: int
    heading: str
    lines: list[str] = field(default_factory=list)


def _split_headings(lines: list[str]) -> list[_RawSection]:
    """Cut Markdown lines at ATX (`## x`) and setext (`x` / `===`) headings, ignoring code fences."""
    sections = [_RawSection(0, "")]
    fence = ""
    for line in lines:
        current = sections[-1]
        if fence:
            if line.strip().startswith(fence):
                fence = ""
            current.lines.append(line)
            continue
        if fence_match := _FENCE_RE.match(line):
            fence = fence_match.group(1)
            current.lines.append(line)
        elif atx := _ATX_RE.match(line):
            sections.append(_RawSection(len(atx.group(1)), atx.group(2)))
        elif (setext := _SETEXT_RE.match(line)) and _is_paragraph_end(current.lines):
            heading = current.lines.pop()
            sections.append(_RawSection(1 if setext.group(1)[0] == "=" else 2, heading.strip()))
        else:
            current.lines.append(line)
    return sections


def _is_paragraph_end(lines: list[str]) -> bool:
    """True when the last line is plain paragraph text, so a following ===/--- underlines it."""
    return bool(lines) and bool(lines[-1].strip()) and not _NOT_PARAGRAPH_RE.match(lines[-1])


def _title_index(sections: list[_RawSection]) -> int | None:
    """The page title: the first level-1 heading, else an opening heading that no other outranks.

    A page opening with `### 1. Step one` followed by `### 2. Step two` has no title heading.
    """
    for index, section in enumerate(sections):
        if section.level == 1 and _heading_text(section.heading):
            return index
    if len(sections) < 2 or any(line.strip() for line in sections[0].lines):
        return None
    level = sections[1].level
    unique = all(section.level > level for section in sections[2:])
    return 1 if unique and _heading_text(sections[1].heading) else None


def _fold_minor_headings(sections: list[_RawSection]) -> list[_RawSection]:
    """Keep the two highest heading levels as section breaks; deeper headings become text lines."""
    levels = sorted({section.level for section in sections if section.level})[:2]
    kept: list[_RawSection] = []
    for section in sections:
        if kept and section.level not in levels:
            kept[-1].lines.extend([section.heading, *section.lines])
        else:
            kept.append(section)
    return kept


def _fenced(markdown: str) -> list[tuple[bool, str]]:
    """Split Markdown into (is_code, text) blocks; fence lines themselves are dropped."""
    if "```" not in markdown and "~~~" not in markdown:
        return [(False, markdown)]
    blocks: list[tuple[bool, str]] = []
    current: list[str] = []
    fence = ""
    for line in markdown.splitlines():
        closes = bool(fence) and line.strip().startswith(fence)
        opening = None if fence else _FENCE_RE.match(line)
        if closes or opening:
            blocks.append((bool(fence), "\n".join(current)))
            current = []
            fence = opening.group(1) if opening else ""
        else:
            current.append(line)
    blocks.append((bool(fence), "\n".join(current)))
    return blocks


def _heading_text(heading: str) -> str:
    """A heading's markup-free text on one line."""
    return " ".join(markdown_to_text(heading)[0].split())


def _prose_to_text(prose: str, refs: dict[str, str], links: list[str]) -> str:
    """Convert Markdown prose (no code fences) to plain text, collecting link targets."""
    if "<" in prose:
        prose = _strip_html(_strip_comments(prose), links)
    prose = _DROP_LINE_RE.sub("", prose)
    if "#" in prose:
        prose = _ATX_RE.sub(r"\2", prose)
    if ">" in prose:
        prose = _QUOTE_RE.sub("", prose)
    prose = _BULLET_RE.sub(r"\1- ", prose)
    prose = _inline(prose, refs, links)
    if "|" in prose:
        prose = "\n".join(_table_row(line) for line in prose.split("\n"))
    return prose


def _inline(text: str, refs: dict[str, str], links: list[str]) -> str:
    """Inline Markdown → text: links and images to their text, code spans and emphasis unwrapped."""

    def link(match: re.Match[str]) -> str:
        if match.group(1):  # image: its alt text only, never its URL
            return _alt_text(match.group(2))
        _add_link(match.group(3), links)
        return match.group(2)

    def ref_link(match: re.Match[str]) -> str:
        target = refs.get((match.group(2) or match.group(1)).lower())
        if target is None:
            return match.group(0)
        _add_link(target, links)
        return match.group(1)

    def autolink(match: re.Match[str]) -> str:
        _add_link(match.group(1), links)
        return match.group(1)

    if "[" in text:
        text = _INLINE_LINK_RE.sub(link, text)
        if refs:
            text = _REF_LINK_RE.sub(ref_link, text)
    if "<" in text:
        text = _AUTOLINK_RE.sub(autolink, text)
    if "://" in text:
        for url in URL_RE.findall(text):
            _add_link(url, links)
    if "`" in text:
        text = _CODE_SPAN_RE.sub(r"\2", text)
    for marker, pattern, replacement in _EMPHASIS:
        if marker in text:
            text = pattern.sub(replacement, text)
    if "\\" in text:
        text = _ESCAPE_RE.sub(r"\1", text)
    return html.unescape(text) if "&" in text else text


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
    """Inline HTML tags → text: block tags break lines, cells end with ' | ', hrefs become links."""

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


def _chunk(text: str) -> list[str]:
    """Cut text longer than `MAX_PASSAGE_CHARS` at line boundaries (hard-cutting overlong lines)."""
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > MAX_PASSAGE_CHARS:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:MAX_PASSAGE_CHARS])
            line = line[MAX_PASSAGE_CHARS:]
        if current and len(current) + 1 + len(line) > MAX_PASSAGE_CHARS:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return [part for part in (p.strip() for p in parts) if part]


def _merge_short(sections: list[Section]) -> list[Section]:
    """Fold sections with little text into the previous one.

    A heading with no text of its own (or a short opening section) is carried into the next one.
    """
    merged: list[Section] = []
    pending: Section | None = None
    for section in sections:
        if pending is not None:
            section = Section(
                section.heading,
                "\n".join(p for p in (pending.rendered(), section.text) if p),
                [*pending.links, *section.links],
            )
            pending = None
        if len(section.text) >= MIN_SECTION_CHARS:
            merged.append(Section(section.heading, section.text, list(section.links)))
        elif merged and section.text:
            previous = merged[-1]
            previous.text = f"{previous.text}\n{section.rendered()}"
            previous.links.extend(section.links)
        else:
            pending = section
    if pending is not None:
        if merged:
            merged[-1].text = f"{merged[-1].text}\n{pending.rendered()}"
            merged[-1].links.extend(pending.links)
        else:
            merged.append(pending)
    return merged


def _unique(items: list[str]) -> list[str]:
    """Items in first-seen order, without repeats."""
    return list(dict.fromkeys(items))
