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
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Where `onthedot broadcaster` serves /metrics and /healthz; unset, nowhere.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="The address of that server; 0.0.0.0 for a scraper on another host.",
    )
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

    # --- the real networks -------------------------------------------------------------------
    public_url: str | None = Field(
        default=None,
        description=(
            "The address users reach onthedot at, for the networks' OAuth redirects "
            "({public_url}/connect/{network}/callback). Unset: http://{host}:{port}."
        ),
    )
    allow_private_addresses: bool = Field(
        default=False,
        description=(
            "Let user-given addresses (a Mastodon instance, a link) reach loopback, private and "
            "link-local addresses. For development only: it opens the door to SSRF."
        ),
    )
    network_urls: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'API addresses that replace a network\'s real one, as JSON: {"bluesky": '
            '"http://127.0.0.1:8000/sandbox/fakes/bluesky"}. For trials against the contract '
            "fakes."
        ),
    )
    x_client_id: str | None = None
    x_client_secret: SecretStr | None = None
    linkedin_client_id: str | None = None
    linkedin_client_secret: SecretStr | None = None
    # One Meta app serves Facebook Pages and Instagram; Threads has an app id of its own.
    meta_app_id: str | None = None
    meta_app_secret: SecretStr | None = None
    threads_app_id: str | None = None
    threads_app_secret: SecretStr | None = None
