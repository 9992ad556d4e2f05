"""Running one contender: its own sandbox, its own store, the same posts, the same cap.

Every contender gets a fresh sandbox process (so its records hold only this contender's
requests), N posts over M channels due at one instant T a little ahead, and at most
`in_flight` calls open at once. Its processes are metered from the moment it holds the posts
until the last one arrived; the sandbox's own CPU is metered apart (extra key
`sandbox_cpu_s`). Every process started here is stopped before the next contender starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.spike import workload
from bench.spike.meter import Meter
from bench.spike.report import Counted, Result, count
from sqlalchemy import text
from sqlalchemy.engine import make_url

from onthedot.db.engine import create_engine
from onthedot.sandbox.spike import (
    CLOCK,
    SandboxOptions,
    SandboxServer,
    Spike,
    _end,
    postgres_database,
    sqlite_database,
)

ROOT = Path(__file__).resolve().parents[2]
SETTLE_S = 2.0  # after the last expected post, for requests still travelling (duplicates)
STALL_S = 15.0  # a peer that sent nothing new for this long, past T + 70 s, is done
SETUP_S_PER_POST = {"celery": 0.0015, "procrastinate": 0.0005}  # see Options.peer_lead_s


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Options:
    posts: int
    channels: int
    in_flight: int
    sandbox: SandboxOptions
    due_in_s: float  # from the end of seeding (onthedot) or the start of setup (peers) to T
    postgres_url: str
    redis_url: str
    timeout_s: float
    settings: dict[str, str]

    def peer_lead_s(self, name: str) -> float:
        """T for a peer is this far ahead of the start of its setup: every post must be held
        before T, and enqueueing takes a while (measured here: Celery's apply_async about
        1,000 a second, procrastinate's batch defer about 10,000)."""
        return self.due_in_s + self.posts * SETUP_S_PER_POST.get(name, 0.0002)


CONFIGS = {
    "floor": "bare asyncio loop, aiohttp, fires every request at T; no scheduler, no database",
    "onthedot-sqlite": "onthedot, SQLite, 1 broadcaster process",
    "onthedot-postgres-1": "onthedot, PostgreSQL, 1 broadcaster process",
    "onthedot-postgres-2": "onthedot, PostgreSQL, 2 broadcaster processes",
    "celery": "Celery 5 on Redis, ETA tasks (apply_async(eta=T)), worker -P gevent -c {n}, "
    "visibility_timeout 3600 s, no result backend, http.client (gevent-patched)",
    "apscheduler": "APScheduler 3 AsyncIOScheduler, date triggers, memory job store, "
    "AsyncIOExecutor, misfire_grace_time=None, coalesce=False, aiohttp, {n} in flight",
    "procrastinate": "procrastinate on PostgreSQL (throwaway database), defer with "
    "schedule_at=T, worker concurrency {n}, listen_notify on, polling every 5 s (default), "
    "aiohttp",
    "cron-poller": "cron-style poller: posts in SQLite, wakes at :00 of each wall-clock "
    "minute, publishes what is due, aiohttp, {n} in flight",
}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


async def _start(
    command: Sequence[str], log_path: Path, env: dict[str, str], timeout_s: float = 120.0
) -> subprocess.Popen[bytes]:
    """Start a process logging to `log_path`; wait until it says `ready:`."""
    with log_path.open("ab") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - our own command
            list(command), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + timeout_s
    while "ready:" not in _text(log_path):
        if process.poll() is not None:
            raise RuntimeError(
                f"{command[2:4]} exited with {process.returncode}:\n" + _text(log_path)[-3000:]
            )
        if time.monotonic() > deadline:
            await _end(process, grace_s=5)
            raise TimeoutError(f"{command} did not get ready in {timeout_s:g} s")
        await asyncio.sleep(0.1)
    return process


def _next_second(after_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(math.ceil(CLOCK.now().timestamp() + after_s), dt.UTC)


async def _wait_for_peer(
    sandbox: SandboxServer, posts: int, t: dt.datetime, timeout_s: float
) -> None:
    """Until every post was created once, or the peer stalled, or the deadline."""
    deadline = t + dt.timedelta(seconds=timeout_s)
    last_seen, last_change = -1, time.monotonic()
    while True:
        stats = await sandbox.stats()
        if int(stats["distinct_refs"]) >= posts:
            return
        requests = int(stats["requests"])
        if requests != last_seen:
            last_seen, last_change = requests, time.monotonic()
        now = CLOCK.now()
        if now > deadline:
            return
        stalled = time.monotonic() - last_change > STALL_S
        if now > t + dt.timedelta(seconds=70) and stalled:
            return
        await asyncio.sleep(0.25)


def _result(
    name: str,
    opts: Options,
    counted: Counted,
    meter: Meter,
    sandbox_meter: Meter,
    notes: list[str],
    **extra: Any,
) -> Result:
    config = CONFIGS[name].format(n=opts.in_flight)
    return Result(
        name=name,
        config=config,
        counted=counted,
        cpu_s=round(meter.cpu_s, 2),
        peak_rss_mb=round(meter.peak_rss_mb, 1),
        notes=notes,
        extra={"sandbox_cpu_s": round(sandbox_meter.cpu_s, 2), **extra},
    )


async def run_onthedot(name: str, opts: Options) -> Result:
    database, count_ = {
        "onthedot-sqlite": ("sqlite", 1),
        "onthedot-postgres-1": ("postgres", 1),
        "onthedot-postgres-2": ("postgres", 2),
    }[name]
    settings = {"max_in_flight": str(opts.in_flight), **opts.settings}
    with tempfile.TemporaryDirectory(prefix=f"spike-{name}-") as tmp:
        workdir = Path(tmp)
        db = (
            sqlite_database(workdir)
            if database == "sqlite"
            else postgres_database(opts.postgres_url, prefix="onthedot_bench")
        )
        async with db as url, Spike(url, workdir / "run", opts.sandbox, settings=settings) as spike:
            await spike.start_sandbox()
            await spike.start_broadcasters(count_)
            assert spike.sandbox.process is not None
            meter = Meter(p.pid for p in spike.broadcasters)
            sandbox_meter = Meter([spike.sandbox.process.pid])
            meter.start()
            sandbox_meter.start()
            seeded = await spike.seed(
                posts=opts.posts,
                channels=opts.channels,
                due_in_s=opts.due_in_s,
                handle=workload.handle,
            )
            meter.mark()
            sandbox_meter.mark()
            margin = (seeded.due_at - seeded.committed_at).total_seconds()
            log(
                f"{name}: {opts.posts:,} posts seeded in {seeded.seconds:.1f} s, due at "
                f"{seeded.due_at:%H:%M:%S} UTC ({margin:.1f} s after the commit)"
            )
            statuses = await spike.wait_until_final(timeout_s=opts.timeout_s)
            await asyncio.sleep(SETTLE_S)
            await meter.stop()
            await sandbox_meter.stop()
            due = {f"{post_id}/0": seeded.due_at for post_id in seeded.post_ids}
            counted = count(await spike.sandbox.records(), due, seeded.due_at)
            notes = [f"posts committed {margin:.1f} s before T"]
            if set(statuses) != {"sent"}:
                notes.append(f"database statuses at the end: {statuses}")
            report = await spike.report(name, settle_s=0)
            notes.append(
                "sent by broadcaster: "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(report.sent_by.items()))
            )
            return _result(
                name,
                opts,
                counted,
                meter,
                sandbox_meter,
                notes,
                sent_by=report.sent_by,
                t=seeded.due_at.isoformat(),
            )


@contextlib.asynccontextmanager
async def _throwaway_pg(admin_url: str) -> AsyncIterator[str]:
    """A database for procrastinate, dropped at the end; its libpq URL."""
    name = f"onthedot_bench_proc_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(admin_url).set(drivername="postgresql", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def _enqueue_celery(
    posts: Sequence[workload.Planned], t: dt.datetime, env: dict[str, str]
) -> None:
    os.environ.update({k: v for k, v in env.items() if k.startswith("ONTHEDOT_SPIKE_")})
    from bench.spike import celery_app

    celery_app.app.conf.task_default_queue = env["ONTHEDOT_SPIKE_QUEUE"]
    celery_app.app.conf.broker_url = env["ONTHEDOT_SPIKE_BROKER"]

    def send() -> None:
        with celery_app.app.producer_or_acquire() as producer:
            for post in posts:
                celery_app.publish.apply_async(
                    args=[post.row()],
                    eta=t,
                    queue=env["ONTHEDOT_SPIKE_QUEUE"],
                    producer=producer,
                )

    await asyncio.to_thread(send)


async def _purge_celery(redis_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        # The queue and kombu's bindings of it; the queue's name is this run's own.
        keys = [queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"]
        await asyncio.to_thread(client.delete, *keys)
    finally:
        client.close()


async def _defer_procrastinate(
    conninfo: str, posts: Sequence[workload.Planned], t: dt.datetime
) -> None:
    from bench.spike.peers import procrastinate_app

    app = procrastinate_app(conninfo, [None])
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        deferrer = app.tasks["publish"].configure(schedule_at=t)
        for start in range(0, len(posts), 5000):
            await deferrer.batch_defer_async(*(p.row() for p in posts[start : start + 5000]))


async def run_peer(name: str, opts: Options) -> Result:
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix=f"spike-{name}-") as tmp:
        workdir = Path(tmp)
        sandbox = SandboxServer(workdir, opts.sandbox)
        processes: list[subprocess.Popen[bytes]] = []
        queue = f"onthedot-spike-{tag}"
        env = _env(
            {
                "ONTHEDOT_SPIKE_BROKER": opts.redis_url,
                "ONTHEDOT_SPIKE_QUEUE": queue,
                "ONTHEDOT_SPIKE_SANDBOX": sandbox.url,
            }
        )
        async with contextlib.AsyncExitStack() as stack:
            await sandbox.start()
            stack.push_async_callback(sandbox.stop)
            assert sandbox.process is not None
            sandbox_meter = Meter([sandbox.process.pid])
            sandbox_meter.start()
            started = CLOCK.now()
            t = _next_second(opts.peer_lead_s(name))
            posts = workload.plan(posts=opts.posts, channels=opts.channels, due_at=t, tag=tag)
            path = workdir / "posts.jsonl"
            workload.write(path, posts)
            peer = [
                sys.executable, "-m", "bench.spike.peers", "--posts", str(path),
                "--sandbox", sandbox.url, "--in-flight", str(opts.in_flight),
            ]  # fmt: skip
            log_path = workdir / f"{name}.log"
            if name == "procrastinate":
                conninfo = await stack.enter_async_context(_throwaway_pg(opts.postgres_url))
                await _defer_procrastinate(conninfo, posts, t)
                command = [*peer[:3], "procrastinate", *peer[3:], "--db", conninfo]
            elif name == "celery":
                command = [
                    sys.executable, "-m", "celery", "-A", "bench.spike.celery_app", "worker",
                    "-P", "gevent", "-c", str(opts.in_flight), "-Q", queue, "--without-heartbeat",
                    "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
                ]  # fmt: skip
                stack.push_async_callback(_purge_celery, opts.redis_url, queue)
            else:
                extra = ["--db", str(workdir / "cron.db")] if name == "cron-poller" else []
                command = [*peer[:3], name, *peer[3:], *extra]
            process = await _start(command, log_path, env)
            processes.append(process)

            async def stop_all() -> None:
                for proc in processes:
                    await _end(proc, grace_s=20.0)

            stack.push_async_callback(stop_all)
            meter = Meter([process.pid])
            meter.start()
            if name == "celery":
                await _enqueue_celery(posts, t, env)
            meter.mark()
            sandbox_meter.mark()
            ready_at = CLOCK.now()
            margin = (t - ready_at).total_seconds()
            log(
                f"{name}: {opts.posts:,} posts held in {(ready_at - started).total_seconds():.1f}"
                f" s, due at {t:%H:%M:%S} UTC ({margin:.1f} s ahead)"
            )
            await _wait_for_peer(sandbox, opts.posts, t, opts.timeout_s)
            await asyncio.sleep(SETTLE_S)
            await meter.stop()
            await sandbox_meter.stop()
            counted = count(await sandbox.records(), {p.ref: t for p in posts}, t)
            notes = [f"posts held {margin:.1f} s before T"]
            if margin < 0:
                notes.append("setup overran T: raise --due-in")
            if name == "cron-poller":
                notes.append(f"T was at :{t.second:02d} of its minute")
            tail = _text(log_path).splitlines()[-3:]
            if counted.lost:
                notes.append("log tail: " + " | ".join(tail))
            return _result(name, opts, counted, meter, sandbox_meter, notes, t=t.isoformat())
    raise AssertionError("unreachable")


async def run(name: str, opts: Options) -> Result:
    if name.startswith("onthedot-"):
        return await run_onthedot(name, opts)
    return await run_peer(name, opts)
