"""Group commit: the broadcaster's state changes, many per transaction.

When ten thousand posts fall due in one second, one transaction per state change would make
the database the bottleneck. Callers submit a change and await its future; the writer takes
everything submitted while the previous transaction ran and writes it in one, so under load
batches grow and the cost per change falls, and when idle a change is written at once.

The fenced transitions (`prepared`, `publishing`, `release`) answer whether the post's row
matched, i.e. whether this broadcaster still owns it. Outcomes and item results are written
in the same transactions. A transaction that fails (the database restarted, say) is retried
whole until it commits: nothing is half-written and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from onthedot.broadcaster import queries
from onthedot.clock import Clock
from onthedot.posts.models import PostStatus, PublishAttempt

log = logging.getLogger("onthedot.broadcaster")

# Parameters per statement: well under SQLite's and asyncpg's limits.
CHUNK = 900
# The fenced transitions, in the order a post goes through them.
KINDS = ("prepared", "publishing", "release")


@dataclass(slots=True)
class Transition:
    """A fenced move of one post: to `prepared`, to `publishing`, or back to the queue."""

    kind: str  # prepared | publishing | release
    post_id: int
    attempt: int
    future: asyncio.Future[bool]


@dataclass(slots=True)
class ItemsDone:
    """Where thread items landed, recorded before the next item replies to them."""

    rows: list[dict[str, Any]]
    future: asyncio.Future[None]


@dataclass(slots=True)
class Outcome:
    """How a try ended: the post's new state, what landed where, and the attempt record."""

    post_id: int
    attempt: int
    status: PostStatus
    now: dt.datetime
    tries: int
    retry_at: dt.datetime | None = None
    needs_check: bool = False
    last_error: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    future: asyncio.Future[None] | None = None


Op = Transition | ItemsDone | Outcome


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock,
        lease_for_publishing: Callable[[dt.datetime], dt.datetime],
        max_batch: int = 5000,
        retry_s: float = 0.5,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._lease = lease_for_publishing
        self._max_batch = max_batch
        self._retry_s = retry_s
        self._pending: list[Op] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0
        self.failures = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broadcaster-writer")

    async def close(self) -> None:
        """Write everything submitted so far, then stop."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def idle(self) -> None:
        await self._idle.wait()

    def transition(self, kind: str, post_id: int, attempt: int) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._submit(Transition(kind, post_id, attempt, future))
        return future

    def outcome(self, outcome: Outcome) -> asyncio.Future[None]:
        outcome.future = asyncio.get_running_loop().create_future()
        self._submit(outcome)
        return outcome.future

    def items(self, rows: list[dict[str, Any]]) -> asyncio.Future[None]:
        """Record where thread items landed, before the next item replies to them."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._submit(ItemsDone(rows, future))
        return future

    def _submit(self, op: Op) -> None:
        if self._closed and self._task is not None and self._task.done():
            raise RuntimeError("the broadcaster's writer is closed")
        self._pending.append(op)
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                if self._closed:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            results: dict[str, set[int]] | None = None
            while results is None:
                try:
                    results = await self._write(batch)
                except (OperationalError, DBAPIError, OSError) as exc:
                    # The database went away or a deadlock was broken: nothing of this
                    # batch was committed, so writing it again is safe.
                    self.failures += 1
                    log.warning("state write failed, retrying: %s", exc.__class__.__name__)
                    await asyncio.sleep(self._retry_s)
                except Exception as exc:
                    # A bug, not the database: fail these changes loudly and go on. Posts
                    # left `publishing` are recovered when their lease ends.
                    log.exception("state write failed for good")
                    self.failures += 1
                    self._fail(batch, exc)
                    break
            if results is None:
                continue
            self.transactions += 1
            for op in batch:
                if op.future is None or op.future.done():
                    continue
                if isinstance(op, Transition):
                    op.future.set_result(op.post_id in results[op.kind])
                else:
                    op.future.set_result(None)

    @staticmethod
    def _fail(
        batch: Sequence[Op],
        exc: Exception,
    ) -> None:
        for op in batch:
            if op.future is not None and not op.future.done():
                op.future.set_exception(exc)

    async def _write(self, batch: Sequence[Op]) -> dict[str, set[int]]:
        now = self._clock.now()
        groups: dict[tuple[str, int], list[int]] = defaultdict(list)
        outcomes: list[Outcome] = []
        item_rows: list[dict[str, Any]] = []
        for op in batch:
            if isinstance(op, Transition):
                groups[(op.kind, op.attempt)].append(op.post_id)
            elif isinstance(op, Outcome):
                outcomes.append(op)
                item_rows.extend(op.items)
            else:
                item_rows.extend(op.rows)
        matched: dict[str, set[int]] = {kind: set() for kind in KINDS}
        async with self._engine.begin() as conn:
            if item_rows:
                await conn.execute(queries.item_published(), item_rows)
            for (kind, attempt), ids in sorted(groups.items(), key=lambda g: KINDS.index(g[0][0])):
                matched[kind] |= await self._fenced(conn, kind, ids, attempt, now)
            if outcomes:
                await conn.execute(
                    queries.finish(),
                    [
                        {
                            "b_id": o.post_id,
                            "b_attempt": o.attempt,
                            "b_status": o.status,
                            "b_retry_at": o.retry_at,
                            "b_tries": o.tries,
                            "b_needs_check": o.needs_check,
                            "b_last_error": o.last_error,
                            "b_finished_at": (None if o.status == PostStatus.RETRY_WAIT else o.now),
                            "b_now": o.now,
                        }
                        for o in outcomes
                    ],
                )
                records = [r for o in outcomes for r in o.records]
                if records:
                    await conn.execute(insert(PublishAttempt), records)
        return matched

    async def _fenced(
        self, conn: AsyncConnection, kind: str, ids: list[int], attempt: int, now: dt.datetime
    ) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if kind == "prepared":
                stmt = queries.to_prepared(ids=chunk, attempt=attempt, now=now)
            elif kind == "publishing":
                stmt = queries.to_publishing(
                    ids=chunk, attempt=attempt, now=now, lease_until=self._lease(now)
                )
            else:
                stmt = queries.release(ids=chunk, attempt=attempt, now=now)
            found.update(r[0] for r in await conn.execute(stmt))
        return found
