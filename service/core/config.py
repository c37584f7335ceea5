"""All configuration, from `FAQ_*` environment variables (or a `.env` file), read at the edges."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, HttpUrl, SecretStr

from retrieval.settings import PROJECT_ROOT, RetrievalSettings


class Settings(RetrievalSettings):
    """Service settings on top of the retrieval ones: HTTP, limits, logs."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(1, ge=1, le=16)
    keep_alive_seconds: int = Field(
        75, ge=1, description="How long an idle keep-alive connection stays open; longer than clients' and "
                              "proxies' own idle limits (httpx 5 s, nginx 75 s), so the client always closes first",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to embed the widget")
    admin_token: SecretStr | None = Field(None, description="Required by /admin/*; unset disables them")
    index_check_seconds: float = Field(
        1.0, ge=0, description="How often each worker looks for a new CURRENT build; 0: only /admin/reload loads one",
    )

    answer_cache_size: int = Field(
        1024, ge=0, description="Answers kept per worker for repeated questions (LRU, per build); 0: no cache",
    )

    max_question_chars: int = Field(500, ge=1)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_history_turns: int = Field(10, ge=0)
    rate_limit_per_minute: int = Field(120, ge=0, description="Per client; 0 disables")
    search_page_max: int = Field(50, ge=1, le=200)

    handoff_url: HttpUrl | None = Field(None, description="'Contact support' link shown with refusals; unset: none")

    feedback_log: Path = Field(PROJECT_ROOT / "var" / "feedback.jsonl")
    queue_db: Path = Field(PROJECT_ROOT / "var" / "queue.sqlite3",
                           description="SQLite file of the question log, the unanswered-question queue and the thumbs")
    review_below: float = Field(0.7, ge=0, le=1, description="Answers with a lower confidence are queued for review")
    cluster_similarity: float = Field(0.93, gt=0, le=1, description="Cosine at which queued questions group together")
    close_margin: float = Field(0.02, ge=0, description="Top-two score margin below which a question is a close call")
    metrics_dir: Path | None = Field(None, description="prometheus multiprocess dir; default: in memory")
