"""The broadcaster: claims due posts ahead of time and publishes each at its due instant.

How a post goes out:

1. The loader claims the posts due within the prepare lead time, in batches (see
   `queries`); each claim bumps the post's fencing token and gives it a lease.
2. Each claimed post is prepared at once (`Adapter.prepare`: uploads, containers) and waits
   on one timer heap for its due instant.
3. At that instant it joins its channel's lane. A lane publishes one post at a time, in
   queue order, so a channel's posts due together go out in order and one large account
   holds one slot of the shared pool, not all of them.
4. With a slot of the global and the per-network pool, the post is moved to `publishing`
   (committed, fenced), then `Adapter.commit` is called: never before the due instant.
5. The outcome (sent, retry_wait, failed, unknown) is written with an attempt record.

A post found `publishing` after its broadcaster died is looked for on the network before
anything is sent again (`Adapter.find`). Rate limits hold the account (or the network)
until the reset without using up a try; transient errors back off with jitter until a
deadline; permanent errors fail with the network's reason, and a revoked token pauses the
channel. On a graceful stop, posts not yet publishing are handed back.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import heapq
import itertools
import logging
import os
import random
import socket
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from onthedot.broadcaster import queries
from onthedot.broadcaster.jobs import Loaded, load
from onthedot.broadcaster.lock import SingleBroadcasterLock
from onthedot.broadcaster.writer import Outcome, Writer
from onthedot.clock import Clock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import (
    Adapter,
    AuthRevoked,
    CannotTell,
    NetworkError,
    Permanent,
    Prepared,
    Published,
    RateLimited,
    Transient,
)
from onthedot.observability.observer import Observer
from onthedot.posts.models import AttemptOutcome, PostStatus

log = logging.getLogger("onthedot.broadcaster")

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
DEFAULT_RATE_WAIT_S = 60.0
# Posts due within this are claimed batch after batch without waiting for the next poll, so
# all of a spike is held before its instant; further ahead, one batch per poll.
IMMINENT_S = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    """The broadcaster's settings (see `onthedot.config.Settings` for what each means)."""

    prepare_lead_s: float
    claim_batch: int
    poll_s: float
    lease_s: float
    max_in_flight: int
    max_held: int
    publish_timeout_s: float
    max_tries: int
    retry_deadline_s: float
    heartbeat_s: float
    prepare_concurrency: int = 64
    # A post commits `publishing` this long before its instant, then waits for the instant
    # itself: the state write is off the due time's critical path.
    arm_s: float = 0.25

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Config:
        """From the settings (by default, their defaults), with some fields overridden."""
        settings = settings or Settings.model_construct()
        values = {
            f.name: getattr(settings, f.name)
            for f in fields(cls)
            if f.name in Settings.model_fields
        }
        return cls(**{**values, **overrides})


@dataclass(eq=False, slots=True)
class Held:
    """A claimed post this broadcaster holds until it goes out or is handed back."""

    post_id: int
    channel_id: int
    attempt: int
    due_at: dt.datetime
    fire_at: dt.datetime  # the due time, or the retry time when that is later
    queue_position: int
    tries: int
    needs_check: bool
    loaded: Loaded | None = None
    problem: str | None = None
    prepare: asyncio.Task[Prepared] | None = None
    lease_until: dt.datetime | None = None
    network: str = ""  # for metrics and logs; empty when the channel could not be read

    @property
    def order(self) -> tuple[dt.datetime, int, int]:
        """A lane's order: due time, then queue order."""
        return (self.fire_at, self.queue_position, self.post_id)


@dataclass(slots=True)
class Lane:
    queue: list[Held] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    # Its post's `publishing` is committed and it waits for the instant (see `settle`).
    armed: bool = False


class Broadcaster:
    def __init__(
        self,
        engine: AsyncEngine,
        adapters: Mapping[Network, Adapter],
        *,
        clock: Clock,
        config: Config | None = None,
        box: CredentialBox | None = None,
        media_dir: Path = Path("./media"),
        rng: random.Random | None = None,
        broadcaster_id: str | None = None,
        on_channel_revoked: Callable[[int, str], Any] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.config = config or Config.from_settings()
        self.id = (
            broadcaster_id or f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self._engine = engine
        self._adapters = adapters
        self._clock = clock
        self._box = box
        self._media_dir = media_dir
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._on_revoked = on_channel_revoked
        self._writer = Writer(
            engine,
            clock=clock,
            lease_for_publishing=lambda now: (
                now + dt.timedelta(seconds=self.config.publish_timeout_s + self.config.lease_s)
            ),
        )
        self._heap: list[tuple[dt.datetime, int, Held]] = []
        self._seq = itertools.count()
        self._heap_changed = asyncio.Event()
        self._armed = asyncio.Event()
        self._lanes: dict[int, Lane] = {}
        self._held: dict[int, Held] = {}
        self._slots = asyncio.Semaphore(self.config.max_in_flight)
        self._network_slots = {
            network: asyncio.Semaphore(adapter.limits.network_in_flight)
            for network, adapter in adapters.items()
        }
        self._prepare_slots = asyncio.Semaphore(self.config.prepare_concurrency)
        self._blocked: dict[tuple[str, int | str], dt.datetime] = {}
        self._stop = asyncio.Event()
        self._stopping = False
        self._timer: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._lock: SingleBroadcasterLock | None = None
        self.stats: Counter[str] = Counter()
        self._observe = observer if observer is not None else Observer()
        self._observe.watch_held(lambda: len(self._held))

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Register, take the SQLite lock where needed, and start the timer and writer."""
        if self._engine.dialect.name == "sqlite":
            self._lock = SingleBroadcasterLock.for_database(self._engine.url.database)
            self._lock.acquire()
        now = self._clock.now()
        async with self._engine.begin() as conn:
            await conn.execute(
                queries.register(
                    me=self.id, host=socket.gethostname()[:255], pid=os.getpid(), now=now
                )
            )
        self._observe.heartbeat(self.id, now.timestamp())
        self._writer.start()
        self._timer = asyncio.create_task(self._timer_loop(), name="broadcaster-timer")
        log.info("broadcaster %s started", self.id)

    async def run(self, *, started: bool = False) -> None:
        """Start, claim and publish until `request_stop`, then stop gracefully."""
        if not started:
            await self.start()
        loops = [
            asyncio.create_task(self._every(self.config.poll_s, self.pump), name="loader"),
            asyncio.create_task(
                self._every(self.config.heartbeat_s, self.heartbeat), name="heartbeat"
            ),
        ]
        try:
            await self._stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self.shutdown()

    def request_stop(self) -> None:
        self._stop.set()

    async def shutdown(self) -> None:
        """Stop claiming, finish what is publishing, hand back the rest."""
        if self._stopping:
            return
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
        unfired = [held for _, _, held in self._heap]
        self._heap.clear()
        lanes = [lane.task for lane in self._lanes.values() if lane.task is not None]
        # Lanes hand back what they have not started and finish what is publishing.
        if lanes:
            await asyncio.wait(lanes, timeout=self.config.publish_timeout_s + 5)
        releases = [self._release(held) for held in unfired]
        if releases:
            await asyncio.gather(*releases)
        await self._writer.close()
        for task in list(self._background):
            task.cancel()
        now = self._clock.now()
        try:
            async with self._engine.begin() as conn:
                await conn.execute(queries.mark_stopped(broadcaster_ids=[self.id], now=now))
        except (OperationalError, DBAPIError, OSError):
            log.warning("could not record that broadcaster %s stopped", self.id)
        if self._lock is not None:
            self._lock.release()
        log.info("broadcaster %s stopped", self.id)

    async def _every(self, seconds: float, step: Callable[[], Any]) -> None:
        while True:
            try:
                busy = await step()
            except (OperationalError, DBAPIError, OSError) as exc:
                # The database is unreachable for now; the pool reconnects on the next try.
                log.warning("%s failed, retrying: %s", getattr(step, "__name__", step), exc)
                self.stats["database_errors"] += 1
                self._observe.loop_error(getattr(step, "__name__", "loop"))
                busy = False
            if busy is True:
                await asyncio.sleep(0)
                continue
            await self._clock.sleep_until(self._clock.now() + dt.timedelta(seconds=seconds))

    # --- claiming -----------------------------------------------------------------------

    async def pump(self) -> bool:
        """One round of the loader; True when a batch was full (more may be waiting)."""
        if self._stopping or len(self._held) >= self.config.max_held:
            return False
        now = self._clock.now()
        horizon = now + dt.timedelta(seconds=self.config.prepare_lead_s)
        lease_until = horizon + dt.timedelta(seconds=self.config.lease_s)
        limit = self.config.claim_batch
        full = False
        for kind, candidates, claim in (
            (
                "expired",
                queries.expired_channels(now=now, limit=2 * limit),
                lambda ids, _oldest: queries.claim_expired(
                    channel_ids=ids, now=now, me=self.id, lease_until=lease_until
                ),
            ),
            (
                "due",
                queries.due_channels(horizon=horizon, limit=2 * limit),
                lambda ids, oldest: queries.claim_due(
                    channel_ids=ids,
                    horizon=horizon,
                    me=self.id,
                    lease_until=lease_until,
                    since=oldest - queries.DUE_SLACK,
                ),
            ),
            (
                "retry",
                queries.retry_channels(horizon=horizon, limit=2 * limit),
                lambda ids, _oldest: queries.claim_retries(
                    channel_ids=ids, horizon=horizon, me=self.id, lease_until=lease_until
                ),
            ),
        ):
            more, imminent = await self._claim(candidates, claim, now, lease_until, kind)
            # Posts due soon are claimed back to back; ones further ahead one batch per
            # poll, which leaves other broadcasters their share of a spike.
            full = full or (more and imminent)
        return full

    async def _claim(
        self,
        candidates: Executable,
        claim: Callable[[Sequence[int], dt.datetime], Executable],
        now: dt.datetime,
        lease_until: dt.datetime,
        kind: str,
    ) -> tuple[bool, bool]:
        """Claim about one batch. Whether more may be waiting, and whether the oldest
        candidate is due within `IMMINENT_S` (then the loader goes on at once)."""
        batch = self.config.claim_batch
        started = time.perf_counter()
        async with self._engine.begin() as conn:
            found = (await conn.execute(candidates)).all()
            if not found:
                return False, False
            soon = now + dt.timedelta(seconds=max(2 * self.config.poll_s, IMMINENT_S))
            # The candidates are the oldest, so nothing older was waiting when they were read.
            oldest = min(r[1] for r in found)
            imminent = oldest <= soon
            wanted = list(dict.fromkeys(r[0] for r in found))
            cut = len(found) >= 2 * batch
            if cut and len(wanted) > 1:
                # The list was cut inside its last channel: leave that one for later.
                wanted.pop()
            # Enough channels for about one batch; broadcasters reading the same list lock
            # different ones (SKIP LOCKED), so each takes a share of a spike.
            channels = max(1, round(batch * len(wanted) / len(found)))
            held_here = (await conn.execute(queries.lock_channels(wanted, limit=channels))).all()
            # Fewer than wanted: others hold some right now, or the limit stopped short.
            more = cut or len(held_here) < len(wanted)
            # A post left publishing is reconciled even on a paused channel; nothing else of
            # a paused channel is claimed (its retries wait for the resume).
            locked = [r[0] for r in held_here if kind == "expired" or not r[1]]
            if not locked:
                if more and not held_here:
                    # Another broadcaster is claiming these right now; try again shortly.
                    await asyncio.sleep(0.02)
                return more, imminent
            rows = (await conn.execute(claim(locked, oldest))).all()
        # Read after the claim commits, so the channel locks are held only for the claim:
        # claimed posts cannot be edited or deleted, so what is read is what goes out.
        async with self._engine.connect() as conn:
            jobs = await load(conn, rows, box=self._box, media_dir=self._media_dir)
        overdue = []
        for row in rows:
            if self._take(row, jobs[row.id], now, lease_until, kind):
                overdue.append((now - row.due_at).total_seconds())
        self._observe.claimed(
            kind,
            [self._held[row.id] for row in rows if row.id in self._held],
            seconds=time.perf_counter() - started,
            overdue=len(overdue),
        )
        if overdue:
            # Overdue and unclaimed: every broadcaster was down or behind. Out at once.
            self.stats["overdue"] += len(overdue)
            log.warning(
                "%d overdue post(s) claimed, up to %.1f s past their due time",
                len(overdue),
                max(overdue),
            )
        self.stats["claimed"] += len(rows)
        return more, imminent

    def _take(
        self,
        row: Any,
        loaded: Loaded | str,
        now: dt.datetime,
        lease_until: dt.datetime,
        kind: str,
    ) -> bool:
        """Hold a claimed post; True when it was overdue (due, yet no one had claimed it)."""
        fire_at = row.due_at if row.retry_at is None else max(row.due_at, row.retry_at)
        held = Held(
            post_id=row.id,
            channel_id=row.channel_id,
            attempt=row.attempt,
            due_at=row.due_at,
            fire_at=fire_at,
            queue_position=row.queue_position or 0,
            tries=row.tries,
            needs_check=row.needs_check,
        )
        overdue = kind == "due" and row.due_at < now - dt.timedelta(seconds=1)
        if isinstance(loaded, str):
            held.problem = loaded
        else:
            held.network = loaded.job.network.value
            adapter = self._adapters.get(loaded.job.network)
            if adapter is None:
                held.problem = (
                    f"onthedot cannot publish to {loaded.job.network.value} yet: no adapter for "
                    "it is installed"
                )
            else:
                held.loaded = loaded
                held.prepare = asyncio.create_task(self._prepare(adapter, held, loaded))
                # Its error is handled when the post fires, or not at all if handed back.
                held.prepare.add_done_callback(lambda t: t.cancelled() or t.exception())
        held.lease_until = lease_until
        self._held[held.post_id] = held
        armed = held.fire_at - dt.timedelta(seconds=self.config.arm_s)
        heapq.heappush(self._heap, (armed, next(self._seq), held))
        self._heap_changed.set()
        return overdue

    async def _prepare(self, adapter: Adapter, held: Held, loaded: Loaded) -> Prepared:
        async with self._prepare_slots:
            prepared = await asyncio.wait_for(
                adapter.prepare(loaded.job), timeout=max(self.config.prepare_lead_s, 1.0)
            )
        # Fenced on `claimed`: a post already publishing (or taken away) is left as it is.
        self._spawn(self._writer.transition("prepared", held.post_id, held.attempt))
        self._observe.prepared(held)
        return prepared

    # --- timers and lanes ---------------------------------------------------------------

    async def _timer_loop(self) -> None:
        while True:
            if not self._heap:
                self._heap_changed.clear()
                await self._heap_changed.wait()
                continue
            first = self._heap[0][0]
            if first > self._clock.now():
                self._heap_changed.clear()
                sleeper = asyncio.ensure_future(self._clock.sleep_until(first))
                changed = asyncio.ensure_future(self._heap_changed.wait())
                try:
                    await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    changed.cancel()
                continue
            now = self._clock.now()
            while self._heap and self._heap[0][0] <= now:
                _, _, held = heapq.heappop(self._heap)
                self._enqueue(held)

    def _enqueue(self, held: Held) -> None:
        lane = self._lanes.get(held.channel_id)
        if lane is None:
            lane = self._lanes[held.channel_id] = Lane()
        bisect.insort(lane.queue, held, key=lambda h: h.order)
        if lane.task is None:
            lane.task = asyncio.create_task(self._run_lane(held.channel_id, lane))

    async def _run_lane(self, channel_id: int, lane: Lane) -> None:
        try:
            while lane.queue:
                held = lane.queue.pop(0)
                try:
                    await self._publish(held, lane)
                except Exception:
                    # A bug must not take the lane down: the post's lease runs out and it is
                    # recovered (and looked for on the network) like after a crash.
                    log.exception("post %s: unexpected error while publishing", held.post_id)
                    self.stats["errors"] += 1
                finally:
                    self._forget(held)
        finally:
            lane.task = None
            if not lane.queue and self._lanes.get(channel_id) is lane:
                del self._lanes[channel_id]

    # --- publishing ---------------------------------------------------------------------

    async def _publish(self, held: Held, lane: Lane) -> None:
        if self._stopping:
            await self._release(held)
            return
        if held.problem is not None or held.loaded is None or held.prepare is None:
            await self._finish(held, PostStatus.FAILED, error=held.problem, result="failed")
            return
        job = held.loaded.job
        adapter = self._adapters[job.network]
        now = self._clock.now()
        blocked = max(
            self._blocked.get(("account", held.channel_id), now),
            self._blocked.get(("network", job.network.value), now),
        )
        if blocked > now:
            # The account (or network) is rate-limited: wait for the reset, no try used up.
            self.stats["rate_limit_waits"] += 1
            self._observe.rate_limit_wait(held)
            await self._finish(held, PostStatus.RETRY_WAIT, retry_at=blocked)
            return
        try:
            prepared = await held.prepare
        except Exception as exc:  # an adapter's bug counts as a transient error, not a crash
            await self._failed(held, adapter, _as_network_error(exc, preparing=True), [])
            return
        if self._stopping:
            await self._release(held)
            return
        # Committed before the post queues for a call slot, so the commit's latency overlaps
        # the wait for a slot instead of holding one: at 08:00 a slot held through a commit
        # is a call not made. A post that waits for its slot in `publishing` is looked for on
        # the network if this broadcaster dies meanwhile, like one whose call was in flight.
        if not await self._writer.transition("publishing", held.post_id, held.attempt):
            # Fenced out: another broadcaster took over, or a person paused the channel.
            self.stats["fenced"] += 1
            self._observe.fenced(held)
            return
        held.lease_until = held.fire_at + dt.timedelta(
            seconds=self.config.publish_timeout_s + self.config.lease_s
        )
        # Armed ahead (`arm_s`): the call itself never goes before the instant, and the wait
        # holds no call slot that a post already due could use.
        if self._clock.now() < held.fire_at:
            lane.armed = True
            self._armed.set()
            try:
                await self._clock.sleep_until(held.fire_at)
            finally:
                lane.armed = False
        async with self._slots, self._network_slots[job.network]:
            lateness = (self._clock.now() - held.due_at).total_seconds()
            self._observe.publishing(held, lateness_s=lateness)
            with self._observe.in_flight():
                await self._send(held, adapter, prepared)

    async def _send(self, held: Held, adapter: Adapter, prepared: Prepared) -> None:
        assert held.loaded is not None
        job = held.loaded.job
        done = dict(held.loaded.done)
        records: list[dict[str, Any]] = []
        item_rows: list[dict[str, Any]] = []
        reply_to: Published | None = None
        first_sent: dt.datetime | None = None
        timeout = self.config.publish_timeout_s
        try:
            for index, item in enumerate(job.items):
                if item.position in done:
                    reply_to = done[item.position]
                    continue
                if held.needs_check:
                    started = self._clock.now()
                    async with asyncio.timeout(timeout):
                        found = await adapter.find(job, item, reply_to)
                    outcome = AttemptOutcome.FOUND if found else AttemptOutcome.NOT_FOUND
                    records.append(self._record(held, "reconcile", started, outcome))
                    self.stats["reconciled_" + outcome.value] += 1
                    self._observe.reconciled(held, result=outcome.value)
                    if found is not None:
                        done[item.position] = reply_to = found
                        item_rows.append(_item_row(item.item_id, found, self._clock.now()))
                        continue
                    # Not there: neither is anything after it (each item replies to the last).
                    held.needs_check = False
                started = self._clock.now()
                if started < job.due_at:  # pragma: no cover - guarded above; belt and braces
                    raise AssertionError(f"post {job.post_id} would go out early")
                first_sent = first_sent or started
                # A timeout scope, not wait_for: no extra task per call at 08:00.
                async with asyncio.timeout(timeout):
                    published = await adapter.commit(job, prepared, item, reply_to)
                self._note_rate(job.network, held.channel_id, published)
                done[item.position] = reply_to = published
                row = _item_row(item.item_id, published, self._clock.now())
                if index < len(job.items) - 1:
                    # The next item replies to this one: its record must survive a crash.
                    await self._writer.items([*item_rows, row])
                    item_rows.clear()
                else:
                    item_rows.append(row)
        except CannotTell as exc:
            records.append(
                self._record(held, "reconcile", self._clock.now(), AttemptOutcome.UNKNOWN, exc)
            )
            self.stats["unknown"] += 1
            self._observe.reconciled(held, result="unknown")
            message = (
                f"onthedot lost track of this post while publishing it and "
                f"{job.network.value} cannot tell whether it went out ({exc.message}). Check "
                "the account, then resolve the post as sent or retry it."
            )
            await self._finish(
                held,
                PostStatus.UNKNOWN,
                error=message,
                records=records,
                items=item_rows,
                result="unknown",
            )
            return
        except Exception as exc:
            # An adapter's bug counts like a transient error that may have gone out: tries
            # are counted, the post is looked for before the next one, and it ends.
            if not isinstance(exc, NetworkError | TimeoutError):
                # Where, not what: an exception's text could carry a credential.
                where = traceback.extract_tb(exc.__traceback__)[-1]
                log.error(
                    "post %s: the %s adapter raised %s at %s:%s",
                    job.post_id,
                    job.network.value,
                    type(exc).__name__,
                    where.filename,
                    where.lineno,
                )
            error = _as_network_error(exc, preparing=False)
            await self._failed(held, adapter, error, records, item_rows, first_sent)
            return
        if first_sent is not None:
            # A post found whole on the network has its `found` record and no publish try.
            records.append(
                self._record(
                    held,
                    "publish",
                    first_sent,
                    AttemptOutcome.SENT,
                    status=reply_to.status if reply_to else None,
                    lateness_at=first_sent,
                )
            )
        self.stats["sent"] += 1
        await self._finish(
            held,
            PostStatus.SENT,
            records=records,
            items=item_rows,
            result="sent",
            # Unknown for a post found whole on the network: onthedot did not publish it.
            lateness_s=(first_sent - held.due_at).total_seconds() if first_sent else None,
        )

    async def _failed(
        self,
        held: Held,
        adapter: Adapter,
        error: NetworkError,
        records: list[dict[str, Any]],
        items: list[dict[str, Any]] | None = None,
        started: dt.datetime | None = None,
    ) -> None:
        now = self._clock.now()
        network = adapter.network.value
        started = started or now
        if isinstance(error, RateLimited):
            reset = error.reset_at or now + dt.timedelta(seconds=DEFAULT_RATE_WAIT_S)
            reset = max(reset, now)
            key: tuple[str, int | str] = (
                ("network", network) if error.scope == "network" else ("account", held.channel_id)
            )
            self._blocked[key] = max(self._blocked.get(key, reset), reset)
            records.append(
                self._record(held, "publish", started, AttemptOutcome.RATE_LIMITED, error)
            )
            self.stats["rate_limited"] += 1
            await self._finish(
                held,
                PostStatus.RETRY_WAIT,
                retry_at=reset,
                records=records,
                items=items,
                result="rate_limited",
            )
            return
        if isinstance(error, Permanent):
            records.append(self._record(held, "publish", started, AttemptOutcome.FAILED, error))
            self.stats["failed"] += 1
            message = f"{network} refused the post: {error.message}"
            await self._finish(
                held,
                PostStatus.FAILED,
                error=message,
                records=records,
                items=items,
                result="failed",
            )
            if isinstance(error, AuthRevoked):
                self._spawn(self._revoked(held.channel_id, f"{network}: {error.message}"))
            return
        if not isinstance(error, Transient):
            error = Transient(error.message, status=error.status, code=error.code)
        tries = held.tries + 1
        backoff = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (tries - 1))
        retry_at = now + dt.timedelta(seconds=backoff * self._rng.uniform(0.5, 1.0))
        deadline = held.due_at + dt.timedelta(seconds=self.config.retry_deadline_s)
        needs_check = held.needs_check or (error.maybe_sent and not adapter.idempotent)
        records.append(self._record(held, "publish", started, AttemptOutcome.RETRY, error))
        tried = f"{tries} {'try' if tries == 1 else 'tries'}"
        if tries >= self.config.max_tries or retry_at > deadline:
            self.stats["failed"] += 1
            status = PostStatus.UNKNOWN if needs_check else PostStatus.FAILED
            if needs_check:
                message = (
                    f"{network} kept failing ({error.message}) and a try may have gone out: "
                    f"gave up after {tried}. Check the account, then resolve the post "
                    "as sent or retry it."
                )
            else:
                message = f"{network} kept failing: {error.message} (gave up after {tried})"
            await self._finish(
                held,
                status,
                error=message,
                records=records,
                items=items,
                tries=tries,
                needs_check=needs_check,
                result=status.value,
            )
            return
        self.stats["retried"] += 1
        await self._finish(
            held,
            PostStatus.RETRY_WAIT,
            retry_at=retry_at,
            error=f"{network}: {error.message}; trying again",
            records=records,
            items=items,
            tries=tries,
            needs_check=needs_check,
            result="retry",
        )

    async def _finish(
        self,
        held: Held,
        status: PostStatus,
        *,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
        records: list[dict[str, Any]] | None = None,
        items: list[dict[str, Any]] | None = None,
        tries: int | None = None,
        needs_check: bool | None = None,
        result: str | None = None,
        lateness_s: float | None = None,
    ) -> None:
        """Write a post's new state; `result` says how its try ended, None when it made none."""
        outcome = Outcome(
            post_id=held.post_id,
            attempt=held.attempt,
            status=status,
            now=self._clock.now(),
            tries=held.tries if tries is None else tries,
            retry_at=retry_at,
            needs_check=held.needs_check if needs_check is None else needs_check,
            last_error=error,
            items=items or [],
            records=records or [],
        )
        self._observe.outcome(
            held,
            state=status.value,
            result=result,
            lateness_s=lateness_s,
            error=error,
            retry_at=retry_at.isoformat() if retry_at is not None else None,
        )
        # Not awaited: the next post of the lane need not wait for this commit. Were the
        # process to die first, the post stays `publishing` and is looked for on recovery.
        self._spawn(self._writer.outcome(outcome))

    async def _release(self, held: Held) -> None:
        if held.prepare is not None and not held.prepare.done():
            held.prepare.cancel()
        self._forget(held)
        await self._writer.transition("release", held.post_id, held.attempt)
        self.stats["released"] += 1
        self._observe.released(held)

    async def _revoked(self, channel_id: int, reason: str) -> None:
        if self._on_revoked is not None:
            result = self._on_revoked(channel_id, reason)
            if asyncio.iscoroutine(result):
                await result

    def _note_rate(self, network: Network, channel_id: int, published: Published) -> None:
        rate = published.rate
        if rate is not None and rate.remaining == 0 and rate.reset_at is not None:
            key: tuple[str, int | str] = ("account", channel_id)
            self._blocked[key] = max(self._blocked.get(key, rate.reset_at), rate.reset_at)

    def _record(
        self,
        held: Held,
        kind: str,
        started: dt.datetime,
        outcome: AttemptOutcome,
        error: NetworkError | None = None,
        *,
        status: int | None = None,
        lateness_at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "post_id": held.post_id,
            "attempt": held.attempt,
            "broadcaster": self.id,
            "kind": kind,
            "started_at": started,
            "ended_at": self._clock.now(),
            "outcome": outcome,
            "network_status": error.status if error is not None else status,
            "error_code": (error.code or type(error).__name__)[:64] if error is not None else None,
            "error": error.message if error is not None else None,
            "lateness_s": (lateness_at - held.due_at).total_seconds() if lateness_at else None,
        }

    def _forget(self, held: Held) -> None:
        if self._held.get(held.post_id) is held:
            del self._held[held.post_id]

    def _spawn(self, awaitable: Any) -> None:
        task = asyncio.ensure_future(awaitable)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- liveness -----------------------------------------------------------------------

    async def heartbeat(self) -> bool:
        """Say this broadcaster is alive; end the leases of those that stopped saying so."""
        now = self._clock.now()
        stale = now - dt.timedelta(seconds=5 * self.config.heartbeat_s)
        async with self._engine.begin() as conn:
            await conn.execute(queries.heartbeat(me=self.id, now=now))
            dead = [r[0] for r in await conn.execute(queries.dead_broadcasters(stale_before=stale))]
            if dead:
                await conn.execute(queries.expire_leases_of(broadcaster_ids=dead, now=now))
                await conn.execute(queries.mark_stopped(broadcaster_ids=dead, now=now))
                log.warning("broadcaster(s) %s stopped heartbeating; recovering their posts", dead)
            await conn.execute(
                queries.forget_broadcasters(stopped_before=now - dt.timedelta(days=7))
            )
            await self._renew_leases(conn, now)
        self._observe.heartbeat(self.id, now.timestamp())
        return False

    async def _renew_leases(self, conn: Any, now: dt.datetime) -> None:
        """Extend the leases of held posts that would otherwise run out while they wait
        (a long lane at 08:00, a slow preparation)."""
        soon = now + dt.timedelta(seconds=self.config.lease_s / 2)
        until = now + dt.timedelta(seconds=self.config.lease_s + self.config.publish_timeout_s)
        by_attempt: dict[int, list[Held]] = {}
        for held in self._held.values():
            if held.lease_until is not None and held.lease_until < soon:
                by_attempt.setdefault(held.attempt, []).append(held)
        for attempt, group in by_attempt.items():
            for start in range(0, len(group), 900):
                chunk = group[start : start + 900]
                await conn.execute(
                    queries.renew_leases(
                        ids=[h.post_id for h in chunk], attempt=attempt, lease_until=until
                    )
                )
                for held in chunk:
                    held.lease_until = until

    # --- for tests and the demo ---------------------------------------------------------

    @property
    def adapters(self) -> Mapping[Network, Adapter]:
        return self._adapters

    @property
    def held_count(self) -> int:
        return len(self._held)

    async def settle(self) -> None:
        """Wait until everything due by now is published and written (tests use this)."""
        for _ in range(10_000):
            for _ in range(3):
                await asyncio.sleep(0)
            # A lane whose post is armed waits for the clock, which only the caller moves.
            busy = [
                lane.task
                for lane in self._lanes.values()
                if lane.task is not None and not lane.armed
            ]
            waiting = [*busy, *self._background]
            if waiting:
                # Woken too when one of them arms and starts waiting for the clock.
                self._armed.clear()
                armed = asyncio.ensure_future(self._armed.wait())
                try:
                    await asyncio.wait([*waiting, armed], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    armed.cancel()
                continue
            if self._heap and self._heap[0][0] <= self._clock.now():
                continue
            await self._writer.idle()
            await asyncio.sleep(0)
            if not self._background and not any(
                ln.task and not ln.armed for ln in self._lanes.values()
            ):
                return
        raise RuntimeError("the broadcaster did not settle")


def _as_network_error(exc: BaseException, *, preparing: bool) -> NetworkError:
    if isinstance(exc, NetworkError):
        return exc
    if isinstance(exc, TimeoutError):
        # A commit that timed out may have reached the network; a prepare never publishes.
        what = "preparing" if preparing else "publishing"
        return Transient(
            f"the network did not answer in time while {what}", maybe_sent=not preparing
        )
    # The exception's own text could carry a credential: only its kind is shown.
    return Transient(
        f"unexpected error in the adapter ({type(exc).__name__})", maybe_sent=not preparing
    )


def _item_row(item_id: int, published: Published, at: dt.datetime) -> dict[str, Any]:
    return {
        "b_id": item_id,
        "b_network_id": published.network_id,
        "b_network_url": published.url,
        "b_published_at": at,
    }
