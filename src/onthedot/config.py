"""Settings, read from the environment (prefix `ONTHEDOT_`) or a `.env` file.

Nothing reads settings at import time: `Settings()` is built once by the entry point (CLI or
app factory) and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONTHEDOT_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./onthedot.db",
        description="SQLAlchemy URL. SQLite (embedded default) or postgresql+asyncpg://…",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key(s) that encrypt channel credentials; several keys separated by commas "
            "rotate them (the first encrypts, all decrypt). Required outside the demo."
        ),
    )
    demo: bool = Field(default=False, description="Run with a demo workspace and a local key.")
    host: str = "127.0.0.1"
    port: int = 8000
    media_dir: Path = Path("./media")
    max_media_bytes: int = 512 * 1024 * 1024
    log_level: str = "info"
    log_format: str = Field(default="console", pattern="^(json|console)$")
    stripe_webhook_secret: SecretStr | None = None
    operator_workspace_id: int | None = Field(
        default=None,
        description=(
            "The workspace of whoever runs this installation. Its owners may read the revenue "
            "reports (they cover every customer); unset, the reports are off."
        ),
    )
    stripe_webhook_tolerance_s: int = 300

    # --- the broadcaster -------------------------------------------------------------------
    broadcaster: bool = Field(
        default=True, description="Run the broadcaster inside `onthedot run`."
    )
    prepare_lead_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long before its due time a post is claimed and prepared (media uploaded, "
            "containers created); longer than the slowest preparation, or that post is late."
        ),
    )
    claim_batch: int = Field(default=1000, ge=1, le=10_000)
    poll_s: float = Field(default=1.0, gt=0, description="How often new due posts are looked for.")
    lease_s: float = Field(
        default=30.0,
        gt=0,
        description="How long after its due time a claim stays valid if its broadcaster dies.",
    )
    max_in_flight: int = Field(default=1000, ge=1, description="Publish calls open at once.")
    max_held: int = Field(
        default=200_000, ge=1, description="Claimed posts one broadcaster holds at most."
    )
    publish_timeout_s: float = Field(default=30.0, gt=0)
    max_tries: int = Field(default=8, ge=1, description="Tries before a transient error fails.")
    retry_deadline_s: float = Field(
        default=3600.0, gt=0, description="No retry more than this long after the due time."
    )
    heartbeat_s: float = Field(default=2.0, gt=0)
    resume_past_pinned: Literal["publish", "missed"] = Field(
        default="publish",
        description=(
            "On resuming a channel, what becomes of pinned posts whose time passed while it "
            "was paused: published at once, or marked missed."
        ),
    )
    # --- the sandbox network -----------------------------------------------------------------
    sandbox_url: str | None = Field(
        default=None,
        description=(
            "Where the sandbox network answers. Unset, `onthedot run` mounts it at /sandbox "
            "on its own port."
        ),
    )
