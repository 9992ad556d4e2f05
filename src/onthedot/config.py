"""Settings, read from the environment (prefix `ONTHEDOT_`) or a `.env` file.

Nothing reads settings at import time: `Settings()` is built once by the entry point (CLI or
app factory) and passed down.
"""

from __future__ import annotations

from pathlib import Path

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
