"""Request and response bodies of the JSON API (pydantic), shown in the OpenAPI schema at /docs."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StrictStr

# NUL and other control characters (except tab and newlines) and lone surrogates become spaces:
# they carry no meaning in a question and would break the C tokenizer or UTF-8 encoding.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """User text with unprintable characters replaced and surrounding whitespace removed."""
    return _UNPRINTABLE.sub(" ", value).strip()


def _non_blank(value: str) -> str:
    cleaned = clean_text(value)
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


Text = Annotated[StrictStr, AfterValidator(clean_text)]
Question = Annotated[
    StrictStr,
    AfterValidator(_non_blank),
    Field(description="Non-blank; longer than FAQ_MAX_QUESTION_CHARS characters → 413",
          examples=["PO提交后多久能验证完"]),
]


class ErrorOut(BaseModel):
    """Every error response."""

    detail: str = Field(description="What was wrong, in plain words")


class Turn(BaseModel):
    """One earlier exchange of the conversation."""

    question: Question
    answer: Text = ""


class AskIn(BaseModel):
    """A question, optionally with the conversation so far (oldest first)."""

    question: Question
    history: list[Turn] = Field(
        default_factory=list, description="Earlier turns, oldest first; at most FAQ_MAX_HISTORY_TURNS → else 422",
    )


class CitationOut(BaseModel):
    """The passage an answer comes from."""

    passage_id: str
    title: str
    topic: str = Field(description="父主题 (parent topic); empty when the page has none")
    url: str = Field(description="http(s) address of the source, or of this service's page for the passage")
    score: float


class SuggestionOut(BaseModel):
    """A related passage to offer as a follow-up question."""

    passage_id: str
    title: str


class AskOut(BaseModel):
    """An answer with its citation, or `answered: false` with suggestions."""

    answered: bool
    answer: str
    citations: list[CitationOut]
    confidence: float = Field(description="Calibrated probability that the answer is right")
    suggestions: list[SuggestionOut]


class SearchHitOut(BaseModel):
    """One keyword-search result."""

    passage_id: str
    title: str
    topic: str
    url: str
    snippet: str = Field(description="HTML-escaped text; matches wrapped in <mark>")
    score: float


class SearchOut(BaseModel):
    """One page of keyword-search results."""

    total: int = Field(description="Matches over all pages")
    results: list[SearchHitOut]


class TopicOut(BaseModel):
    """A parent topic and how many passages it holds."""

    topic: str
    count: int


class PassageOut(BaseModel):
    """A stored passage."""

    id: str
    title: str
    answer: str
    topic: str
    source: str = Field(description="The web address the passage came from, or the name of its file")
    url: str
    kind: str
    links: list[str] = Field(description="http(s) links found in the passage")
    lang: str
    truncated: bool


class FeedbackIn(BaseModel):
    """Whether an answer helped."""

    passage_id: StrictStr = Field(min_length=1, max_length=128)
    question: Question
    helpful: StrictBool


class FeedbackOut(BaseModel):
    """Acknowledgement of stored feedback."""

    stored: bool = True


class HealthOut(BaseModel):
    """Liveness."""

    status: str = "ok"


class ReadyOut(BaseModel):
    """Readiness: whether an index is loaded, and which."""

    ready: bool
    passages: int
    embedder: str
    built_at: str


class ManifestOut(BaseModel):
    """The index build now serving."""

    build_id: str
    built_at: str
    embedder: str
    dim: int
    corpus_hash: str
    passage_count: int
    vector_count: int
    format_version: int
    previous_build_id: str | None = Field(description="The build served before the reload")
