"""/healthz and /readyz: ready, and each way of not being ready with its reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.api import create_app
from onthedot.broadcaster import queries
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.db import migrate
from onthedot.db.engine import create_engine
from onthedot.sandbox.spike import free_port

S = dt.timedelta(seconds=1)


async def register(engine: AsyncEngine, clock: FrozenClock, me: str = "b1") -> None:
    async with engine.begin() as conn:
        await conn.execute(queries.register(me=me, host="h", pid=1, now=clock.now()))


async def probe(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox, path: str
) -> httpx.Response:
    app = create_app(settings, clock=clock, engine=engine, box=box)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        return await http.get(path)


async def test_ready_with_a_fresh_broadcaster(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    await register(engine, clock)
    clock.advance(3 * S)
    answer = await probe(settings, engine, clock, box, "/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "broadcaster"}
    assert body["checks"]["broadcaster"]["detail"] == "last heartbeat 3.0 s ago"


async def test_a_stale_heartbeat_is_not_ready(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    await register(engine, clock)
    clock.advance(11 * S)  # five beats of 2 s missed
    answer = await probe(settings, engine, clock, box, "/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["broadcaster"]
    assert "heartbeat is 11 s old" in body["checks"]["broadcaster"]["detail"]


async def test_a_broadcaster_expected_but_never_seen(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    answer = await probe(settings, engine, clock, box, "/readyz")
    assert answer.status_code == 503
    detail = answer.json()["checks"]["broadcaster"]["detail"]
    assert detail == "no broadcaster has registered: start `onthedot broadcaster`"


async def test_every_broadcaster_stopped(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    api_only = settings.model_copy(update={"broadcaster": False})
    await register(engine, clock)
    async with engine.begin() as conn:
        await conn.execute(queries.mark_stopped(broadcaster_ids=["b1"], now=clock.now()))
    answer = await probe(api_only, engine, clock, box, "/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["broadcaster"]["detail"].startswith(
        "every broadcaster has stopped"
    )


async def test_an_api_alone_expects_no_broadcaster(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    api_only = settings.model_copy(update={"broadcaster": False})
    answer = await probe(api_only, engine, clock, box, "/readyz")
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["checks"]) == {"database", "migrations"}


@pytest.fixture
async def behind(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite database two migrations behind the code."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate.aupgrade(url, "0002")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def test_a_schema_behind_its_migrations_is_not_ready(
    settings: Settings, behind: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    answer = await probe(settings, behind, clock, box, "/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["migrations"]
    head = migrate.head_revision()
    assert body["checks"]["migrations"]["detail"] == (
        f"the database is at 0002, the code expects {head}: run `onthedot db upgrade`"
    )


async def test_a_database_down_is_not_ready_but_alive(
    settings: Settings, clock: FrozenClock, box: CredentialBox
) -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone")
    try:
        ready = await probe(settings, engine, clock, box, "/readyz")
        alive = await probe(settings, engine, clock, box, "/healthz")
    finally:
        await engine.dispose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["failed"] == ["database"]
    assert body["checks"]["database"]["detail"].startswith("unreachable: ")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
