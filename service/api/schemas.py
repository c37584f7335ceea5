"""Request and response bodies of the JSON API (pydantic), shown in the OpenAPI schema at /docs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

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


# What "non-blank" means, as a JSON Schema (ECMA-262) pattern for the OpenAPI document: at least one
# character that is neither whitespace (ECMA's `\s`, or Python's extra \x1c-\x1f, \x85) nor a control
# character. Documented only: `_non_blank` enforces it with a readable message.
NON_BLANK_PATTERN = r"[^\s\x00-\x1f\x7f\x85]"
NON_BLANK_SCHEMA = {"minLength": 1, "pattern": NON_BLANK_PATTERN}

Text = Annotated[StrictStr, AfterValidator(clean_text)]
Question = Annotated[
    StrictStr,
    AfterValidator(_non_blank),
    Field(description="Non-blank; longer than FAQ_MAX_QUESTION_CHARS characters → 413",
          examples=["PO提交后多久能验证完"], json_schema_extra=NON_BLANK_SCHEMA),
]


class ErrorOut(BaseModel):
    """Every error response."""

    detail: str = Field(description="What was wrong, in plain words")


class Turn(BaseModel):
    """One earlier exchange of the conversation."""

    question: Question
    answer: Text = ""


Lang = Literal["zh", "en"]


class AskIn(BaseModel):
    """A question, optionally with the conversation so far (oldest first)."""

    question: Question
    history: list[Turn] = Field(
        default_factory=list, description="Earlier turns, oldest first; at most FAQ_MAX_HISTORY_TURNS → else 422",
    )
    lang: Lang | None = Field(
        None, description="Language of the product's own words (refusal, notes); default: the question's language",
    )


class CitationOut(BaseModel):
    """The passage an answer comes from."""

    passage_id: str
    title: str
    topic: str = Field(description="父主题 (parent topic); empty when the page has none")
    url: str = Field(description="http(s) address of the source, or of this service's page for the passage")
    score: float
    lang: str = Field("zh", description="Language of the cited passage ('zh' or 'en')")


class SuggestionOut(BaseModel):
    """A related passage to offer as a follow-up question."""

    passage_id: str
    title: str


class AskOut(BaseModel):
    """An answer with its citation, or `answered: false` with suggestions."""

    answered: bool
    answer: str
    citations: list[CitationOut]
    confidence: float = Field(description="Calibrated probability that the answer is right; 0 when the question asks"
                                          " for a duration, amount or number the top passage never states, or"
                                          " whether something is supported that the help center never names")
    suggestions: list[SuggestionOut]
    used_history: bool = Field(False, description="Whether the question was read as a follow-up of the history")
    read_as: str | None = Field(None, description="How a follow-up was read, when used_history is true")
    handoff_url: str | None = Field(None, description="Where to contact support (FAQ_HANDOFF_URL), with refusals")


class SuggestedQuestionOut(BaseModel):
    """A question to offer before the user has asked anything."""

    question: str
    topic: str


class SuggestedQuestionsOut(BaseModel):
    """Questions for the widget's greeting."""

    source: Literal["feedback", "topics"] = Field(
        description="'feedback': the questions most often found helpful; 'topics': one representative entry per topic",
    )
    questions: list[SuggestedQuestionOut]


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


FeedbackReason = Literal["wrong_answer", "outdated", "not_what_i_asked"]


class FeedbackIn(BaseModel):
    """Whether an answer helped."""

    passage_id: StrictStr = Field(min_length=1, max_length=128)
    question: Question
    helpful: StrictBool
    reason: FeedbackReason | None = Field(None, description="Why an answer did not help (thumbs down only)")


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
    build_id: str = Field(description="The index build this worker serves (also sent as X-Index-Build)")
    store: str = Field(description="Where builds live: 'faiss' (index folder) or 'milvus'")
    reason: str = Field("", description="Why the worker is not ready (empty when it is)")


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


# ---- the maintainers' console (/admin/*) ------------------------------------------------------------


class EntryRefOut(BaseModel):
    """An entry of the build serving."""

    passage_id: str
    title: str


class VariantOut(BaseModel):
    """One wording of a group's question."""

    question: str
    count: int


class ClusterOut(BaseModel):
    """Queued questions that mean the same thing."""

    id: str
    question: str = Field(description="The most frequent wording")
    count: int = Field(description="Queued records in the group")
    questions: list[VariantOut]
    kinds: dict[str, int] = Field(description="Records by reason: refused, low_confidence, thumbs_down")
    used_history: int = Field(description="Records asked as a follow-up")
    last_seen: str
    closest: EntryRefOut | None = Field(description="The entry the build serving ranks first")
    runner_up: EntryRefOut | None
    margin: float | None = Field(description="Top score minus runner-up score")
    confidence: float | None
    swapped: bool = Field(description="The group's questions went to different entries")


class DislikedOut(BaseModel):
    """An entry that collected thumbs-down."""

    entry: EntryRefOut
    count: int
    questions: list[str]


class QueueOut(BaseModel):
    """The unanswered-question queue, grouped by meaning, with active-learning suggestions."""

    clusters: list[ClusterOut]
    close_calls: list[ClusterOut] = Field(description="Groups whose top two entries are close or swapped")
    disliked: list[DislikedOut] = Field(description="Entries that collect thumbs-down")


class AlternatesIn(BaseModel):
    """Questions to add as alternate questions of an entry."""

    entry: StrictStr = Field(min_length=1, max_length=128, description="The entry's passage id")
    questions: list[Question] = Field(min_length=1, max_length=200)


class AlternatesOut(BaseModel):
    """What was written to alternates.jsonl."""

    entry: EntryRefOut
    added: list[str] = Field(description="Questions appended (those already there are left out)")
    resolved: int = Field(description="Queue records marked resolved")


class EntryIn(BaseModel):
    """A new FAQ entry drafted from a group of questions."""

    question: Question
    answer: Annotated[StrictStr, AfterValidator(_non_blank)]
    topic: Text = ""
    url: Text = ""
    questions: list[Question] = Field(default_factory=list, max_length=200,
                                      description="The group's questions: added as the entry's alternates")


class EntryOut(BaseModel):
    """What was written to entries.jsonl (and alternates.jsonl)."""

    passage_id: str = Field(description="The id the entry will have after the rebuild")
    title: str
    alternates_added: list[str]
    resolved: int


class CandidateOut(BaseModel):
    """One ranked passage of a hit test."""

    passage_id: str
    title: str
    score: float
    signals: dict[str, float | None] = Field(
        description="Decision features (of the top passage); null: not measured (the second opinion is asked only "
                    "when its verdict could change the decision)")


class ExplainOut(BaseModel):
    """A hit test: the answer `/api/ask` gives, and why."""

    answered: bool
    answer: str
    confidence: float
    threshold: float
    used_history: bool
    tokens: list[str] = Field(description="The query's keyword tokens, synonyms included")
    candidates: list[CandidateOut]
    unstated: list[str] = Field(default_factory=list, description="Kinds of answer the question asks for (duration,"
                                " amount, count) that the top entry never states; then the confidence is 0")
    unnamed: list[str] = Field(default_factory=list, description="Names a question about support asks about"
                               " (\"SAML\", \"HTTP/2\") that neither the corpus nor the top entry uses; then the"
                               " confidence is 0")


class FeedbackItemOut(BaseModel):
    """One thumb, with the question and the answer it judged."""

    time: str
    question: str
    passage_id: str
    title: str
    answer: str
    helpful: bool
    build_id: str


class RebuildOut(BaseModel):
    """The console's rebuild: idle, running, succeeded or failed."""

    state: str
    started: str | None = None
    finished: str | None = None
    returncode: int | None = None
    output: str | None = None


def document_limits(openapi: dict[str, Any], *, max_question_chars: int, max_history_turns: int,
                    search_page_max: int) -> dict[str, Any]:
    """Write this instance's configured limits (FAQ_MAX_*) into its OpenAPI document, in place.

    The models are shared by every app, the limits are per app: so clients (and schema-based
    fuzzers) see the real bounds. The checks themselves stay in the routes, where a question over
    the limit gets a 413 that says so.
    """
    components = openapi.get("components", {}).get("schemas", {})
    for model in ("AskIn", "Turn", "FeedbackIn"):
        question = components.get(model, {}).get("properties", {}).get("question")
        if question is not None:
            question["maxLength"] = max_question_chars
    history = components.get("AskIn", {}).get("properties", {}).get("history")
    if history is not None:
        history["maxItems"] = max_history_turns
    search = openapi.get("paths", {}).get("/api/search", {}).get("get", {})
    for parameter in search.get("parameters", []):
        if parameter["name"] == "q":
            parameter["schema"]["maxLength"] = max_question_chars
        elif parameter["name"] == "limit":
            parameter["schema"]["maximum"] = search_page_max
            parameter["schema"]["default"] = min(parameter["schema"].get("default", search_page_max), search_page_max)
    return openapi
