"""Prometheus metrics: what onthedot exports, on a registry each app or process owns.

`Metrics` holds every metric on one `CollectorRegistry`; the API builds one per app and a
broadcaster process one per process, so tests never share counters. Durations of onthedot's
own work are measured with `time.perf_counter`; lateness, a distance from a post's due time,
with the injected clock.

Database figures (queue depth by state, overdue posts, live and stale broadcasters) are read
on each scrape with a few index-bounded counts (`DatabaseGauges`), never a scan; the query
guard checks them in the tests (`METRICS_QUERIES`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import Select, event, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.clock import Clock
from onthedot.posts.models import Broadcaster as BroadcasterRow
from onthedot.posts.models import Post, PostStatus

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DatabaseGauges",
    "Metrics",
    "instrument_engine",
]

log = logging.getLogger("onthedot.metrics")

LATENESS_BUCKETS: Final = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
)  # fmt: skip
QUERY_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)  # fmt: skip
HTTP_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
CLAIM_BUCKETS: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS: Final = (1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)

# Posts in these states are counted for `onthedot_queue_posts`. The finished ones (sent,
# failed, missed) and drafts only grow, so they are not; queued ones (scheduled, held) are
# counted up to `QUEUE_WINDOW_S` ahead, so a scrape costs the same with a year of queue.
QUEUE_STATES: Final = (
    PostStatus.CLAIMED,
    PostStatus.PREPARED,
    PostStatus.PUBLISHING,
    PostStatus.RETRY_WAIT,
    PostStatus.UNKNOWN,
)
QUEUED_STATES: Final = (PostStatus.SCHEDULED, PostStatus.HELD)
QUEUE_WINDOW_S: Final = 3600.0
# A post due longer ago than this and still unclaimed was missed by every broadcaster: they
# claim posts up to the prepare lead time ahead.
OVERDUE_GRACE_S: Final = 10.0
# Beats a broadcaster may miss before it counts as stale (the broadcasters' own rule).
STALE_BEATS: Final = 5


class Metrics:
    """Every metric onthedot exports, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.lateness = Histogram(
            "onthedot_publish_lateness_seconds",
            "How long after its due time a post's publish call started, per network.",
            ["network"],
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.outcomes = Counter(
            "onthedot_publish_outcomes",
            "How publish tries ended: sent, retry, rate_limited, failed or unknown.",
            ["network", "result"],
            registry=r,
        )
        self.attempts = Counter(
            "onthedot_publish_attempts",
            "Posts moved to publishing (each one try at the network).",
            ["network"],
            registry=r,
        )
        self.retries = Counter(
            "onthedot_publish_retries",
            "Tries that ended in a transient error and were scheduled again.",
            ["network"],
            registry=r,
        )
        self.rate_limit_waits = Counter(
            "onthedot_rate_limit_waits",
            "Posts held back, without using a try, until their account's or network's reset.",
            ["network"],
            registry=r,
        )
        self.reconciliations = Counter(
            "onthedot_reconciliations",
            "Posts looked for on the network before another try: found, not_found, unknown.",
            ["network", "result"],
            registry=r,
        )
        self.in_flight = Gauge(
            "onthedot_publish_in_flight", "Publish calls open right now.", registry=r
        )
        self.held = Gauge(
            "onthedot_posts_held",
            "Posts this broadcaster has claimed and not yet finished.",
            registry=r,
        )
        self.claimed = Counter(
            "onthedot_posts_claimed",
            "Posts claimed, by kind: due, retry, or expired (taken over from a dead owner).",
            ["kind"],
            registry=r,
        )
        self.claimed_overdue = Counter(
            "onthedot_posts_claimed_overdue",
            "Posts claimed after their due time: every broadcaster was down or behind.",
            registry=r,
        )
        self.claim_batch = Histogram(
            "onthedot_claim_batch_size",
            "Posts per claim.",
            ["kind"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.claim_duration = Histogram(
            "onthedot_claim_duration_seconds",
            "How long one claim took (candidates, channel locks, the claim itself).",
            ["kind"],
            buckets=CLAIM_BUCKETS,
            registry=r,
        )
        self.released = Counter(
            "onthedot_posts_released", "Claimed posts handed back on a stop.", registry=r
        )
        self.fenced = Counter(
            "onthedot_posts_fenced",
            "Posts skipped because another owner (or a pause) took them over.",
            registry=r,
        )
        self.loop_errors = Counter(
            "onthedot_broadcaster_loop_errors",
            "Rounds of the broadcaster's loops that failed on the database.",
            ["loop"],
            registry=r,
        )
        self.heartbeat = Gauge(
            "onthedot_broadcaster_heartbeat_timestamp_seconds",
            "When this broadcaster last recorded its heartbeat (Unix time).",
            ["broadcaster"],
            registry=r,
        )
        self.queue = Gauge(
            "onthedot_queue_posts",
            f"Posts per state; scheduled and held ones due within {QUEUE_WINDOW_S:g} s.",
            ["state"],
            registry=r,
        )
        self.overdue = Gauge(
            "onthedot_overdue_posts",
            f"Posts due (or due to retry) over {OVERDUE_GRACE_S:g} s ago that no one claimed.",
            registry=r,
        )
        self.broadcasters = Gauge(
            "onthedot_broadcasters",
            "Registered broadcasters that did not stop: alive, or stale (missed beats).",
            ["state"],
            registry=r,
        )
        self.refresh_errors = Counter(
            "onthedot_metrics_refresh_errors",
            "Scrapes whose database figures could not be read.",
            registry=r,
        )
        self.query_duration = Histogram(
            "onthedot_db_query_duration_seconds",
            "Database statements by name (the query guard's names; `other` for the rest).",
            ["query"],
            buckets=QUERY_BUCKETS,
            registry=r,
        )
        self.http_duration = Histogram(
            "onthedot_http_request_duration_seconds",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# --- database query durations ------------------------------------------------------------


def _named_statements() -> Mapping[str, Callable[[], Any]]:
    from onthedot.observability.query_guard import CRITICAL_QUERIES

    return {**CRITICAL_QUERIES, **METRICS_QUERIES}


# Compiled once per kind of database: the same statements compile to the same text for every
# engine of one dialect and driver (a pure memo, shared by tests without harm).
_NAMES: dict[tuple[str, str, str], dict[str, str]] = {}


def _names_for(dialect: Dialect) -> dict[str, str]:
    key = (dialect.name, dialect.driver, str(dialect.paramstyle))
    names = _NAMES.get(key)
    if names is None:
        names = _NAMES[key] = _compile_names(dialect)
    return names


def _compile_names(dialect: Dialect) -> dict[str, str]:
    """Compiled SQL text to query name. A statement compiles to the same text whatever its
    parameters (lists expand only at execution), so this finds the name of what runs."""
    names: dict[str, str] = {}
    for name, build in _named_statements().items():
        built = build()
        statement = built[0] if isinstance(built, tuple) else built
        names.setdefault(str(statement.compile(dialect=dialect)), name)
    return names


def instrument_engine(engine: AsyncEngine, metrics: Metrics) -> Callable[[], None]:
    """Time every statement on `engine` by query name; returns the function that stops it."""
    names = _names_for(engine.dialect)
    histogram = metrics.query_duration
    children: dict[str, Any] = {}

    def before(
        _conn: Any, _cursor: Any, _stmt: str, _params: Any, context: Any, _many: Any
    ) -> None:
        if context is not None:
            context._onthedot_started = time.perf_counter()

    def after(_c: Any, _cur: Any, _stmt: str, _params: Any, context: Any, _many: Any) -> None:
        started = getattr(context, "_onthedot_started", None)
        if started is None:
            return
        compiled = getattr(context, "compiled", None)
        name = names.get(compiled.string, "other") if compiled is not None else "other"
        child = children.get(name)
        if child is None:
            child = children[name] = histogram.labels(name)
        child.observe(time.perf_counter() - started)

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)

    def stop() -> None:
        event.remove(sync, "before_cursor_execute", before)
        event.remove(sync, "after_cursor_execute", after)

    return stop


# --- figures read from the database on each scrape ---------------------------------------


def posts_in_state(*, state: PostStatus) -> Select[int]:
    """Posts in one state: a count on the state's index, for states a post only passes
    through (bounded by what broadcasters hold) or leaves when a person acts."""
    return select(func.count()).where(Post.status == state)


def posts_due_in_state(*, state: PostStatus, until: dt.datetime) -> Select[int]:
    """Queued posts due up to `until`: the queue's near end, whatever its length."""
    return select(func.count()).where(Post.status == state, Post.due_at <= until)


def overdue_scheduled(*, before: dt.datetime) -> Select[int]:
    """Scheduled posts due before `before`: no broadcaster claimed them in time."""
    return select(func.count()).where(Post.status == PostStatus.SCHEDULED, Post.due_at < before)


def overdue_retries(*, before: dt.datetime) -> Select[int]:
    """Retries due before `before` that no broadcaster claimed."""
    return select(func.count()).where(Post.status == PostStatus.RETRY_WAIT, Post.retry_at < before)


def live_broadcasters(*, stale_before: dt.datetime, alive: bool) -> Select[int]:
    """Broadcasters that did not say they stopped, with a fresh (or a stale) heartbeat."""
    fresh = BroadcasterRow.heartbeat_at >= stale_before
    return select(func.count()).where(
        BroadcasterRow.stopped_at.is_(None), fresh if alive else ~fresh
    )


_AT: Final = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
# Checked by the query-plan guard in the tests, like `CRITICAL_QUERIES`.
METRICS_QUERIES: Final[Mapping[str, Callable[[], Any]]] = {
    "metrics.posts_in_state": lambda: posts_in_state(state=PostStatus.PUBLISHING),
    "metrics.posts_due_in_state": lambda: posts_due_in_state(state=PostStatus.SCHEDULED, until=_AT),
    "metrics.overdue_scheduled": lambda: overdue_scheduled(before=_AT),
    "metrics.overdue_retries": lambda: overdue_retries(before=_AT),
    "metrics.broadcasters_alive": lambda: live_broadcasters(stale_before=_AT, alive=True),
    "metrics.broadcasters_stale": lambda: live_broadcasters(stale_before=_AT, alive=False),
}


class DatabaseGauges:
    """Refreshes the database figures of `metrics`; the scrape handlers await `refresh`."""

    def __init__(
        self,
        metrics: Metrics,
        engine: AsyncEngine,
        *,
        clock: Clock,
        heartbeat_s: float,
        timeout_s: float = 5.0,
    ) -> None:
        self._metrics = metrics
        self._engine = engine
        self._clock = clock
        self._heartbeat_s = heartbeat_s
        self._timeout_s = timeout_s

    async def refresh(self) -> bool:
        """Read the figures; False (and the old values kept) when the database did not answer."""
        now = self._clock.now()
        stale = now - dt.timedelta(seconds=STALE_BEATS * self._heartbeat_s)
        overdue_before = now - dt.timedelta(seconds=OVERDUE_GRACE_S)
        try:
            async with asyncio.timeout(self._timeout_s), self._engine.connect() as conn:
                until = now + dt.timedelta(seconds=QUEUE_WINDOW_S)
                states = {
                    state: (
                        await conn.execute(posts_due_in_state(state=state, until=until))
                    ).scalar_one()
                    for state in QUEUED_STATES
                }
                for state in QUEUE_STATES:
                    states[state] = (await conn.execute(posts_in_state(state=state))).scalar_one()
                overdue = (
                    await conn.execute(overdue_scheduled(before=overdue_before))
                ).scalar_one()
                overdue += (await conn.execute(overdue_retries(before=overdue_before))).scalar_one()
                alive = (
                    await conn.execute(live_broadcasters(stale_before=stale, alive=True))
                ).scalar_one()
                dead = (
                    await conn.execute(live_broadcasters(stale_before=stale, alive=False))
                ).scalar_one()
        except Exception as exc:  # the scrape must answer even while the database is down
            self._metrics.refresh_errors.inc()
            log.warning("could not read the database figures: %s", type(exc).__name__)
            return False
        for state, count in states.items():
            self._metrics.queue.labels(state.value).set(count)
        self._metrics.overdue.set(overdue)
        self._metrics.broadcasters.labels("alive").set(alive)
        self._metrics.broadcasters.labels("stale").set(dead)
        return True
