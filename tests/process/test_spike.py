"""Spikes with real processes: the sandbox server, broadcaster processes, real kills.

Thousands of posts fall due in the same second; a broadcaster is SIGKILLed while its calls are
in flight, the network answers 429/503/lost 502s, or the database restarts. Every post must
reach the sandbox exactly once, never before its due time, and end `sent` in the database.
Each test prints its report (`pytest -s` shows it).

The PostgreSQL tests run when ONTHEDOT_TEST_POSTGRES_URL points at a server, like the rest of
the suite; each creates its own database and drops it. The database-restart test runs a
private cluster instead (initdb/pg_ctl of PostgreSQL 15), so no other database is disturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from onthedot.sandbox.spike import (
    CLOCK,
    PostgresCluster,
    Report,
    SandboxOptions,
    Spike,
    postgres_database,
    sqlite_database,
)

PG_ENV = "ONTHEDOT_TEST_POSTGRES_URL"

# Short leases and heartbeats: a dead broadcaster's posts come back within seconds.
FAST = {
    "lease_s": 5,
    "heartbeat_s": 0.5,
    "poll_s": 0.2,
    "prepare_lead_s": 10,
}
# Lognormal latency, median 150 ms and p99 1 s: hundreds of calls are in flight at T.
LOGNORMAL = {"latency_median_ms": 150.0, "latency_p99_ms": 1000.0}
SPIKE_POSTS = 5000
SPIKE_CHANNELS = 500

pytestmark = pytest.mark.slow


def _require_pg() -> bool:
    return os.environ.get("ONTHEDOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if _require_pg():
            pytest.fail(f"{PG_ENV} is not set but ONTHEDOT_REQUIRE_POSTGRES=1")
        pytest.skip(f"PostgreSQL tests are off; set {PG_ENV} to run them")
    return url


@pytest.fixture
async def pg_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A migrated database of this test's own, dropped at the end."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(postgres_database(pg_admin_url))
        except (OSError, DBAPIError) as exc:
            if _require_pg():
                pytest.fail(f"cannot create a PostgreSQL test database: {exc}")
            pytest.skip(f"PostgreSQL is not reachable: {exc}")
        yield url


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster, destroyed at the end."""
    why = PostgresCluster.missing()
    if why is not None:
        pytest.skip(f"no private PostgreSQL cluster for the restart test: {why}")
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _check(report: Report, spike: Spike) -> None:
    print(report.format())  # visible with -s
    problems = report.problems()
    if problems:
        pytest.fail(
            f"{report.label}: {'; '.join(problems)}\n{report.format()}\n{spike.logs()}",
            pytrace=False,
        )


async def _kill_while_in_flight(spike: Spike, *, at_least: int = 50) -> str:
    """After T, SIGKILL the broadcaster with the most calls in flight: posts it moved to
    `publishing` and has not finished, once it has `at_least` of them and the sandbox has
    received at least `at_least` post requests (the calls are on the wire, not just
    committed)."""
    assert spike.seeded is not None
    await CLOCK.sleep_until(spike.seeded.due_at)
    deadline = spike.seeded.due_at + dt.timedelta(seconds=10)
    while True:
        counts = await spike.publishing()
        requests = int((await spike.sandbox.stats())["requests"])
        live = {p.name: counts.get(p.name, 0) for p in spike.broadcasters if p.alive}
        victim = max(live, key=lambda name: live[name])
        in_flight = live[victim] >= at_least and requests >= at_least
        if in_flight or dt.datetime.now(dt.UTC) > deadline:
            break
        await asyncio.sleep(0.01)
    spike.note(
        f"{victim} has {live[victim]} posts publishing (calls in flight per broadcaster: "
        f"{live}); the sandbox has received {requests} post requests"
    )
    await spike.kill(victim)
    return victim


async def _two_broadcaster_spike(
    spike: Spike, *, label: str, kill: bool = True, cluster: PostgresCluster | None = None
) -> None:
    await spike.start_sandbox()
    await spike.start_broadcasters(2)
    await spike.seed(posts=SPIKE_POSTS, channels=SPIKE_CHANNELS, due_in_s=5)
    if kill:
        await _kill_while_in_flight(spike)
    if cluster is not None:
        assert spike.seeded is not None
        await CLOCK.sleep_until(spike.seeded.due_at + dt.timedelta(seconds=0.5))
        counts = await spike.publishing()
        spike.note(f"pg_ctl -m fast stop; posts publishing per broadcaster {counts}")
        await asyncio.to_thread(cluster.stop, "fast")
        spike.note("PostgreSQL stopped")
        await asyncio.sleep(4)
        await asyncio.to_thread(cluster.start)
        spike.note("PostgreSQL started again")
    await spike.wait_until_final(timeout_s=150)
    for proc in spike.broadcasters:
        if proc.ended is None:
            assert proc.alive, f"broadcaster {proc.name} died:\n{proc.log()}"
    if cluster is not None:
        # How each broadcaster rode out the restart: its "… failed, retrying" warnings.
        retried = {p.name: p.log().count("failed, retrying") for p in spike.broadcasters}
        spike.note(f"database errors retried per broadcaster: {retried}")
    _check(await spike.report(label), spike)


@pytest.mark.timeout(120)
async def test_smoke_sqlite_one_broadcaster(tmp_path: Path) -> None:
    """CI smoke: 300 posts due a few seconds ahead, one broadcaster on SQLite."""
    options = SandboxOptions(latency_median_ms=20, latency_p99_ms=100)
    async with (
        sqlite_database(tmp_path) as url,
        Spike(url, tmp_path / "run", options, settings=FAST) as spike,
    ):
        await spike.start_sandbox()
        await spike.start_broadcasters(1)
        await spike.seed(posts=300, channels=30, due_in_s=3)
        await spike.wait_until_final(timeout_s=60)
        _check(await spike.report("SQLite, 1 broadcaster, 300 posts"), spike)


@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_sigkill_during_the_spike(tmp_path: Path, pg_url: str) -> None:
    """Two broadcasters; one is SIGKILLed at T with calls in flight. The survivor finds its
    posts stale, looks for those left `publishing` among the accounts' recent posts (the
    sandbox keeps no idempotency keys) and publishes the rest."""
    options = SandboxOptions(**LOGNORMAL, idempotency="none", seed=1)
    async with Spike(pg_url, tmp_path / "run", options, settings=FAST) as spike:
        await _two_broadcaster_spike(
            spike, label="PostgreSQL, 2 broadcasters, SIGKILL one at T, idempotency none"
        )


@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_sigkill_with_throttling_errors_and_lost_answers(tmp_path: Path, pg_url: str) -> None:
    """The same, with 5 % of post requests answered 429 (retry after 1 s), 5 % 503 and 5 %
    created but answered 502 (the answer lost). A transient error's first retry backs off
    1–2 s; a lost answer is looked for before the post is tried again."""
    options = SandboxOptions(
        **LOGNORMAL,
        throttle_rate=0.05,
        error_rate=0.05,
        ghost_rate=0.05,
        idempotency="none",
        seed=2,
    )
    async with Spike(pg_url, tmp_path / "run", options, settings=FAST) as spike:
        await _two_broadcaster_spike(
            spike,
            label="PostgreSQL, 2 broadcasters, SIGKILL one at T, 429/503/ghost 502, "
            "idempotency none",
        )


@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_database_restart_during_the_spike(
    tmp_path: Path, pg_admin_url: str, cluster: PostgresCluster
) -> None:
    """Two broadcasters on a private cluster; PostgreSQL is stopped (fast) half a second
    after T and started again 4 s later. Both broadcasters reconnect and finish."""
    del pg_admin_url  # PostgreSQL tests are opted into like the others
    options = SandboxOptions(**LOGNORMAL, idempotency="none", seed=3)
    async with (
        postgres_database(cluster.admin_url) as url,
        Spike(url, tmp_path / "run", options, settings=FAST) as spike,
    ):
        try:
            await _two_broadcaster_spike(
                spike,
                label="PostgreSQL (private cluster), 2 broadcasters, database restarted at "
                "T+0.5 s, idempotency none",
                kill=False,
                cluster=cluster,
            )
        finally:
            if not cluster.running:
                await asyncio.to_thread(cluster.start)
