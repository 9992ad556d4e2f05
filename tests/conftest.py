"""Shared fixtures: a migrated database per test on SQLite and, when enabled, PostgreSQL; a
frozen clock; the app over ASGI; workspaces with tokens.

PostgreSQL tests run when ONTHEDOT_TEST_POSTGRES_URL points at a server (for example
postgresql://postgres@127.0.0.1:5432/postgres). Each test session creates its own database
there and drops it at the end. With ONTHEDOT_REQUIRE_POSTGRES=1 (CI), a missing server fails
the run instead of skipping those tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Role
from onthedot.accounts.service import Member
from onthedot.api import create_app
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, generate_key
from onthedot.db import migrate
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.db.models import Base

PG_ENV = "ONTHEDOT_TEST_POSTGRES_URL"
# Thursday 26 November 2026, 06:00 UTC.
T0 = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _require_pg() -> bool:
    return os.environ.get("ONTHEDOT_REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database for this test session."""
    admin = _pg_admin_url()
    if admin is None:
        if _require_pg():
            pytest.fail(f"{PG_ENV} is not set but ONTHEDOT_REQUIRE_POSTGRES=1")
        pytest.skip(f"PostgreSQL tests are off; set {PG_ENV} to run them")
    name = f"onthedot_test_{uuid.uuid4().hex[:12]}"

    async def admin_sql(sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(admin))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if _require_pg():
            pytest.fail(f"cannot create a PostgreSQL test database: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        migrate.upgrade(rendered)
        yield rendered
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "onthedot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def _truncate(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    if engine.dialect.name == "postgresql":
        await _truncate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def box() -> CredentialBox:
    return CredentialBox([generate_key()])


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, media_dir=tmp_path / "media", max_media_bytes=1024 * 1024)


@pytest.fixture
async def client(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock, engine=engine, box=box)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Actor:
    """A member of a workspace with a token, ready to call the API."""

    member: Member
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Team:
    owner: Actor
    editor: Actor
    viewer: Actor
    stranger: Actor  # the owner of another workspace


async def make_workspace(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, email: str, now: dt.datetime
) -> Actor:
    async with sessionmaker() as session, session.begin():
        workspace, owner = await accounts_service.create_workspace(
            session, name=name, owner_email=email, now=now
        )
        _, plain = await accounts_service.create_token(
            session, workspace_id=workspace.id, user_id=owner.id, name="test", now=now
        )
    return Actor(Member(owner.id, workspace.id, Role.OWNER), plain, email)


async def add_teammate(
    sessionmaker: async_sessionmaker[AsyncSession],
    owner: Actor,
    email: str,
    role: Role,
    now: dt.datetime,
) -> Actor:
    async with sessionmaker() as session, session.begin():
        _, user = await accounts_service.add_member(
            session, member=owner.member, email=email, role=role, now=now
        )
        _, plain = await accounts_service.create_token(
            session, workspace_id=owner.member.workspace_id, user_id=user.id, name="t", now=now
        )
    return Actor(Member(user.id, owner.member.workspace_id, role), plain, email)


@pytest.fixture
async def team(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Team:
    owner = await make_workspace(sessionmaker, "Acme", "owner@acme.test", clock.now())
    editor = await add_teammate(sessionmaker, owner, "editor@acme.test", Role.EDITOR, clock.now())
    viewer = await add_teammate(sessionmaker, owner, "viewer@acme.test", Role.VIEWER, clock.now())
    stranger = await make_workspace(sessionmaker, "Other", "someone@other.test", clock.now())
    return Team(owner, editor, viewer, stranger)
