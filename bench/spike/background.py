"""Cost growth: claim time per batch with 10 thousand to 1 million other posts stored.

For each size a fresh database is bulk-loaded by `bench/queue_bench.py`'s loader (one
`INSERT … SELECT` over `generate_series` on PostgreSQL, a recursive CTE in one transaction on
SQLite, secondary indexes built after the rows): 80 % sent over two years, 15 % scheduled
over the next three months, failed and drafts; plus `batch` posts due at T, one in each of
`batch` channels. Then the broadcaster's claim at T is timed as it runs it: the candidate
read (`due_channels`), the channel locks (`lock_channels`, FOR UPDATE SKIP LOCKED on
PostgreSQL) and the claim (`claim_due` … RETURNING), in one transaction that is rolled back
so every repeat claims the same batch.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from bench import queue_bench

from onthedot.broadcaster import queries
from onthedot.observability.lateness import percentile

WARMUP = 3


@dataclass(frozen=True, slots=True)
class ClaimTiming:
    database: str
    background: int
    claimed: int
    median_ms: float
    p95_ms: float
    load_s: float


async def _claim_once(engine: Any, batch: int) -> tuple[float, int]:
    now = queue_bench.T + dt.timedelta(seconds=1)
    horizon = now + dt.timedelta(seconds=60)
    lease_until = horizon + dt.timedelta(seconds=30)
    started = time.perf_counter()
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            found = (await conn.execute(queries.due_channels(horizon=now, limit=2 * batch))).all()
            wanted = list(dict.fromkeys(r[0] for r in found))
            locked = [r[0] for r in await conn.execute(queries.lock_channels(wanted, limit=batch))]
            claim = queries.claim_due(
                channel_ids=locked,
                horizon=now,
                me="bench",
                lease_until=lease_until,
                since=min(r[1] for r in found) - queries.DUE_SLACK,
            )
            rows = (await conn.execute(claim)).all()
        finally:
            await transaction.rollback()
    return (time.perf_counter() - started) * 1000, len(rows)


async def measure(
    databases: list[str], sizes: list[int], *, postgres_url: str, batch: int, repeat: int
) -> list[ClaimTiming]:
    out = []
    opts = queue_bench.Options(
        sizes=tuple(sizes),
        databases=tuple(databases),
        postgres_url=postgres_url,
        repeat=repeat,
        batch=batch,
        page=50,
        format="text",
    )
    for database in databases:
        for size in sizes:
            async with AsyncExitStack() as stack:
                prepared = await queue_bench.prepare(stack, database, size + opts.fixture, opts)
                claimed = 0
                timings = []
                for i in range(WARMUP + repeat):
                    ms, claimed = await _claim_once(prepared.engine, batch)
                    if i >= WARMUP:
                        timings.append(ms)
                timings.sort()
                out.append(
                    ClaimTiming(
                        database=database,
                        background=size,
                        claimed=claimed,
                        median_ms=statistics.median(timings),
                        p95_ms=percentile(timings, 95),
                        load_s=prepared.load_s,
                    )
                )
                queue_bench.log(
                    f"  claim of {claimed} posts: median {out[-1].median_ms:.1f} ms, "
                    f"p95 {out[-1].p95_ms:.1f} ms"
                )
    return out


def table(timings: list[ClaimTiming]) -> str:
    lines = [
        "| database | other posts stored | posts claimed | claim median ms | p95 ms "
        "| vs smallest |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, float] = {}
    for t in timings:
        base.setdefault(t.database, t.median_ms)
        lines.append(
            f"| {t.database} | {t.background:,} | {t.claimed:,} | {t.median_ms:.1f} "
            f"| {t.p95_ms:.1f} | {t.median_ms / base[t.database]:.2f}x |"
        )
    return "\n".join(lines)


def rows(timings: list[ClaimTiming]) -> list[dict[str, Any]]:
    return [
        {
            "database": t.database,
            "background": t.background,
            "claimed": t.claimed,
            "claim_median_ms": round(t.median_ms, 2),
            "claim_p95_ms": round(t.p95_ms, 2),
            "load_s": round(t.load_s, 1),
        }
        for t in timings
    ]
