"""`onthedot doctor` against real databases, on SQLite and PostgreSQL: healthy, behind its
migrations, missing the claim index, without a broadcaster, with a skewed clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic.script import ScriptDirectory
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from onthedot.clock import FrozenClock, SystemClock
from onthedot.db import migrate
from onthedot.db.engine import create_engine
from onthedot.observability.doctor import Check, Level, check_clock, diagnose, doctor
from onthedot.posts.models import Broadcaster

PG_ENV = "ONTHEDOT_TEST_POSTGRES_URL"
CLAIM_INDEX = "ix_posts_status_due_at_channel_id"


def _previous(revision: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


HEAD = migrate.head_revision() or ""
BEHIND = _previous(HEAD)

Fresh = Callable[..., Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Fresh:
    """A database of this test's own, migrated to `revision`: DDL here is committed, so it
    must not touch the session's shared one."""
    kind = request.param
    # Resolved here, outside any event loop: the fixture runs one of its own (and skips
    # without PostgreSQL).
    admin_url = request.getfixturevalue("postgres_url") if kind == "postgres" else ""

    @asynccontextmanager
    async def make(revision: str = "head") -> AsyncIterator[tuple[str, AsyncEngine]]:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / f'doctor-{uuid.uuid4().hex[:6]}.db'}"
            await migrate.aupgrade(url, revision)
            engine = create_engine(url)
            try:
                yield url, engine
            finally:
                await engine.dispose()
            return
        name = f"onthedot_doctor_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            engine = create_engine(url)
            try:
                await migrate.aupgrade(url, revision)
                yield url, engine
            finally:
                await engine.dispose()
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.dispose()

    return make


async def _beat(engine: AsyncEngine, at: dt.datetime, *, stopped: bool = False) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(Broadcaster).values(
                id=f"b-{uuid.uuid4().hex[:8]}",
                host="here",
                pid=1,
                started_at=at,
                heartbeat_at=at,
                stopped_at=at if stopped else None,
            )
        )


def _by_check(checks: list[Check]) -> dict[str, list[Check]]:
    out: dict[str, list[Check]] = {}
    for check in checks:
        out.setdefault(check.check, []).append(check)
    return out


def _cli(url: str, *args: str) -> Any:
    app = typer.Typer()
    app.command()(doctor)
    return CliRunner().invoke(app, list(args), env={"ONTHEDOT_DATABASE_URL": url, "COLUMNS": "200"})


async def test_a_healthy_installation(fresh: Fresh) -> None:
    async with fresh() as (url, engine):
        await _beat(engine, SystemClock().now())
        checks = await diagnose(engine, clock=SystemClock(), heartbeat_s=2.0)
        assert [c for c in checks if c.wrong] == [], "\n".join(c.line() for c in checks)
        got = _by_check(checks)
        assert got["migrations"][0].message == f"at {HEAD} (head)"
        assert "critical queries read through an index" in got["query plans"][0].message
        clock_level = got["clock"][0].level
        assert clock_level == (Level.SKIP if engine.dialect.name == "sqlite" else Level.OK)
        assert got["broadcaster"][0].message.startswith("1 running")

        await _beat(engine, SystemClock().now())
        done = await asyncio.to_thread(_cli, url)
        assert done.exit_code == 0, done.output
        lines = done.stdout.splitlines()
        assert lines[1].startswith("ok    migrations")
        assert not any(line.startswith(("WARN", "FAIL")) for line in lines)
        body = json.loads((await asyncio.to_thread(_cli, url, "--format", "json")).stdout)
        assert body["ok"] is True
        assert [c["check"] for c in body["checks"]] == [
            "migrations",
            "query plans",
            "clock",
            "broadcaster",
        ]


async def test_a_database_behind_its_migrations(fresh: Fresh) -> None:
    async with fresh(BEHIND) as (url, engine):
        await _beat(engine, SystemClock().now())
        checks = await diagnose(engine, clock=SystemClock(), heartbeat_s=2.0)
        (migrations,) = _by_check(checks)["migrations"]
        assert migrations.level == Level.FAIL
        assert migrations.message.startswith(f"at {BEHIND}, behind {HEAD}: 1 migration(s)")
        assert migrations.fix == "run `onthedot db upgrade`"
        done = await asyncio.to_thread(_cli, url)
        assert done.exit_code == 1
        assert f"FAIL  migrations    at {BEHIND}, behind {HEAD}" in done.stdout
        assert "fix: run `onthedot db upgrade`" in done.stdout


async def test_a_dropped_claim_index_is_reported_with_the_statement_that_restores_it(
    fresh: Fresh,
) -> None:
    async with fresh() as (url, engine):
        await _beat(engine, SystemClock().now())
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP INDEX {CLAIM_INDEX}"))
        checks = await diagnose(engine, clock=SystemClock(), heartbeat_s=2.0)
        plans = _by_check(checks)["query plan"]
        queries = {c.details["query"] for c in plans}
        assert "broadcaster.due_channels" in queries
        due = next(c for c in plans if c.details["query"] == "broadcaster.due_channels")
        assert due.level == Level.FAIL
        assert "scans table 'posts'" in due.message or "sorts every matching row" in due.message
        create = f"CREATE INDEX {CLAIM_INDEX} ON posts (status, due_at, channel_id)"
        assert due.fix == f"recreate the missing index: {create}"
        done = await asyncio.to_thread(_cli, url)
        assert done.exit_code == 1
        assert "FAIL  query plan    broadcaster.due_channels" in done.stdout
        assert create in done.stdout

        # The fix as printed makes the doctor content again.
        async with engine.begin() as conn:
            await conn.execute(text(due.details["statements"][0]))
        checks = await diagnose(engine, clock=SystemClock(), heartbeat_s=2.0)
        assert [c for c in checks if c.wrong] == [], "\n".join(c.line() for c in checks)


async def test_no_broadcaster_running_is_a_warning(fresh: Fresh) -> None:
    clock = FrozenClock(SystemClock().now())
    async with fresh() as (url, engine):
        (never,) = _by_check(await diagnose(engine, clock=clock, heartbeat_s=2.0))["broadcaster"]
        assert never.level == Level.WARN
        assert "none has ever started" in never.message
        assert never.fix is not None and "start `onthedot broadcaster`" in never.fix

        # One that stopped, and one that died 60 s ago without saying so.
        await _beat(engine, clock.now() - dt.timedelta(seconds=300), stopped=True)
        await _beat(engine, clock.now() - dt.timedelta(seconds=60))
        (stale,) = _by_check(await diagnose(engine, clock=clock, heartbeat_s=2.0))["broadcaster"]
        assert stale.level == Level.WARN
        assert "no broadcaster heartbeated in the last 10 s" in stale.message
        assert "the last heartbeat was 60 s ago" in stale.message
        # A longer heartbeat period waits longer before calling it dead.
        (alive,) = _by_check(await diagnose(engine, clock=clock, heartbeat_s=15.0))["broadcaster"]
        assert alive.level == Level.OK and "latest heartbeat 60.0 s ago" in alive.message
        done = await asyncio.to_thread(_cli, url)
        assert done.exit_code == 1
        assert "WARN  broadcaster" in done.stdout


async def test_clock_skew_against_postgresql(fresh: Fresh) -> None:
    async with fresh() as (_url, engine):
        # The clock check alone: a frozen clock does not move while other checks run, so the
        # skew it shows shrinks by however long they take.
        ahead = FrozenClock(SystemClock().now() + dt.timedelta(seconds=3.2))
        skew = await check_clock(engine, clock=ahead)
        if engine.dialect.name == "sqlite":
            assert skew.level == Level.SKIP and "SQLite" in skew.message
            return
        assert skew.level == Level.FAIL
        assert "ahead of the database's" in skew.message
        assert skew.fix is not None and "sync the clock with NTP" in skew.fix
        assert 2.5 < skew.details["skew_s"] < 3.3
        behind = FrozenClock(SystemClock().now() - dt.timedelta(seconds=0.5))
        small = await check_clock(engine, clock=behind)
        assert small.level == Level.WARN and "behind the database's" in small.message


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    done = _cli(f"sqlite:///{path}")
    assert done.exit_code == 1
    assert "FAIL  database" in done.stdout and "no SQLite database at" in done.stdout
    assert "run `onthedot db upgrade` to create it" in done.stdout
    assert not path.exists()


@pytest.mark.postgres
def test_an_unreachable_database() -> None:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL tests are off; set {PG_ENV} to run them")
    done = _cli("postgresql://postgres@127.0.0.1:1/none")
    assert done.exit_code == 1
    assert "FAIL  database      cannot reach postgresql" in done.stdout
    assert "fix: start the database" in done.stdout
