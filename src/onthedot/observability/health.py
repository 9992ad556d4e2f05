"""Readiness: is this installation able to do its job right now?

Three checks, each with a reason an operator can act on:

- database: it answers a trivial query within a few seconds;
- migrations: the schema is at the head revision this code expects;
- broadcaster: where one is expected (`ONTHEDOT_BROADCASTER` is on, or broadcasters have
  registered), at least one heartbeat is fresh — younger than the five beats after which
  broadcasters take each other for dead.

Liveness (`/healthz`) touches nothing: a process that answers is alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from onthedot.clock import Clock
from onthedot.config import Settings
from onthedot.db import migrate
from onthedot.observability.metrics import STALE_BEATS
from onthedot.posts.models import Broadcaster as BroadcasterRow

__all__ = ["Check", "Readiness", "readiness"]

TIMEOUT_S: Final = 3.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def body(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
            "failed": [c.name for c in self.checks if not c.ok],
        }


def last_live_heartbeat() -> Select[Any]:
    """The freshest heartbeat of the broadcasters that did not say they stopped."""
    return select(func.max(BroadcasterRow.heartbeat_at)).where(BroadcasterRow.stopped_at.is_(None))


def last_stop() -> Select[Any]:
    """When a broadcaster last stopped (None: none ever registered and stopped)."""
    return select(func.max(BroadcasterRow.stopped_at)).where(BroadcasterRow.stopped_at.is_not(None))


# Checked by the query-plan guard in the tests.
HEALTH_QUERIES: Final[Mapping[str, Callable[[], Any]]] = {
    "health.last_live_heartbeat": last_live_heartbeat,
    "health.last_stop": last_stop,
}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


async def _broadcaster(conn: AsyncConnection, settings: Settings, now: dt.datetime) -> Check | None:
    live = (await conn.execute(last_live_heartbeat())).scalar_one_or_none()
    stopped = (await conn.execute(last_stop())).scalar_one_or_none()
    if not settings.broadcaster and live is None and stopped is None:
        return None  # an API on its own, and no broadcaster ever ran: nothing to expect
    if live is None:
        why = (
            "every broadcaster has stopped"
            if stopped is not None
            else "no broadcaster has registered"
        )
        return Check("broadcaster", False, f"{why}: start `onthedot broadcaster`")
    age = (now - _utc(live)).total_seconds()
    limit = STALE_BEATS * settings.heartbeat_s
    if age > limit:
        return Check(
            "broadcaster",
            False,
            f"the freshest broadcaster heartbeat is {age:.0f} s old (limit {limit:g} s)",
        )
    return Check("broadcaster", True, f"last heartbeat {age:.1f} s ago")


async def readiness(engine: AsyncEngine, settings: Settings, *, clock: Clock) -> Readiness:
    checks: list[Check] = []
    try:
        async with asyncio.timeout(TIMEOUT_S), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            checks.append(Check("database", True, "reachable"))
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
            head = _head_revision()
            if current != head:
                checks.append(
                    Check(
                        "migrations",
                        False,
                        f"the database is at {current or 'no migration'}, the code expects "
                        f"{head}: run `onthedot db upgrade`",
                    )
                )
                # The broadcasters' table may not even exist yet: nothing more to ask.
                return Readiness(checks)
            checks.append(Check("migrations", True, f"at head ({head})"))
            found = await _broadcaster(conn, settings, clock.now())
            if found is not None:
                checks.append(found)
    except Exception as exc:  # whatever stops the database from answering is the reason
        lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        checks = [c for c in checks if c.name != "database"]
        checks.insert(0, Check("database", False, f"unreachable: {reason}"))
    return Readiness(checks)


@functools.cache
def _head_revision() -> str | None:
    return migrate.head_revision()
