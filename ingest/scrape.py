"""Parser for the help-center scrape dump: one page per line, site chrome mixed in.

Three shapes of line:
- FAQ: ``问题? 答案… 父主题: X``
- scenario page: ``标题 服务对象 … 场景描述 … 相关API列表 开放接口 接口定义链接 <API> <url> …``
- policy paragraph: plain text with no title (one is derived from its first clause).

Entries without a 父主题 get one from their kind or their nearest entry (`ingest.topics`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import ParseError
from ingest.normalize import clean_display, is_chrome
from ingest.passage import Passage
from ingest.topics import fill_missing_topics

PARENT_MARK = re.compile(r"\s*父主题\s*[:：]\s*")
URL_RE = re.compile(r"https?://[^\s<>\"'，。；、）)]+")
SCENARIO_SECTIONS = ("服务对象", "场景描述", "相关API列表")
# A question title ends at the first question mark, within the first 80 characters.
QUESTION_RE = re.compile(r"^(.{2,80}?[?？])\s*(.*)$", re.DOTALL)
# A derived title is the first clause of a paragraph.
CLAUSE_RE = re.compile(r"^(.{2,40}?)[:：,，。;；!！]")
TERMINAL_PUNCTUATION = tuple("。.!！?？」”\")）")


def parse_scrape(path: Path, text: str, root: Path | None = None) -> list[Passage]:
    """Parse a scrape dump into passages; chrome lines are dropped, cut-off entries are flagged."""
    source = str(path)
    entries = (_parse_entry(line, source) for raw in text.splitlines() if (line := clean_display(raw)))
    passages = [entry for entry in entries if entry is not None]
    if not passages:
        raise ParseError("no entries found (only site chrome or blank lines)")
    return fill_missing_topics(passages)


def looks_like_scrape(text: str) -> bool:
    """Heuristic content check: several long single-line entries, some with 父主题 or 服务对象."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and any("父主题" in line or "服务对象" in line for line in lines)


def _parse_entry(line: str, source: str) -> Passage | None:
    """One line → a passage; None for site chrome or a line with no text besides its 父主题."""
    if is_chrome(line):
        return None
    if "服务对象" in line and "场景描述" in line and line.partition("服务对象")[0].strip():
        return _scenario(line, source)
    body, topic, has_parent = _split_parent(line)
    if not body:
        return None
    question = QUESTION_RE.match(body)
    links = tuple(URL_RE.findall(body))
    if question:
        title, answer = question.group(1), question.group(2)
        # An FAQ page always ends with its 父主题; without one (or with an empty one) it was cut off.
        truncated = not (has_parent and topic)
        return Passage.create(
            title=title, answer=answer, topic=topic, source=source, kind="faq", links=links,
            truncated=truncated,
        )
    title, answer = _derive_title(body)
    truncated = (has_parent and not topic) or (not has_parent and not body.endswith(TERMINAL_PUNCTUATION))
    return Passage.create(
        title=title, answer=answer, topic=topic, source=source, kind="policy", links=links,
        truncated=truncated,
    )


def _split_parent(line: str) -> tuple[str, str, bool]:
    parts = PARENT_MARK.split(line, maxsplit=1)
    if len(parts) == 1:
        return line.strip(), "", False
    return parts[0].strip(), parts[1].strip(), True


def _derive_title(body: str) -> tuple[str, str]:
    """Title for a paragraph with none: its first clause; the answer keeps the whole paragraph."""
    clause = CLAUSE_RE.match(body)
    title = clause.group(1).strip() if clause else body[:30].strip()
    return title, body


def _scenario(line: str, source: str) -> Passage:
    title, _, rest = line.partition("服务对象")
    body = "服务对象" + rest
    for section in SCENARIO_SECTIONS[1:]:
        body = body.replace(f" {section}", f"\n{section}")
    links = tuple(URL_RE.findall(body))
    # Complete pages end with a full sentence or a full API URL (with a path after the host).
    last_url_complete = bool(links) and body.endswith(links[-1]) and "/" in links[-1].split("://", 1)[1]
    truncated = not (body.endswith(TERMINAL_PUNCTUATION) or last_url_complete)
    if truncated and links and body.endswith(links[-1]):
        links = links[:-1]  # the address itself was cut off
    return Passage.create(
        title=title.strip(), answer=body.strip(), topic="", source=source, kind="scenario", links=links,
        truncated=truncated,
    )
