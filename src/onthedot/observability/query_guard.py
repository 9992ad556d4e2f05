"""The query-plan guard: no query on a critical path may scan a whole table.

A single unindexed query on a hot path once took a whole scheduling product down. Every
statement in `CRITICAL_QUERIES` is run through EXPLAIN on the connected database:

- SQLite: `EXPLAIN QUERY PLAN`; a `SCAN <table>` step without an index is a finding.
- PostgreSQL: `EXPLAIN (FORMAT JSON)` with sequential scans disabled, so that the planner
  uses any index that can serve the query; a `Seq Scan` that remains means none can.

The tests run it on both databases and `onthedot doctor` on a live one. Covering a new query
is one line in `CRITICAL_QUERIES`.

Not listed, on purpose: the revenue reports, which read every stored Stripe event by design
(an analysis over the whole history, off every request path but the operator's reports).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from onthedot.accounts import queries as accounts_queries
from onthedot.broadcaster import jobs
from onthedot.broadcaster import queries as bq
from onthedot.channels import queries as channels_queries
from onthedot.media import queries as media_queries
from onthedot.posts import queries as posts_queries
from onthedot.posts.models import PostItem, PostItemMedia, PostStatus
from onthedot.reports import queries as reports_queries

# Representative arguments: the plan, not the rows, is what is checked.
_NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)

# A statement, or a statement with the parameters it needs bound (executemany writes).
Query = Executable | tuple[Executable, Mapping[str, Any]]

CRITICAL_QUERIES: Mapping[str, Callable[[], Query]] = {
    "auth.token_by_hash": lambda: accounts_queries.token_by_hash(token_hash="0" * 64),
    "accounts.membership_of": lambda: accounts_queries.membership_of(workspace_id=1, user_id=2),
    "accounts.members_of": lambda: accounts_queries.members_of(workspace_id=1),
    "accounts.tokens_of_workspace": lambda: accounts_queries.tokens_of(
        workspace_id=1, user_id=None
    ),
    "accounts.tokens_of_member": lambda: accounts_queries.tokens_of(workspace_id=1, user_id=2),
    # The broadcaster: every one also walks its index in order (see `ORDERED`).
    "broadcaster.due_channels": lambda: bq.due_channels(horizon=_NOW, limit=1000),
    "broadcaster.retry_channels": lambda: bq.retry_channels(horizon=_NOW, limit=1000),
    "broadcaster.expired_channels": lambda: bq.expired_channels(now=_NOW, limit=1000),
    "broadcaster.lock_channels": lambda: bq.lock_channels([1, 2, 3], limit=2),
    "broadcaster.claim_due": lambda: bq.claim_due(
        channel_ids=[1, 2], horizon=_NOW, me="b", lease_until=_NOW, since=_NOW - bq.DUE_SLACK
    ),
    "broadcaster.claim_retries": lambda: bq.claim_retries(
        channel_ids=[1, 2], horizon=_NOW, me="b", lease_until=_NOW
    ),
    "broadcaster.claim_expired": lambda: bq.claim_expired(
        channel_ids=[1, 2], now=_NOW, me="b", lease_until=_NOW
    ),
    "broadcaster.to_prepared": lambda: bq.to_prepared(ids=[1, 2], attempt=1, now=_NOW),
    "broadcaster.to_publishing": lambda: bq.to_publishing(
        ids=[1, 2], attempt=1, now=_NOW, lease_until=_NOW
    ),
    "broadcaster.release": lambda: bq.release(ids=[1, 2], attempt=1, now=_NOW),
    "broadcaster.renew_leases": lambda: bq.renew_leases(ids=[1, 2], attempt=1, lease_until=_NOW),
    "broadcaster.heartbeat": lambda: bq.heartbeat(me="b", now=_NOW),
    "broadcaster.dead_broadcasters": lambda: bq.dead_broadcasters(stale_before=_NOW),
    "broadcaster.expire_leases_of": lambda: bq.expire_leases_of(broadcaster_ids=["b"], now=_NOW),
    "broadcaster.forget_broadcasters": lambda: bq.forget_broadcasters(stopped_before=_NOW),
    "broadcaster.mark_stopped": lambda: bq.mark_stopped(broadcaster_ids=["b"], now=_NOW),
    # The outcome writes run as executemany; here with one row's parameters bound.
    "broadcaster.finish": lambda: (
        bq.finish(),
        dict(
            b_id=1,
            b_attempt=1,
            b_status=PostStatus.SENT,
            b_retry_at=None,
            b_tries=0,
            b_needs_check=False,
            b_last_error=None,
            b_finished_at=_NOW,
            b_now=_NOW,
        ),
    ),
    "broadcaster.item_published": lambda: (
        bq.item_published(),
        dict(b_id=1, b_network_id="n1", b_network_url=None, b_published_at=_NOW),
    ),
    "broadcaster.items_of": lambda: jobs.items_of([1, 2, 3]),
    "broadcaster.item_media_of": lambda: jobs.item_media_of([1, 2, 3]),
    "broadcaster.media_by_ids": lambda: jobs.media_by_ids([1, 2, 3]),
    "broadcaster.channels_by_ids": lambda: jobs.channels_by_ids([1, 2, 3]),
    "queue.page_first": lambda: posts_queries.queue_page(channel_id=1, after=None, limit=51),
    "queue.page_next": lambda: posts_queries.queue_page(channel_id=1, after=(_NOW, 10), limit=51),
    "queue.reflowable": lambda: posts_queries.reflowable(channel_id=1, now=_NOW),
    "queue.occupied_slots": lambda: posts_queries.occupied_slots(channel_id=1, now=_NOW),
    "queue.position_bounds": lambda: posts_queries.queue_position_bounds(channel_id=1),
    "queue.in_flight_count": lambda: posts_queries.in_flight_count(channel_id=1),
    "posts.page": lambda: posts_queries.posts_page(
        workspace_id=1, channel_id=None, status=None, before_id=None, limit=51
    ),
    "posts.page_by_status": lambda: posts_queries.posts_page(
        workspace_id=1, channel_id=None, status=PostStatus.SENT, before_id=100, limit=51
    ),
    "posts.page_by_channel": lambda: posts_queries.posts_page(
        workspace_id=1, channel_id=1, status=None, before_id=100, limit=51
    ),
    "posts.page_by_channel_status": lambda: posts_queries.posts_page(
        workspace_id=1, channel_id=1, status=PostStatus.SCHEDULED, before_id=None, limit=51
    ),
    "posts.group": lambda: posts_queries.group_posts(workspace_id=1, group_id="g"),
    "posts.one": lambda: posts_queries.post_in_workspace(workspace_id=1, post_id=7),
    "posts.by_ids": lambda: posts_queries.posts_by_ids(workspace_id=1, post_ids=[7, 8, 9]),
    "posts.channel_of_post": lambda: posts_queries.channel_of_post(workspace_id=1, post_id=7),
    "posts.attempts": lambda: posts_queries.attempts_page(post_id=7, before_id=None, limit=51),
    "posts.attempts_next": lambda: posts_queries.attempts_page(post_id=7, before_id=90, limit=51),
    "pause.hold": lambda: posts_queries.hold_for_pause(channel_id=1, now=_NOW),
    "resume.held_pinned_past": lambda: posts_queries.held_pinned_past(channel_id=1, now=_NOW),
    "resume.release_held": lambda: posts_queries.release_held(channel_id=1, now=_NOW),
    "posts.items_of": lambda: select(PostItem).where(PostItem.post_id.in_([1, 2, 3])),
    "posts.item_media_of": lambda: select(PostItemMedia).where(
        PostItemMedia.item_id.in_([1, 2, 3])
    ),
    "channels.page": lambda: channels_queries.channels_page(workspace_id=1, after_id=5, limit=51),
    "channels.in_workspace": lambda: channels_queries.channel_in_workspace(
        workspace_id=1, channel_id=1
    ),
    "channels.by_id_locked": lambda: channels_queries.channel_by_id(channel_id=1).with_for_update(),
    "channels.of_account": lambda: channels_queries.channel_of_account(
        workspace_id=1, network="mastodon", account_id="109"
    ),
    "channels.expired_connect_requests": lambda: channels_queries.expired_connect_requests(
        now=_NOW
    ),
    "accounts.first_owner": lambda: accounts_queries.first_owner(workspace_id=1),
    "channels.credentials_expiring": lambda: channels_queries.credentials_expiring(
        before=_NOW, limit=100
    ),
    "media.page": lambda: media_queries.media_page(workspace_id=1, after_id=5, limit=51),
    "media.by_ids": lambda: media_queries.media_by_ids(workspace_id=1, media_ids=[3, 4]),
    "reports.posts_due_in_minute": lambda: reports_queries.posts_due_in_minute(
        start=_NOW, end=_NOW + dt.timedelta(minutes=1), workspace_id=None
    ),
    "reports.posts_due_in_minute_of_workspace": lambda: reports_queries.posts_due_in_minute(
        start=_NOW, end=_NOW + dt.timedelta(minutes=1), workspace_id=1
    ),
}


# Queries that must also read their index in order: the broadcaster's claims take the oldest
# due posts, and a plan that sorts instead reads every due (or every scheduled) post first.
ORDERED_PREFIX = "broadcaster."


@dataclass(frozen=True)
class Finding:
    query: str
    table: str
    plan: str
    problem: str = "scans table '{table}' without an index"

    def __str__(self) -> str:
        return f"{self.query}: {self.problem.format(table=self.table)}\n{self.plan}"


_SORTS = "sorts every matching row of '{table}' instead of reading an index in order"


_SQLITE_SCAN = re.compile(r"^SCAN (\w+)")
# A search whose only constraint is a range on the rowid reads on to the end of the table.
# A skip-scan (`ANY(col)`) walks every distinct value of an unconstrained leading column.
_SQLITE_SKIP_SCAN = re.compile(r"^SEARCH (\w+) USING .*\bANY\(")
_SQLITE_ROWID_RANGE = re.compile(r"^SEARCH (\w+) USING INTEGER PRIMARY KEY \(rowid[<>]=?\?\)$")


def sqlite_findings(name: str, rows: list[tuple[Any, ...]]) -> list[Finding]:
    """Findings in SQLite's EXPLAIN QUERY PLAN rows.

    `SCAN t` reads the whole table, and `SCAN t USING INDEX i` the whole of an index, which
    costs the same as the table grows; only `SEARCH` steps bounded by an index are accepted.
    """
    plan = "\n".join(str(r[-1]) for r in rows)
    found = []
    for row in rows:
        detail = str(row[-1])
        match = (
            _SQLITE_SCAN.match(detail)
            or _SQLITE_ROWID_RANGE.match(detail)
            or _SQLITE_SKIP_SCAN.match(detail)
        )
        if name.startswith(ORDERED_PREFIX) and detail.startswith("USE TEMP B-TREE FOR ORDER BY"):
            found.append(Finding(name, "?", plan, _SORTS))
            continue
        if match is None or match.group(1) == "CONSTANT":
            continue
        found.append(Finding(name, match.group(1), plan))
    return found


def _pg_nodes(
    node: Mapping[str, Any], parent: Mapping[str, Any] | None = None
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    yield node, parent or {}
    for child in node.get("Plans", ()):
        yield from _pg_nodes(child, node)


def _pg_scans_table(
    node: Mapping[str, Any], parent: Mapping[str, Any], leading: Mapping[str, str]
) -> bool:
    kind = node.get("Node Type")
    if kind == "Seq Scan":
        return True
    if kind not in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
        return False
    # With sequential scans disabled the planner may walk a whole unrelated index instead,
    # either with no condition or with conditions on its later columns only: a table scan
    # in disguise. An index is only used well when its first column is constrained.
    # Likewise a range on the first column that then throws rows away with a filter (a
    # primary-key range read to the end of the table, say).
    condition = node.get("Index Cond")
    if condition is None:
        return True
    first = leading.get(str(node.get("Index Name")))
    if first is None:
        return False
    column = re.escape(first)
    if re.search(rf"\(+\s*{column}\b", condition) is None:
        return True
    equality = re.search(rf"\(+\s*{column}\)?(?:::[\w ]+?)?\s*=\s", condition)
    # A bitmap index scan's filter sits on the bitmap heap scan above it.
    filtered = "Filter" in node or (kind == "Bitmap Index Scan" and "Filter" in parent)
    return equality is None and filtered


def postgres_findings(
    name: str, plan_json: Any, leading: Mapping[str, str] | None = None
) -> list[Finding]:
    """Findings in a PostgreSQL JSON plan; `leading` maps index names to first columns."""
    if isinstance(plan_json, str):
        plan_json = json.loads(plan_json)
    root = plan_json[0]["Plan"]
    rendered = json.dumps(plan_json, indent=1)
    found = [
        Finding(name, str(n.get("Relation Name") or n.get("Index Name") or "?"), rendered)
        for n, parent in _pg_nodes(root)
        if _pg_scans_table(n, parent, leading or {})
    ]
    if name.startswith(ORDERED_PREFIX):
        found += [
            Finding(name, "?", rendered, _SORTS)
            for n, _ in _pg_nodes(root)
            if n.get("Node Type") in ("Sort", "Incremental Sort")
        ]
    return found


_PG_LEADING_COLUMNS = text(
    """
    SELECT c.relname, a.attname
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    """
)


async def _pg_leading_columns(conn: AsyncConnection) -> dict[str, str]:
    rows = await conn.execute(_PG_LEADING_COLUMNS)
    return {str(r[0]): str(r[1]) for r in rows}


@contextmanager
def _explaining(sync_conn: Connection, prefix: str, sink: list[Any]) -> Iterator[None]:
    """Prefix every statement with EXPLAIN and capture the raw plan rows.

    Going through the normal execution path means the statement's parameters are bound
    exactly as in production (types, UTC conversion), which is what the planner sees.
    """

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> Any:
        # A unique comment defeats the driver's prepared-statement cache, which can keep a
        # plan made before an index was created or dropped.
        return f"{prefix}/* plan-guard {uuid.uuid4().hex} */ {statement}", parameters

    def after(_c: Any, cursor: Any, *_args: Any) -> None:
        sink.extend(tuple(r) for r in cursor.fetchall())

    event.listen(sync_conn, "before_cursor_execute", before, retval=True)
    event.listen(sync_conn, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(sync_conn, "before_cursor_execute", before)
        event.remove(sync_conn, "after_cursor_execute", after)


async def explain(conn: AsyncConnection, name: str, query: Query) -> list[Finding]:
    """EXPLAIN one statement on this connection and return what scans a table."""
    statement, params = query if isinstance(query, tuple) else (query, None)
    dialect = conn.dialect.name
    sink: list[Any] = []
    if dialect == "postgresql":
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        prefix = "EXPLAIN (FORMAT JSON) "
    elif dialect == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    else:
        raise ValueError(f"no query-plan guard for {dialect}")
    sync_conn = conn.sync_connection
    assert sync_conn is not None
    with _explaining(sync_conn, prefix, sink):
        result = await conn.execute(statement, params)
        result.close()
    if dialect == "postgresql":
        return postgres_findings(name, sink[0][0], await _pg_leading_columns(conn))
    return sqlite_findings(name, sink)


async def check_all(
    conn: AsyncConnection, queries: Mapping[str, Callable[[], Query]] = CRITICAL_QUERIES
) -> list[Finding]:
    findings: list[Finding] = []
    for name, build in queries.items():
        findings += await explain(conn, name, build())
    return findings


async def check_engine(
    engine: AsyncEngine, queries: Mapping[str, Callable[[], Query]] = CRITICAL_QUERIES
) -> tuple[list[Finding], dict[str, str]]:
    """EXPLAIN every query on a live database (`onthedot doctor`), each in a transaction of
    its own that is rolled back, so one that cannot be planned (a schema behind its
    migrations) neither stops the others nor leaves anything behind. The findings, and the
    queries that could not be planned with the database's reason."""
    findings: list[Finding] = []
    failed: dict[str, str] = {}
    for name, build in queries.items():
        async with engine.connect() as conn:
            try:
                findings += await explain(conn, name, build())
            except DBAPIError as exc:
                reason = str(exc.orig or exc).strip().splitlines()
                failed[name] = reason[0] if reason else type(exc).__name__
            finally:
                await conn.rollback()
    return findings, failed
