"""`onthedot doctor`: what is wrong with this installation, and the fix for each finding.

It looks at the configured database as it is (SQLite or PostgreSQL, with its real
statistics): the schema against the migrations, every critical query's plan (the query-plan
guard's `CRITICAL_QUERIES`, through EXPLAIN: nothing is executed), the clock of this host
against the database's, and whether any broadcaster is alive. Read-only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from sqlalchemy import Index, Select, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex

from onthedot.clock import Clock, SystemClock
from onthedot.config import Settings
from onthedot.db.engine import create_engine, normalise_url, safe_url
from onthedot.db.models import Base
from onthedot.observability import query_guard
from onthedot.observability.health import HEALTH_QUERIES, last_live_heartbeat, last_stop
from onthedot.observability.metrics import METRICS_QUERIES, STALE_BEATS
from onthedot.posts.models import Broadcaster

__all__ = ["Check", "Level", "diagnose", "doctor"]

# Beyond these, this host and the database disagree about the time enough to matter: a
# broadcaster whose clock runs ahead publishes early by as much.
SKEW_WARN_S: Final = 0.1
SKEW_FAIL_S: Final = 1.0
# A broadcaster that missed this many heartbeats is taken for dead (as the broadcasters do).
UPGRADE: Final = "run `onthedot db upgrade`"


class Level(StrEnum):
    OK = "ok"
    SKIP = "skip"  # the check does not apply here; not a problem
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    check: str
    level: Level
    message: str
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def wrong(self) -> bool:
        return self.level in (Level.WARN, Level.FAIL)

    def line(self) -> str:
        shown = self.level.value.upper() if self.wrong else self.level.value
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{shown:<4}  {self.check:<12}  {self.message}{fix}"


# --- migrations ------------------------------------------------------------------------------


async def check_migrations(engine: AsyncEngine) -> Check:
    # Imported here: Alembic is slow to import, and every `onthedot` command imports this
    # module to register `doctor`.
    from alembic.script import ScriptDirectory

    from onthedot.db import migrate

    current = await migrate.current_revision(engine)
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = script.get_current_head()
    details: dict[str, Any] = {"current": current, "head": head}
    if current == head:
        return Check("migrations", Level.OK, f"at {head} (head)", details=details)
    if current is None:
        return Check(
            "migrations", Level.FAIL, "the database has no onthedot schema yet", UPGRADE, details
        )
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        return Check(
            "migrations",
            Level.FAIL,
            f"at {current}, a migration this version of onthedot does not know (a newer "
            "onthedot migrated this database)",
            "run the onthedot version that migrated it, or upgrade this installation to it",
            details,
        )
    assert head is not None
    pending = [rev.revision for rev in script.iterate_revisions(head, current)]
    details["pending"] = pending[::-1]
    return Check(
        "migrations",
        Level.FAIL,
        f"at {current}, behind {head}: {len(pending)} migration(s) not applied "
        f"({', '.join(pending[::-1])})",
        UPGRADE,
        details,
    )


# --- query plans ----------------------------------------------------------------------------


def _missing_indexes(sync_conn: Connection) -> list[tuple[Index, str]]:
    """Indexes the models declare that the database lacks, each with its CREATE statement."""
    found = inspect(sync_conn)
    tables = set(found.get_table_names())
    missing = []
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            continue
        live = {ix["name"] for ix in found.get_indexes(table.name)}
        live |= {uc["name"] for uc in found.get_unique_constraints(table.name)}
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            if index.name not in live:
                ddl = str(CreateIndex(index).compile(dialect=sync_conn.dialect))
                missing.append((index, " ".join(ddl.split())))
    return missing


def _plan_fix(
    table: str, missing: Sequence[tuple[Index, str]], behind: bool
) -> tuple[str, list[str]]:
    statements = [
        ddl
        for index, ddl in missing
        if index.table is not None and table in ("?", index.table.name)
    ]
    if statements:
        what = "recreate the missing index" if len(statements) == 1 else "recreate the indexes"
        return f"{what}: {'; '.join(statements)}", statements
    if behind:
        return UPGRADE, []
    return (
        "no index of onthedot's schema serves this query here: check the schema with "
        "`onthedot db check`, and report the plan (`onthedot doctor --format json`)",
        [],
    )


def _named_queries() -> dict[str, Any]:
    """Every named query a process runs over and over: the critical paths', and those behind
    /metrics and /readyz, which a scraper calls every few seconds."""
    return {
        **query_guard.CRITICAL_QUERIES,
        **METRICS_QUERIES,
        **HEALTH_QUERIES,
        **DOCTOR_QUERIES,
    }


async def check_query_plans(engine: AsyncEngine, *, behind: bool) -> list[Check]:
    """One line per critical query that would scan or sort, or one `ok` line."""
    queries = _named_queries()
    findings, failed = await query_guard.check_engine(engine, queries)
    async with engine.connect() as conn:
        missing = await conn.run_sync(_missing_indexes)
    checks = []
    by_query: dict[str, list[query_guard.Finding]] = {}
    for finding in findings:
        by_query.setdefault(finding.query, []).append(finding)
    for query, found in by_query.items():
        problems = "; ".join(dict.fromkeys(f.problem.format(table=f.table) for f in found))
        fix, statements = _plan_fix(found[0].table, missing, behind)
        checks.append(
            Check(
                "query plan",
                Level.FAIL,
                f"{query} {problems}",
                fix,
                {"query": query, "plan": found[0].plan, "statements": statements},
            )
        )
    if failed:
        first = next(iter(failed.items()))
        checks.append(
            Check(
                "query plan",
                Level.FAIL,
                f"{len(failed)} critical queries cannot be planned on this schema (first: "
                f"{first[0]}: {first[1]})",
                UPGRADE if behind else "check the schema with `onthedot db check`",
                {"failed": failed},
            )
        )
    if not checks:
        count = len(queries)
        checks.append(
            Check(
                "query plans",
                Level.OK,
                f"all {count} critical queries read through an index (EXPLAIN)",
                details={"queries": count},
            )
        )
    return checks


# --- clock ----------------------------------------------------------------------------------


async def check_clock(engine: AsyncEngine, *, clock: Clock) -> Check:
    if engine.dialect.name != "postgresql":
        return Check(
            "clock",
            Level.SKIP,
            "SQLite is a file on this host: there is no second clock to compare",
        )
    async with engine.connect() as conn:
        before = clock.now()
        # clock_timestamp(), not now(): now() is when the transaction began.
        database = (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()
        after = clock.now()
    if not isinstance(database, dt.datetime) or database.tzinfo is None:
        raise TypeError(f"clock_timestamp() returned {database!r}")
    half_trip = (after - before).total_seconds() / 2
    # Positive: this host is ahead of the database.
    skew = (before + (after - before) / 2 - database).total_seconds()
    certain = max(0.0, abs(skew) - half_trip)
    direction = "ahead of" if skew > 0 else "behind"
    message = (
        f"this host's clock is {abs(skew):.3f} s {direction} the database's (±{half_trip:.3f} s)"
    )
    details = {"skew_s": skew, "uncertainty_s": half_trip}
    if certain <= SKEW_WARN_S:
        return Check("clock", Level.OK, message, details=details)
    level = Level.FAIL if certain > SKEW_FAIL_S else Level.WARN
    fix = (
        f"sync the clock with NTP (chrony or systemd-timesyncd) on this host and on the "
        f"database's: skew {abs(skew):.1f} s; a broadcaster whose clock runs ahead publishes early"
    )
    return Check("clock", level, message, fix, details)


# --- broadcasters ---------------------------------------------------------------------------


def alive_since(*, stale_before: dt.datetime) -> Select[int, dt.datetime]:
    """Broadcasters heartbeating since `stale_before` (the (stopped_at, heartbeat_at) index)."""
    return select(func.count(), func.max(Broadcaster.heartbeat_at)).where(
        Broadcaster.stopped_at.is_(None), Broadcaster.heartbeat_at >= stale_before
    )


_AT: Final = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
# Checked by the query-plan guard, like the queries behind /metrics and /readyz.
DOCTOR_QUERIES: Final[Mapping[str, Callable[[], Any]]] = {
    "doctor.alive_since": lambda: alive_since(
        stale_before=dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    ),
}


async def check_broadcasters(engine: AsyncEngine, *, clock: Clock, heartbeat_s: float) -> Check:
    now = clock.now()
    window = STALE_BEATS * heartbeat_s
    async with engine.connect() as conn:
        alive, latest = (
            await conn.execute(alive_since(stale_before=now - dt.timedelta(seconds=window)))
        ).one()
        # A broadcaster that died without saying so keeps its last heartbeat.
        last = (await conn.execute(last_live_heartbeat())).scalar_one()
        stopped = None if last is not None else (await conn.execute(last_stop())).scalar_one()
    if alive:
        assert isinstance(latest, dt.datetime)
        ago = (now - latest).total_seconds()
        return Check(
            "broadcaster",
            Level.OK,
            f"{alive} running (latest heartbeat {max(ago, 0.0):.1f} s ago)",
            details={"alive": alive},
        )
    if last is None and stopped is not None:
        seen = f"the last one stopped at {stopped:%Y-%m-%d %H:%M:%S} UTC"
    elif last is None:
        seen = "none has ever started"
    else:
        ago = (now - last).total_seconds()
        seen = f"the last heartbeat was {ago:.0f} s ago ({last:%Y-%m-%d %H:%M:%S} UTC)"
    return Check(
        "broadcaster",
        Level.WARN,
        f"no broadcaster heartbeated in the last {window:g} s, so no post goes out; {seen}",
        "start `onthedot broadcaster` (or `onthedot run` with ONTHEDOT_BROADCASTER=true)",
        {"alive": 0},
    )


# --- all of it ------------------------------------------------------------------------------


async def diagnose(engine: AsyncEngine, *, clock: Clock, heartbeat_s: float) -> list[Check]:
    """Every check against one database, in order; stops after one that makes the rest
    meaningless (no database, no schema)."""
    try:
        migrations = await check_migrations(engine)
    except (OSError, DBAPIError) as exc:
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        return [
            Check(
                "database",
                Level.FAIL,
                f"cannot reach {safe_url(engine.url)}: {reason}",
                "start the database, or set ONTHEDOT_DATABASE_URL to the right one",
            )
        ]
    checks = [migrations]
    if migrations.details.get("current") is None:
        return checks
    behind = migrations.level != Level.OK
    checks += await check_query_plans(engine, behind=behind)
    checks.append(await check_clock(engine, clock=clock))
    try:
        checks.append(await check_broadcasters(engine, clock=clock, heartbeat_s=heartbeat_s))
    except DBAPIError:
        checks.append(
            Check(
                "broadcaster",
                Level.FAIL,
                "cannot read the broadcasters' heartbeats (no such table yet)",
                UPGRADE,
            )
        )
    return checks


def to_json(checks: Sequence[Check], database: str) -> dict[str, Any]:
    return {
        "ok": not any(c.wrong for c in checks),
        "database": database,
        "checks": [{**asdict(c), "level": c.level.value} for c in checks],
    }


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def _sqlite_file_missing(url: str) -> Path | None:
    engine_url = normalise_url(url)
    database = engine_url.database
    if engine_url.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    path = Path(database)
    return None if path.exists() else path.resolve()


def doctor(
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = (
        Format.TABLE
    ),
) -> None:
    """Check the configured database and the broadcasters: query plans that would scan or
    sort, missing migrations, clock skew, no broadcaster running. Each finding comes with its
    fix. Exits 1 when anything is wrong (a WARN or a FAIL), 0 otherwise."""
    settings = Settings()
    url = safe_url(settings.database_url)
    missing_file = _sqlite_file_missing(settings.database_url)
    if missing_file is not None:
        # Connecting would create an empty file; say what is wrong instead.
        checks = [
            Check(
                "database",
                Level.FAIL,
                f"there is no SQLite database at {missing_file}",
                f"{UPGRADE} to create it, or set ONTHEDOT_DATABASE_URL to the right file",
            )
        ]
    else:

        async def run() -> list[Check]:
            engine = create_engine(settings.database_url)
            try:
                return await diagnose(engine, clock=SystemClock(), heartbeat_s=settings.heartbeat_s)
            finally:
                await engine.dispose()

        checks = asyncio.run(run())
    if format == Format.JSON:
        typer.echo(json.dumps(to_json(checks, url), indent=2, default=str))
    else:
        typer.echo(f"onthedot doctor: {url}")
        for check in checks:
            typer.echo(check.line())
    if any(c.wrong for c in checks):
        raise typer.Exit(1)
