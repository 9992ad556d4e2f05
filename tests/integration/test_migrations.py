"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.db import migrate


async def test_migrations_match_the_models(db_url: str, engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == migrate.head_revision()
    # `alembic check`: raises if autogenerate would find any difference.
    await asyncio.to_thread(migrate.check, db_url)
