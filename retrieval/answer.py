"""Answer assembly: the cited answer, or the refusal with suggestions, in the question's language."""

from __future__ import annotations

import re

from ingest.passage import Passage, detect_lang
from retrieval.results import AskResult, Citation, Suggestion

NO_ANSWER: dict[str, str] = {
    "zh": "抱歉，知识库里没有找到能回答这个问题的内容。可以看看下面这些相关主题，或换个说法再问。",
    "en": "Sorry, the knowledge base has no answer to this question. "
          "The topics below may be related, or try asking in other words.",
}
TRUNCATED_NOTE = {"zh": "（原文在此处不完整）", "en": "(the source text is cut off here)"}
SUGGESTIONS = 3
_HTTP_RE = re.compile(r"^https?://[^/\s?#]+", re.IGNORECASE)


def source_url(passage: Passage) -> str | None:
    """The passage's source when it is a web address (http or https only), else None."""
    return passage.source if _HTTP_RE.match(passage.source) else None


def answer(question: str, ranked: list[Passage], confidence: float, used_history: bool,
           read_as: str | None = None, lang: str | None = None) -> AskResult:
    """The top passage's answer, cited, with the next ones as suggestions; notes in `lang` (default: the
    question's language)."""
    lang = lang or detect_lang(question)
    top = ranked[0]
    text = top.answer or top.title
    if top.truncated:
        text = f"{text} {TRUNCATED_NOTE[lang]}"
    citation = Citation(top.id, top.title, top.topic, source_url(top), round(confidence, 4))
    return AskResult(
        answered=True,
        answer=text,
        citations=[citation],
        confidence=confidence,
        suggestions=[Suggestion(p.id, p.title) for p in ranked[1:1 + SUGGESTIONS]],
        ranked_ids=[p.id for p in ranked],
        used_history=used_history,
        read_as=read_as,
    )


def refusal(question: str, ranked: list[Passage], confidence: float, used_history: bool,
            read_as: str | None = None, lang: str | None = None) -> AskResult:
    """An honest "no answer" in `lang` (default: the question's language), with the nearest passages as
    suggestions."""
    return AskResult(
        answered=False,
        answer=NO_ANSWER[lang or detect_lang(question)],
        citations=[],
        confidence=confidence,
        suggestions=[Suggestion(p.id, p.title) for p in ranked[:SUGGESTIONS]],
        ranked_ids=[p.id for p in ranked],
        used_history=used_history,
        read_as=read_as,
    )
