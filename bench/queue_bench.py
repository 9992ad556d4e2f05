"""Benchmark: does reading a queue page or the next due batch cost the same with 1 thousand
and with 1 million stored posts?

Both are on the hot path (a person opening a queue; the broadcaster polling every few
seconds), so both must be index searches whose cost follows the rows they return, not the
rows the table holds. For each database (SQLite, PostgreSQL) and each size this script:

1. migrates a fresh database (SQLite in a temporary directory; PostgreSQL in a throwaway
   database `onthedot_bench_<random>`, dropped afterwards even when something fails);
2. creates a workspace and 1,000 channels through the services, then bulk-loads the posts
   with set-based SQL: about 80 % sent in the past, 15 % scheduled over the next three
   months, a few drafts and failures, one post_items row each. The same fixture is part of
   every size: `--batch` posts due at the instant T (spread over as many channels) and a busy
   channel whose queue holds 6 pages of posts (its history of sent posts grows with the
   size, its queue does not); then ANALYZE;
3. times, `--repeat` times each, one transaction as the application runs it, taking turns
   between the sizes (all are loaded first) so that other work on the machine slows them
   alike:
   - the broadcaster's due batch, `posts.queries.due_batch(horizon=T, limit=--batch)`, and on
     PostgreSQL also with `FOR UPDATE SKIP LOCKED` (rolled back);
   - the busy channel's queue through `posts.service.queue_page`: its first page and a later
     one reached with the cursor (the channel, the page and the items via selectinload);
4. prints, per database, median and p95 per size, the ratio largest/smallest size with a
   verdict (flat / grows), and the plan of every statement measured at the largest size: EXPLAIN
   QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, with the findings of the
   query-plan guard (`onthedot.observability.query_guard.explain`).

Usage: `python bench/queue_bench.py [--sizes 1000,1000000] [--databases sqlite,postgres]
[--postgres-url URL] [--repeat 200] [--batch 500] [--page 50] [--format text|json]`.
The PostgreSQL server defaults to $ONTHEDOT_BENCH_POSTGRES_URL or
postgresql://postgres@127.0.0.1:5432/postgres; its user must be allowed to create databases.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Role
from onthedot.accounts.service import Member
from onthedot.channels import service as channels_service
from onthedot.db import migrate
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.networks import Network
from onthedot.observability import query_guard
from onthedot.posts import queries
from onthedot.posts import service as posts_service
from onthedot.posts.models import Post, PostStatus

PG_ENV = "ONTHEDOT_BENCH_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"

# The instant the broadcaster polls at; a Thursday morning, UTC.
T = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
CHANNELS = 1_000
BUSY_CHANNEL_PAGES = 6  # the busy channel's queue, in pages of --page posts
LATER_PAGE = 4  # the page read through the cursor
# Background mix, by i % 101 (101 is prime to the channel count, so every channel gets the
# same mix): 81 sent, 15 scheduled, 2 failed, 3 drafts.
MIX_MODULUS = 101
SENT_BELOW, SCHEDULED_BELOW, FAILED_BELOW = 81, 96, 98
PAST_SECONDS = 2 * 365 * 86_400  # sent posts go back two years
FUTURE_SECONDS = 90 * 86_400  # scheduled ones reach three months ahead
PINNED_EVERY = 7  # one post in 7 has a custom time (pinned, takes no slot)
WARMUP = 5
FLAT_BELOW = 2.0  # largest/smallest median under this is "flat"

NETWORKS = (Network.SANDBOX, Network.MASTODON, Network.BLUESKY, Network.X, Network.LINKEDIN)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney")


# ---------------------------------------------------------------------------------------
# Options and results


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    databases: tuple[str, ...]
    postgres_url: str
    repeat: int
    batch: int
    page: int
    format: str

    @property
    def busy_queue(self) -> int:
        return self.page * BUSY_CHANNEL_PAGES

    @property
    def fixture(self) -> int:
        return self.batch + self.busy_queue


@dataclass
class OpResult:
    label: str
    rows: int
    samples_ms: list[float]
    plan: list[str] = field(default_factory=list)
    guard: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class SizeResult:
    database: str
    size: int
    background: int
    load_s: float
    analyze_s: float
    ops: dict[str, OpResult]


@dataclass
class Comparison:
    key: str
    label: str
    ratio: float
    verdict: str


def human(n: int) -> str:
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if n >= scale and n % (scale // 10) == 0:
            value = n / scale
            return f"{value:g}{unit}"
    return str(n)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Databases


@dataclass
class Target:
    """One fresh database for one size."""

    name: str  # "sqlite" or "postgres"
    url: str
    sqlite_path: Path | None = None


@asynccontextmanager
async def fresh_database(name: str, opts: Options) -> AsyncIterator[Target]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="onthedot_bench_") as tmp:
            path = Path(tmp) / "bench.db"
            yield Target("sqlite", f"sqlite+aiosqlite:///{path}", path)
        return
    admin = make_url(opts.postgres_url)
    db_name = f"onthedot_bench_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with admin_engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        try:
            url = admin.set(database=db_name).render_as_string(hide_password=False)
            yield Target("postgres", url)
        finally:
            async with admin_engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            log(f"  dropped database {db_name}")
    finally:
        await admin_engine.dispose()


async def server_version(opts: Options) -> str:
    engine = create_engine(opts.postgres_url)
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class Seeded:
    member: Member
    busy_channel: int
    background: int


async def create_channels(sessionmaker: async_sessionmaker[AsyncSession]) -> Member:
    async with sessionmaker() as session, session.begin():
        workspace, owner = await accounts_service.create_workspace(
            session, name="Bench", owner_email="bench@onthedot.test", now=T
        )
        member = Member(owner.id, workspace.id, Role.OWNER)
        for n in range(CHANNELS):
            await channels_service.create_channel(
                session,
                member=member,
                network=NETWORKS[n % len(NETWORKS)],
                handle=f"@bench{n + 1}",
                timezone=ZONES[n % len(ZONES)],
                schedule="daily 08:00, 12:30, 17:00",
                now=T,
            )
    return member


def fixture_rows(member: Member, first_channel: int, opts: Options) -> list[dict[str, Any]]:
    """The same posts at every size: a due spike at T and a busy channel's queue."""
    common = {
        "workspace_id": member.workspace_id,
        "status": PostStatus.SCHEDULED,
        "attempt": 0,
        "created_by": member.user_id,
        "created_at": T - dt.timedelta(days=1),
        "updated_at": T - dt.timedelta(days=1),
    }
    rows = []
    for k in range(opts.batch):
        # One per channel (the busy one aside) while channels last, then pinned: no slot.
        spare = k < CHANNELS - 1
        rows.append(
            {
                **common,
                "channel_id": first_channel + 1 + k % (CHANNELS - 1),
                "group_id": str(uuid.UUID(int=k + 1)),
                "pinned": not spare,
                "queue_position": 1 if spare else None,
                "due_at": T,
            }
        )
    for k in range(opts.busy_queue):
        rows.append(
            {
                **common,
                "channel_id": first_channel,
                "group_id": str(uuid.UUID(int=opts.batch + k + 1)),
                "pinned": False,
                "queue_position": k + 1,
                "due_at": T + dt.timedelta(hours=k + 1),
            }
        )
    return rows


def background_sql(dialect: str) -> str:
    """INSERT … SELECT of the background posts; parameters :n, :t0, :ws, :user, :ch0, :sp, :sf.

    Row i (1..n) gets its status from i % 101, its channel from i (scheduled posts never go
    to the busy channel :ch0, so its queue is the fixture at every size) and a due time that
    is unique in i, so the unique slot index (channel_id, due_at) never objects.
    """
    if dialect == "sqlite":
        series = (
            "WITH RECURSIVE seq(i) AS"
            " (SELECT 1 WHERE :n >= 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)"
        )

        def at(offset: str) -> str:
            return (
                f"strftime('%Y-%m-%d %H:%M:%S', :t0, printf('%+d seconds', {offset})) || '.000000'"
            )

        group = "printf('%08x-0000-4000-8000-%012x', i, i)"
        true, false = "1", "0"
    else:
        series = "WITH seq AS (SELECT i FROM generate_series(1, CAST(:n AS bigint)) AS g(i))"

        def at(offset: str) -> str:
            return f"CAST(:t0 AS timestamptz) + ({offset}) * interval '1 second'"

        group = "lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')"
        true, false = "true", "false"
    status = (
        f"CASE WHEN i % {MIX_MODULUS} < {SENT_BELOW} THEN 'sent'"
        f" WHEN i % {MIX_MODULUS} < {SCHEDULED_BELOW} THEN 'scheduled'"
        f" WHEN i % {MIX_MODULUS} < {FAILED_BELOW} THEN 'failed' ELSE 'draft' END"
    )
    return f"""
        INSERT INTO posts (workspace_id, channel_id, group_id, status, pinned, queue_position,
                           due_at, attempt, created_by, created_at, updated_at)
        {series},
        mixed AS (SELECT i, {status} AS status FROM seq)
        SELECT
            :ws,
            CASE WHEN status = 'scheduled' THEN :ch0 + 1 + i % {CHANNELS - 1}
                 ELSE :ch0 + i % {CHANNELS} END,
            {group},
            status,
            CASE WHEN status <> 'draft' AND i % {PINNED_EVERY} = 0 THEN {true} ELSE {false} END,
            CASE WHEN status = 'scheduled' AND i % {PINNED_EVERY} <> 0 THEN i END,
            CASE WHEN status = 'draft' THEN NULL
                 WHEN status = 'scheduled' THEN {at("60 + i * :sf")}
                 ELSE {at("-60 - (:n - i) * :sp")} END,
            CASE status WHEN 'sent' THEN 1 WHEN 'failed' THEN 3 ELSE 0 END,
            :user,
            {at("-3600 - (:n - i) * :sp")},
            {at("-3600 - (:n - i) * :sp")}
        FROM mixed
    """


ITEMS_SQL = """
    INSERT INTO post_items (post_id, position, text)
    SELECT id, 0, 'Post ' || id || ': what we shipped this week, in one short paragraph, '
                  || 'with a link https://example.test/p/' || id || ' #onthedot'
    FROM posts ORDER BY id
"""


def _sqlite_ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def load_sqlite(path: Path, params: dict[str, Any]) -> float:
    """Bulk-load on a plain sqlite3 connection (one transaction); returns ANALYZE seconds.

    The secondary indexes of posts are dropped first and built again afterwards from their
    own stored definitions: one sort per index instead of a million scattered inserts. A
    rollback journal for the load writes each new page once instead of twice (WAL, then
    the checkpoint); the file is put back in WAL mode, as the application runs it.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB, for the load only
        conn.execute("BEGIN IMMEDIATE")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'posts' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(background_sql("sqlite"), {**params, "t0": _sqlite_ts(params["t0"])})
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute(ITEMS_SQL)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
        started = time.perf_counter()
        conn.execute("ANALYZE")
        return time.perf_counter() - started
    finally:
        conn.close()


# Secondary indexes of posts (not those behind a constraint), with their definitions.
PG_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = 'posts'
      AND indexname NOT IN (SELECT conname FROM pg_constraint)
"""


# What the foreign keys of posts would have refused (all posts are in one workspace).
DANGLING_SQL = """
    SELECT count(*) FROM posts
    WHERE workspace_id <> :ws
       OR channel_id NOT IN (SELECT id FROM channels WHERE workspace_id = :ws)
       OR created_by NOT IN (SELECT user_id FROM memberships WHERE workspace_id = :ws)
"""


async def load_postgres(engine: AsyncEngine, params: dict[str, Any]) -> float:
    """Bulk-load in one transaction; returns the seconds of VACUUM ANALYZE.

    As in load_sqlite, the secondary indexes of posts are built after the rows. Most of the
    rest is foreign-key triggers (three lookups per row); a superuser skips them for this
    transaction (`session_replication_role = replica`) and the references are checked in
    one pass afterwards instead.
    """
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        superuser = await conn.scalar(text("SELECT current_setting('is_superuser') = 'on'"))
        if superuser:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        indexes = (await conn.execute(text(PG_INDEXES))).all()
        for name, _ in indexes:
            await conn.exec_driver_sql(f'DROP INDEX "{name}"')
        await conn.execute(text(background_sql("postgresql")), params)
        for _, definition in indexes:
            await conn.exec_driver_sql(definition)
        await conn.execute(text(ITEMS_SQL))
        dangling = await conn.scalar(text(DANGLING_SQL), {"ws": params["ws"]})
        if dangling:
            raise RuntimeError(f"{dangling} loaded posts refer to rows that do not exist")
    started = time.perf_counter()
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM (ANALYZE) posts, post_items, channels"))
    return time.perf_counter() - started


async def seed(target: Target, size: int, opts: Options) -> tuple[Seeded, float, float]:
    """Migrate, create the workspace, channels and posts; returns (seeded, load s, analyze s)."""
    await asyncio.to_thread(migrate.upgrade, target.url)
    engine = create_engine(target.url)
    try:
        member = await create_channels(create_sessionmaker(engine))
        async with engine.begin() as conn:
            first_channel = int(
                await conn.scalar(
                    text("SELECT min(id) FROM channels WHERE workspace_id = :w"),
                    {"w": member.workspace_id},
                )
            )
            await conn.execute(insert(Post), fixture_rows(member, first_channel, opts))
        background = size - opts.fixture
        params: dict[str, Any] = {
            "n": background,
            "t0": T,
            "ws": member.workspace_id,
            "user": member.user_id,
            "ch0": first_channel,
            "sp": max(1, PAST_SECONDS // max(background, 1)),
            "sf": max(1, FUTURE_SECONDS // max(background, 1)),
        }
        started = time.perf_counter()
        if target.sqlite_path is not None:
            await engine.dispose()
            analyze_s = await asyncio.to_thread(load_sqlite, target.sqlite_path, params)
        else:
            analyze_s = await load_postgres(engine, params)
        load_s = time.perf_counter() - started - analyze_s
    finally:
        await engine.dispose()
    return Seeded(member, first_channel, background), load_s, analyze_s


# ---------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    run: Callable[[], Awaitable[int]]  # one transaction; returns how many posts it read
    guarded: Sequence[Executable]  # the statements the query-plan guard checks


@dataclass
class Prepared:
    """One seeded database of one size, with the engine and operations that measure it."""

    size: int
    seeded: Seeded
    load_s: float
    analyze_s: float
    engine: AsyncEngine
    ops: list[Operation]


@contextmanager
def recording(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs the engine sends, with their parameters as the driver gets them."""
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


def _table(statement: str) -> str:
    found = re.search(r"\bFROM\s+\"?(\w+)", statement, re.IGNORECASE)
    return found.group(1) if found else "?"


def _sqlite_plan_lines(rows: Sequence[Any]) -> list[str]:
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return lines


def _shorten_arrays(line: str) -> str:
    """'{651,652,…,701}' instead of fifty ids."""

    def short(match: re.Match[str]) -> str:
        items = match.group(1).split(",")
        if len(items) <= 4:
            return match.group(0)
        return "'{" + ",".join(items[:3]) + ",…," + items[-1] + "}'"

    return re.sub(r"'\{([^}]*)\}'", short, line)


def _pg_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


async def _pg_plan(conn: AsyncConnection, statement: str, parameters: Any) -> list[str]:
    """EXPLAIN ANALYZE the plan PostgreSQL runs for this statement on this connection.

    The driver prepares each statement once per connection and PostgreSQL switches a
    prepared statement to a generic plan (one made without the parameter values) after five
    runs when it looks no dearer, so the plan made with the values can be the wrong one to
    show. pg_prepared_statements says which kind ran; the generic one is shown through
    PREPARE and `plan_cache_mode = force_generic_plan`. All in a transaction rolled back.
    """
    raw = await conn.get_raw_connection()
    pg = raw.driver_connection
    assert pg is not None
    counts = await pg.fetchrow(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        statement,
    )
    generic, custom = (counts[0], counts[1]) if counts else (0, 0)
    options = "ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF"
    await pg.execute("BEGIN")
    try:
        if generic > custom:
            await pg.execute(f"PREPARE bench_plan AS {statement}")
            await pg.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            args = ", ".join(_pg_literal(v) for v in parameters)
            rows = await pg.fetch(f"EXPLAIN ({options}) EXECUTE bench_plan({args})")
            await pg.execute("DEALLOCATE bench_plan")
        else:
            rows = await pg.fetch(f"EXPLAIN ({options}) {statement}", *parameters)
    finally:
        await pg.execute("ROLLBACK")
    kind = "generic" if generic > custom else "custom"
    head = f"({kind} plan; this connection ran {generic} generic, {custom} custom)"
    return [head, *(_shorten_arrays(str(row[0])) for row in rows)]


async def plans(engine: AsyncEngine, op: Operation) -> tuple[list[str], list[str]]:
    """Plans of the statements one run of `op` sends, and the guard's findings."""
    with recording(engine) as seen:
        await op.run()
    lines: list[str] = []
    async with engine.connect() as conn:
        for statement, parameters in seen:
            lines.append(f"[{_table(statement)}]")
            if engine.dialect.name == "sqlite":
                result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                lines += ["  " + line for line in _sqlite_plan_lines(result.all())]
            else:
                lines += ["  " + line for line in await _pg_plan(conn, statement, parameters)]
        await conn.rollback()
    findings: list[str] = []
    for n, guarded in enumerate(op.guarded):
        # The guard disables sequential scans for the rest of the transaction: its own one.
        async with engine.connect() as conn:
            findings += [
                f"{f.query}: scans {f.table}"
                for f in await query_guard.explain(conn, f"{op.key}#{n}", guarded)
            ]
            await conn.rollback()
    return lines, findings


def operations(
    engine: AsyncEngine, seeded: Seeded, later_cursor: str, opts: Options
) -> list[Operation]:
    sessionmaker = create_sessionmaker(engine)
    due = queries.due_batch(horizon=T, limit=opts.batch)
    due_locking = queries.due_batch(horizon=T, limit=opts.batch).with_for_update(skip_locked=True)

    def batch(statement: Any) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            async with sessionmaker() as session:
                await session.begin()
                try:
                    return len((await session.scalars(statement)).all())
                finally:
                    await session.rollback()

        return run

    def page(cursor: str | None) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            # As the API runs it: one transaction, committed at the end.
            async with sessionmaker() as session, session.begin():
                _, rows, _ = await posts_service.queue_page(
                    session,
                    member=seeded.member,
                    channel_id=seeded.busy_channel,
                    cursor=cursor,
                    limit=opts.page,
                )
                assert all(len(p.items) == 1 for p in rows)
                return len(rows)

        return run

    page_after = (T + dt.timedelta(hours=(LATER_PAGE - 1) * opts.page), 0)
    ops = [Operation("due_batch", f"due batch (limit {opts.batch})", batch(due), [due])]
    if engine.dialect.name == "postgresql":
        ops.append(
            Operation(
                "due_batch_skip_locked",
                "due batch FOR UPDATE SKIP LOCKED",
                batch(due_locking),
                [due_locking],
            )
        )
    ops += [
        Operation(
            "queue_page_first",
            "queue page 1 (service)",
            page(None),
            [queries.queue_page(channel_id=seeded.busy_channel, after=None, limit=opts.page + 1)],
        ),
        Operation(
            "queue_page_later",
            f"queue page {LATER_PAGE} by cursor (service)",
            page(later_cursor),
            [
                queries.queue_page(
                    channel_id=seeded.busy_channel, after=page_after, limit=opts.page + 1
                )
            ],
        ),
    ]
    return ops


async def cursor_to_page(engine: AsyncEngine, seeded: Seeded, opts: Options) -> str:
    """The cursor a client holds after reading LATER_PAGE - 1 pages."""
    cursor: str | None = None
    async with create_sessionmaker(engine)() as session, session.begin():
        for _ in range(LATER_PAGE - 1):
            _, _, cursor = await posts_service.queue_page(
                session,
                member=seeded.member,
                channel_id=seeded.busy_channel,
                cursor=cursor,
                limit=opts.page,
            )
            assert cursor is not None, "the busy channel's queue is shorter than expected"
    assert cursor is not None
    return cursor


async def prepare(stack: AsyncExitStack, database: str, size: int, opts: Options) -> Prepared:
    log(f"{database}, {size:,} posts")
    target = await stack.enter_async_context(fresh_database(database, opts))
    seeded, load_s, analyze_s = await seed(target, size, opts)
    log(
        f"  {size:,} posts ({seeded.background:,} background + {opts.fixture:,} fixture): "
        f"bulk load {load_s:.1f} s, analyze {analyze_s:.1f} s"
    )
    # Pool of one: every run reuses one connection (and, on PostgreSQL, its prepared
    # statements), as a long-running broadcaster or web worker does.
    engine = create_engine(target.url, pool_size=1, max_overflow=0)
    stack.push_async_callback(engine.dispose)
    later = await cursor_to_page(engine, seeded, opts)
    return Prepared(
        size, seeded, load_s, analyze_s, engine, operations(engine, seeded, later, opts)
    )


async def run_database(database: str, opts: Options) -> list[SizeResult]:
    """Seed every size, then time them in alternation, so load on the machine hits all alike."""
    async with AsyncExitStack() as stack:
        dbs = [await prepare(stack, database, size, opts) for size in opts.sizes]
        measured: list[dict[str, OpResult]] = [{} for _ in dbs]
        for index, first in enumerate(dbs[0].ops):
            ops = [db.ops[index] for db in dbs]
            rows = [0] * len(dbs)
            for _ in range(WARMUP):
                for n, op in enumerate(ops):
                    rows[n] = await op.run()
            samples: list[list[float]] = [[] for _ in dbs]
            for round_ in range(opts.repeat):
                order = range(len(dbs)) if round_ % 2 == 0 else reversed(range(len(dbs)))
                for n in order:
                    started = time.perf_counter_ns()
                    await ops[n].run()
                    samples[n].append((time.perf_counter_ns() - started) / 1e6)
            for n, (db, op) in enumerate(zip(dbs, ops, strict=True)):
                plan, guard = await plans(db.engine, op)
                measured[n][op.key] = result = OpResult(op.label, rows[n], samples[n], plan, guard)
                log(
                    f"  {human(db.size):>5} {first.label:<36} median {result.median:8.3f} ms"
                    f"  p95 {result.p95:8.3f} ms  ({rows[n]} posts)"
                )
        return [
            SizeResult(database, db.size, db.seeded.background, db.load_s, db.analyze_s, ops)
            for db, ops in zip(dbs, measured, strict=True)
        ]


# ---------------------------------------------------------------------------------------
# Reporting


def _shape(lines: Sequence[str]) -> list[str]:
    """A plan without its numbers and run-time details: what changes when the plan does."""
    skipped = ("(generic plan", "(custom plan", "Buffers:", "Sort Method:", "Heap Blocks:")
    kept = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(skipped) or stripped.startswith("Rows Removed"):
            continue
        # Parameters ($1) and the values they stand for ('1'::bigint) are the same thing.
        stripped = re.sub(r"'[^']*'(::[\w ]+(\[\])?)?|\$\d+", "?", stripped)
        stripped = re.sub(r"\(ARRAY\[[^\]]*\]\)::[\w ]+\[\]|ARRAY\[[^\]]*\]", "?", stripped)
        kept.append(re.sub(r"\(actual[^)]*\)|\d+", "#", stripped))
    return kept


def compare(results: Sequence[SizeResult]) -> list[Comparison]:
    small, large = results[0], results[-1]
    out = []
    for key, op in large.ops.items():
        ratio = op.median / small.ops[key].median
        out.append(Comparison(key, op.label, ratio, "flat" if ratio < FLAT_BELOW else "grows"))
    return out


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu or platform.processor() or "?",
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": _load_average(),
    }


def _load_average() -> str:
    """The 1-minute load average: other work on the machine shows in every timing."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def render_text(info: dict[str, str], opts: Options, by_db: dict[str, list[SizeResult]]) -> str:
    out = [
        "onthedot queue benchmark: queue page and due batch vs. table size",
        f"machine: {info['platform']}, {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {info['postgres']}" if "postgres" in info else ""),
        f"settings: repeat {opts.repeat}, batch {opts.batch}, page {opts.page}, "
        f"{CHANNELS:,} channels, due spike of {opts.batch} posts at {T.isoformat()}, "
        f"busy channel queue {opts.busy_queue} posts",
        f"load average (1 min): {info['load_average_at_start']} at start, "
        f"{info['load_average_at_end']} at end",
    ]
    for database, results in by_db.items():
        sizes = [r.size for r in results]
        out += ["", f"== {database} ==", ""]
        for r in results:
            out.append(
                f"{r.size:>12,} posts: bulk load {r.load_s:6.1f} s, analyze {r.analyze_s:5.1f} s"
            )
        head = f"{'operation':<40}" + "".join(f"{human(s) + ' median (p95) ms':>26}" for s in sizes)
        head += f"{'ratio':>9}  verdict"
        out += ["", head, "-" * len(head)]
        comparisons = {c.key: c for c in compare(results)}
        for key, op in results[-1].ops.items():
            cells = "".join(
                f"{f'{r.ops[key].median:.3f} ({r.ops[key].p95:.3f})':>26}" for r in results
            )
            c = comparisons[key]
            out.append(f"{op.label:<40}{cells}{c.ratio:>8.2f}x  {c.verdict}")
        out += ["", f"plans at {results[-1].size:,} posts:"]
        for key, op in results[-1].ops.items():
            out.append(f"  {op.label} (returns {op.rows} posts):")
            out += ["    " + line for line in op.plan]
            if _shape(op.plan) != _shape(results[0].ops[key].plan):
                out.append(f"    -- differs at {results[0].size:,} posts:")
                out += ["    " + line for line in results[0].ops[key].plan]
            guard = "; ".join(op.guard) if op.guard else "no table scan"
            out.append(f"    query-plan guard: {guard}")
        out += ["", "verdict:"]
        for c in comparisons.values():
            out.append(
                f"  {database} {c.label}: {c.verdict} "
                f"({human(sizes[-1])}/{human(sizes[0])} median ratio {c.ratio:.2f}x)"
            )
    return "\n".join(out)


def render_json(info: dict[str, str], opts: Options, by_db: dict[str, list[SizeResult]]) -> str:
    doc: dict[str, Any] = {
        "benchmark": "queue",
        "machine": info,
        "settings": {
            **asdict(opts),
            "postgres_url": make_url(opts.postgres_url).render_as_string(hide_password=True),
            "channels": CHANNELS,
            "t": T.isoformat(),
        },
        "databases": {},
    }
    for database, results in by_db.items():
        doc["databases"][database] = {
            "sizes": [
                {
                    "posts": r.size,
                    "background_posts": r.background,
                    "load_s": round(r.load_s, 3),
                    "analyze_s": round(r.analyze_s, 3),
                    "operations": {
                        key: {
                            "label": op.label,
                            "rows": op.rows,
                            "median_ms": round(op.median, 4),
                            "p95_ms": round(op.p95, 4),
                            "plan": op.plan,
                            "guard_findings": op.guard,
                        }
                        for key, op in r.ops.items()
                    },
                }
                for r in results
            ],
            "comparison": [{**asdict(c), "ratio": round(c.ratio, 3)} for c in compare(results)],
        }
    return json.dumps(doc, indent=2)


# ---------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: Sequence[str] | None = None) -> Options:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1000,1000000", help="posts stored, comma-separated")
    ap.add_argument("--databases", default="sqlite,postgres", help="sqlite and/or postgres")
    ap.add_argument(
        "--postgres-url",
        default=os.environ.get(PG_ENV) or PG_DEFAULT,
        help=f"a server where a throwaway database is created (default ${PG_ENV} or {PG_DEFAULT})",
    )
    ap.add_argument("--repeat", type=int, default=200, help="timed runs per operation")
    ap.add_argument("--batch", type=int, default=500, help="due batch limit and spike size")
    ap.add_argument("--page", type=int, default=50, help="queue page size (1-200)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    args = ap.parse_args(argv)
    sizes = tuple(sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()}))
    databases = tuple(d.strip() for d in args.databases.split(",") if d.strip())
    opts = Options(
        sizes, databases, args.postgres_url, args.repeat, args.batch, args.page, args.format
    )
    if unknown := set(databases) - {"sqlite", "postgres"}:
        ap.error(f"unknown database(s): {', '.join(sorted(unknown))}; use sqlite and/or postgres")
    if not sizes or sizes[0] < opts.fixture:
        ap.error(f"every size must hold the {opts.fixture} fixture posts (--batch + 6 pages)")
    if opts.repeat < 1 or opts.batch < 1 or not 1 <= opts.page <= 200:
        ap.error("--repeat and --batch must be positive, --page between 1 and 200")
    return opts


async def main_async(opts: Options) -> int:
    info = machine()
    if "postgres" in opts.databases:
        try:
            info["postgres"] = await server_version(opts)
        except Exception as exc:  # any failure to connect
            safe = make_url(opts.postgres_url).render_as_string(hide_password=True)
            log(f"PostgreSQL is not reachable at {safe}: {exc}")
            log(f"set ${PG_ENV} or --postgres-url, or pass --databases sqlite")
            return 2
    by_db: dict[str, list[SizeResult]] = {}
    for database in opts.databases:
        by_db[database] = await run_database(database, opts)
    info["load_average_at_end"] = _load_average()
    if opts.format == "json":
        print(render_json(info, opts, by_db))
    else:
        print(render_text(info, opts, by_db))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(asyncio.run(main_async(parse_args(argv))))


if __name__ == "__main__":
    main()
