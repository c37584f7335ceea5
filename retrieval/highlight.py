"""Snippets for keyword search: HTML-escaped text with every matched term inside <mark>."""

from __future__ import annotations

import html
import re

SNIPPET_CHARS = 160


def highlight(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of `text` around the first match, escaped, with all matches marked."""
    pattern = _pattern(terms)
    match = pattern.search(text) if pattern else None
    start = 0
    if match and match.start() > width // 3:
        start = match.start() - width // 3
    window = text[start:start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    if pattern is None:
        return prefix + html.escape(window) + suffix
    out, last = [], 0
    for found in pattern.finditer(window):
        out.append(html.escape(window[last:found.start()]))
        out.append(f"<mark>{html.escape(found.group(0))}</mark>")
        last = found.end()
    out.append(html.escape(window[last:]))
    return prefix + "".join(out) + suffix


def _pattern(terms: list[str]) -> re.Pattern[str] | None:
    unique = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not unique:
        return None
    return re.compile("|".join(re.escape(term) for term in unique), re.IGNORECASE)
