"""The `Passage` record: the unit that is indexed, retrieved and cited."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ingest.normalize import normalize_for_matching

PassageKind = Literal["faq", "scenario", "policy", "guide"]


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable unit: an FAQ entry, a scenario page, a policy paragraph or a guide section."""

    id: str
    title: str
    answer: str
    topic: str
    source: str
    kind: PassageKind
    links: tuple[str, ...] = ()
    lang: str = "zh"
    truncated: bool = False
    hash: str = ""
    extra_sources: tuple[str, ...] = field(default=())
    # Other ways to ask this entry (curation's alternates.jsonl); not part of the id or the hash.
    alternates: tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        *,
        title: str,
        answer: str,
        topic: str,
        source: str,
        kind: PassageKind,
        links: tuple[str, ...] | list[str] = (),
        lang: str | None = None,
        truncated: bool = False,
    ) -> Passage:
        """Build a passage, deriving its stable id, content hash and language."""
        title, answer, topic = title.strip(), answer.strip(), topic.strip()
        return cls(
            id=passage_id(title, answer),
            title=title,
            answer=answer,
            topic=topic,
            source=source,
            kind=kind,
            links=tuple(links),
            lang=lang or detect_lang(f"{title} {answer}"),
            truncated=truncated,
            hash=content_hash(title, answer, topic, source, tuple(links), truncated),
        )

    @property
    def embedding_text(self) -> str:
        """The text embedded for the passage as a whole: title and answer."""
        return f"{self.title}\n{self.answer}" if self.answer else self.title

    @property
    def keyword_text(self) -> str:
        """The text the keyword index holds for the passage: title, answer, topic and alternate questions."""
        return "\n".join((self.title, self.answer, self.topic, *self.alternates))

    @property
    def is_question_only(self) -> bool:
        """The passage is only a question: its answer is empty or its title again (question-matching corpora)."""
        return normalize_for_matching(self.answer) in ("", normalize_for_matching(self.title))

    @property
    def matching_text(self) -> str:
        """Normalised title + answer + topic, for keyword matching."""
        return normalize_for_matching(f"{self.title}\n{self.answer}\n{self.topic}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["links"] = list(self.links)
        data["extra_sources"] = list(self.extra_sources)
        data["alternates"] = list(self.alternates)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        """Inverse of `to_dict`."""
        return cls(
            **{
                **data,
                "links": tuple(data.get("links", ())),
                "extra_sources": tuple(data.get("extra_sources", ())),
                "alternates": tuple(data.get("alternates", ())),
            }
        )


def passage_id(title: str, answer: str) -> str:
    """Stable id: the same (normalised) title and answer give the same id on every run."""
    key = normalize_for_matching(title) + "\x1f" + normalize_for_matching(answer)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def content_hash(*parts: object) -> str:
    """Hash of everything shown or cited for a passage."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def detect_lang(text: str) -> str:
    """'zh' when the text has a meaningful share of CJK characters, else 'en'."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "zh"
    cjk = sum(1 for ch in letters if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    return "zh" if cjk / len(letters) >= 0.2 else "en"
