"""A page as sections, and the passages it makes: short pages whole, long ones split at their headings.

Shared by the parsers of formats with headings (HTML, Markdown): each turns its page into a title
plus `Section`s (heading, text, links), and `page_passages` does the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.errors import ParseError
from ingest.normalize import clean_display
from ingest.passage import Passage, PassageKind

# A page up to this many characters stays one passage; a longer one is split at its headings.
LONG_PAGE_CHARS = 1000
# A section with less text than this merges into the one before it.
MIN_SECTION_CHARS = 80
# A section longer than this is cut at line boundaries into numbered parts.
MAX_PASSAGE_CHARS = 2000

QUESTION_START_RE = re.compile(r"^(如何|怎么|为什么|是否|(what|how|why|can)\b)", re.IGNORECASE)


@dataclass(slots=True)
class Section:
    """A run of page text under one heading ("" for text before the first heading)."""

    heading: str
    text: str
    links: list[str] = field(default_factory=list)

    def rendered(self) -> str:
        """The section as it reads on the page: heading line, then text."""
        return "\n".join(part for part in (self.heading, self.text) if part)


def is_question(title: str) -> bool:
    """True when a title reads as a question (ends with ?/？ or opens with 如何/怎么/为什么/是否/what/how…)."""
    title = title.strip()
    return title.endswith(("?", "？")) or bool(QUESTION_START_RE.match(title))


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
                    links=unique(section.links),
                    lang=lang,
                )
            )
    return passages


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


def unique(items: list[str]) -> list[str]:
    """Items in first-seen order, without repeats."""
    return list(dict.fromkeys(items))
