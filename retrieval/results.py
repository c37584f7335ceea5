"""What retrieval returns: answers with citations, refusals with suggestions, keyword-search pages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Citation:
    """A cited source passage."""

    passage_id: str
    title: str
    topic: str
    url: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nearby topic offered when there is no answer."""

    passage_id: str
    title: str


@dataclass(frozen=True, slots=True)
class AskResult:
    """The answer to a question, or an honest refusal with suggestions.

    `used_history` tells whether the question was read as a follow-up of the conversation, and
    `read_as` how it was then read. `ranked_scores[i]` is the ranking score of `ranked_ids[i]`.
    """

    answered: bool
    answer: str
    citations: list[Citation]
    confidence: float
    suggestions: list[Suggestion]
    ranked_ids: list[str] = field(default_factory=list)
    used_history: bool = False
    read_as: str | None = None
    ranked_scores: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One keyword-search result with its highlighted snippet."""

    passage_id: str
    title: str
    topic: str
    url: str | None
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of keyword-search results and the total number of matches."""

    total: int
    results: list[SearchHit]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked passage of a hit test, with the signals the decision read (today: only the top's)."""

    passage_id: str
    title: str
    score: float
    signals: dict[str, float | None] = field(default_factory=dict)  # None: not measured


@dataclass(frozen=True, slots=True)
class Explanation:
    """What `ask` decided and why: the result, the threshold it was held to, the ranking, the
    query's keyword tokens as ranked (bridged, synonyms included), the kinds of answer the question asks for
    that the top passage never states (`retrieval.answer_kinds`) and the names a support question asks about that
    neither the corpus nor the top passage uses (`retrieval.named_terms`); with either, the confidence is 0."""

    result: AskResult
    threshold: float
    candidates: list[Candidate]
    tokens: list[str] = field(default_factory=list)
    unstated: list[str] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)
