"""The answer threshold a build holds its questions to: one per question language, where the build measured one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ingest.passage import detect_lang


@dataclass(frozen=True, slots=True)
class AnswerThreshold:
    """A question is answered when its confidence reaches the threshold of its language (`default` for a
    language the build has no threshold of its own for)."""

    default: float
    by_language: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def recorded(cls, calibration: Mapping[str, Any]) -> AnswerThreshold:
        """The thresholds a build manifest's calibration records."""
        by_language = calibration.get("by_language") or {}
        return cls(float(calibration["threshold"]), {str(lang): float(value) for lang, value in by_language.items()})

    def for_language(self, language: str) -> float:
        """The threshold a question in `language` is held to."""
        return self.by_language.get(language, self.default)

    def for_question(self, question: str) -> float:
        """The threshold `question` is held to."""
        return self.for_language(detect_lang(question)) if self.by_language else self.default

    def describe(self) -> str:
        """"0.936 (zh 0.439, en 0.940)", for reports and logs."""
        languages = ", ".join(f"{lang} {value:.3f}" for lang, value in sorted(self.by_language.items()))
        return f"{self.default:.3f}" + (f" ({languages})" if languages else "")
