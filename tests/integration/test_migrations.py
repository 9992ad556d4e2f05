"""The migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.db import migrate


async def test_migrations_match_the_models(db_url: str, engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == migrate.head_revision()
    # `alembic check`: raises if autogenerate would find any difference.
    await asyncio.to_thread(migrate.check, db_url)


async def test_sqlite_tables_keep_autoincrement_after_every_migration(
    db_url: str, engine: AsyncEngine
) -> None:
    """Ids are never reused: a reused post id would reuse its idempotency keys."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import text

    from onthedot.db.models import Base

    wanted = {
        t.name for t in Base.metadata.sorted_tables if t.dialect_kwargs.get("sqlite_autoincrement")
    }
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
            )
        )
        have = {r[0] for r in rows}
    assert "posts" in wanted
    assert wanted <= have, f"AUTOINCREMENT lost on {sorted(wanted - have)}"
