"""The peers' processes: `python -m bench.spike.peers KIND …`.

Each loads the spike's posts, says `ready` on stdout once it holds them, and publishes each
post with the shared request (`workload`), at most `--in-flight` at once.

- floor: a bare asyncio loop sleeps until T and fires every request; no scheduling, no
  database. What the sandbox and the HTTP client allow, nothing more.
- apscheduler: APScheduler 3, AsyncIOScheduler, one date-trigger job per post in the memory
  job store, run by the default AsyncIOExecutor (coroutine jobs on the event loop).
  `misfire_grace_time=None` (the docs: "allow the job to run no matter how late it is"; the
  default of 1 s would drop most of a 50,000-job spike as missed), `coalesce=False`.
- procrastinate: a procrastinate worker on PostgreSQL; the jobs were deferred by the bench
  with `schedule_at=T`. Concurrency `--in-flight` (async jobs), listen/notify on, polling
  interval at its default (5 s): a NOTIFY is sent when a job is deferred, not when its
  `scheduled_at` comes, so a scheduled job is found by the poll.
- cron-poller: a scheduler fired from cron: the posts live in a SQLite table; at :00 of
  every wall-clock minute it selects what is due and publishes it, then marks it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.spike.workload import AsyncPublisher, Planned, read

from onthedot.clock import SystemClock

CLOCK = SystemClock()


def ready(what: str) -> None:
    print(f"ready: {what}", flush=True)


async def publish_all(publisher: AsyncPublisher, posts: Sequence[Planned], in_flight: int) -> int:
    """Publish `posts` with at most `in_flight` calls open; how many failed."""
    slots = asyncio.Semaphore(in_flight)
    failed = 0

    async def one(post: Planned) -> None:
        nonlocal failed
        async with slots:
            status = await publisher.publish(post)
        if not 200 <= status < 300:
            failed += 1

    await asyncio.gather(*(one(p) for p in posts))
    return failed


async def floor(args: argparse.Namespace) -> None:
    posts = list(read(args.posts))
    publisher = AsyncPublisher(args.sandbox, args.in_flight)
    t = posts[0].due_at
    ready(f"{len(posts)} posts in memory")
    await CLOCK.sleep_until(t)
    failed = await publish_all(publisher, posts, args.in_flight)
    print(f"done, {failed} failed", flush=True)
    await publisher.aclose()
    await asyncio.Event().wait()  # the bench stops this process


async def apscheduler(args: argparse.Namespace) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.date import DateTrigger

    publisher = AsyncPublisher(args.sandbox, args.in_flight)
    slots = asyncio.Semaphore(args.in_flight)

    async def job(post: Planned) -> None:
        async with slots:
            await publisher.publish(post)

    scheduler = AsyncIOScheduler(
        timezone=dt.UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
    )
    posts = list(read(args.posts))
    scheduler.start(paused=True)
    for post in posts:
        scheduler.add_job(
            job, DateTrigger(run_date=post.due_at), args=[post], id=post.ref, name=post.ref
        )
    scheduler.resume()
    ready(f"{len(posts)} date-trigger jobs")
    await asyncio.Event().wait()


async def cron_poller(args: argparse.Namespace) -> None:
    posts = list(read(args.posts))
    db = sqlite3.connect(args.db)
    db.execute(
        "CREATE TABLE IF NOT EXISTS posts (k INTEGER PRIMARY KEY, row TEXT NOT NULL,"
        " due_at REAL NOT NULL, status TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS ix_posts_status_due ON posts (status, due_at)")
    import orjson

    with db:
        db.executemany(
            "INSERT INTO posts (k, row, due_at, status) VALUES (?, ?, ?, 'scheduled')",
            [
                (
                    p.k,
                    orjson.dumps(p.row()).decode(),
                    p.due_at.timestamp(),
                )
                for p in posts
            ],
        )
    publisher = AsyncPublisher(args.sandbox, args.in_flight)
    ready(f"{len(posts)} posts in SQLite, waking at :00 of every minute")
    while True:
        now = time.time()
        await CLOCK.sleep_until(dt.datetime.fromtimestamp((now // 60 + 1) * 60, dt.UTC))
        due = db.execute(
            "SELECT k, row FROM posts WHERE status = 'scheduled' AND due_at <= ? ORDER BY due_at",
            (time.time(),),
        ).fetchall()
        if not due:
            continue
        batch = [Planned.from_row(orjson.loads(row)) for _, row in due]
        print(f"cron tick: {len(batch)} due", flush=True)
        await publish_all(publisher, batch, args.in_flight)
        with db:
            db.executemany("UPDATE posts SET status = 'sent' WHERE k = ?", [(k,) for k, _ in due])


def procrastinate_app(conninfo: str, publisher: list[Any]) -> Any:
    """The procrastinate app with the one task; `publisher` holds the worker's publisher."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name="publish")
    async def publish(**row: Any) -> None:
        await publisher[0].publish(Planned.from_row(row))

    return app


async def procrastinate_worker(args: argparse.Namespace) -> None:
    holder: list[Any] = [AsyncPublisher(args.sandbox, args.in_flight)]
    app = procrastinate_app(args.db, holder)
    async with app.open_async():
        ready(f"procrastinate worker, concurrency {args.in_flight}")
        await app.run_worker_async(concurrency=args.in_flight, install_signal_handlers=True)


KINDS = {
    "floor": floor,
    "apscheduler": apscheduler,
    "cron-poller": cron_poller,
    "procrastinate": procrastinate_worker,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.spike.peers")
    parser.add_argument("kind", choices=sorted(KINDS))
    parser.add_argument("--posts", type=Path, required=True)
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--in-flight", type=int, default=1000)
    parser.add_argument("--db", default="", help="SQLite path (cron) or conninfo")
    args = parser.parse_args(argv)
    try:
        asyncio.run(KINDS[args.kind](args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
