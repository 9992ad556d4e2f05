"""A spike through the real broadcaster and the sandbox network, then the lateness report
(from the CLI and from the API) checked against the sandbox's own record of arrivals.

In process, on one frozen clock: the broadcaster publishes to the sandbox app over ASGI, so a
post's arrival at the sandbox and the broadcaster's `published_at` are the same instant and
the report's buckets must equal those computed from the sandbox's records exactly. The clock
is moved in steps, so groups of posts go out 30 s, 10 s, 5 s, 3 s, 0.4 s and 121 s late;
some fail (the sandbox refuses their text) and some are still held on a paused channel.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import struct
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Membership, Role
from onthedot.accounts.service import Member
from onthedot.api import create_app
from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.channels import service as channels_service
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.db.engine import create_sessionmaker
from onthedot.networks import Network
from onthedot.networks.sandbox import SandboxAdapter
from onthedot.observability import lateness
from onthedot.posts.models import Post, PostItem
from onthedot.reports.cli import report_app
from onthedot.sandbox.app import create_sandbox_app
from onthedot.sandbox.config import SandboxConfig
from onthedot.sandbox.spike import Seeded, seed

UTC = dt.UTC
T = dt.datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
S = dt.timedelta(seconds=1)
CHANNELS = 30
POSTS = 300  # ten per channel

# Channel index -> due time, and when the clock moves past it (see the module's docstring).
GROUPS: dict[range, dt.timedelta] = {
    range(0, 10): 0 * S,  # out at T+30 s: 30 s late
    range(10, 15): 40 * S,  # out at T+50 s: 10 s late
    range(28, 30): 45 * S,  # out at T+50 s: 5 s late (the 5–15 s bucket's lower edge)
    range(15, 20): 52 * S,  # out at T+55 s: 3 s late
    range(20, 25): 58 * S,  # out at T+58.4 s: on time
    range(25, 28): 59 * S,  # 25 paused until T+3 min (121 s late), 26 stays paused, 27 fails
}
EXPECTED = {"0-1s": 50, "1-5s": 50, "5-15s": 70, "15-60s": 100, "1-5min": 10}


@dataclass
class Spiked:
    seeded: Seeded
    other: Seeded
    records: list[dict[str, Any]]
    token: str
    other_token: str


async def _token(engine: AsyncEngine, workspace_id: int, now: dt.datetime) -> tuple[str, Member]:
    async with create_sessionmaker(engine)() as session, session.begin():
        owner = await session.scalar(
            select(Membership).where(
                Membership.workspace_id == workspace_id, Membership.role == Role.OWNER
            )
        )
        assert owner is not None
        _, plain = await accounts_service.create_token(
            session, workspace_id=workspace_id, user_id=owner.user_id, name="report", now=now
        )
    return plain, Member(owner.user_id, workspace_id, Role.OWNER)


async def _step(b: Broadcaster, clock: FrozenClock, at: dt.datetime) -> None:
    clock.set(at)
    await b.pump()
    await b.settle()


@pytest.fixture
async def spiked(
    engine: AsyncEngine, clock: FrozenClock, settings: Settings, box: CredentialBox
) -> AsyncIterator[Spiked]:
    clock.set(T - 30 * S)
    sandbox = create_sandbox_app(SandboxConfig(seed=1, max_chars=500), clock=clock)
    seeded = await seed(engine, posts=POSTS, channels=CHANNELS, due_at=T, tag="main")
    # Another workspace's posts due in the same minute: in the installation's report only.
    other = await seed(engine, posts=20, channels=2, due_at=T, tag="other")
    channels = seeded.channel_ids
    async with engine.begin() as conn:
        for indexes, offset in GROUPS.items():
            ids = [channels[i] for i in indexes]
            await conn.execute(
                update(Post).where(Post.channel_id.in_(ids)).values(due_at=T + offset)
            )
        failing = select(Post.id).where(Post.channel_id == channels[27]).scalar_subquery()
        await conn.execute(
            update(PostItem).where(PostItem.post_id.in_(failing)).values(text="x" * 600)
        )
    token, owner = await _token(engine, seeded.workspace_id, clock.now())
    other_token, _ = await _token(engine, other.workspace_id, clock.now())
    sessions = create_sessionmaker(engine)
    for index in (25, 26):
        async with sessions() as session, session.begin():
            await channels_service.pause(
                session, member=owner, channel_id=channels[index], now=clock.now()
            )

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox"
    ) as http:
        adapter = SandboxAdapter("http://sandbox", client=http, idempotent=True, clock=clock)
        b = Broadcaster(
            engine,
            {Network.SANDBOX: adapter},
            clock=clock,
            config=Config.from_settings(settings),
            box=box,
            rng=random.Random(1),
        )
        await b.start()
        try:
            await _step(b, clock, T - 30 * S)
            await _step(b, clock, T + 30 * S)
            await _step(b, clock, T + 50 * S)
            await _step(b, clock, T + 55 * S)
            await _step(b, clock, T + 58.4 * S)
            await _step(b, clock, T + 2 * 60 * S)
            clock.set(T + 3 * 60 * S)
            async with sessions() as session, session.begin():
                await channels_service.resume(
                    session,
                    member=owner,
                    channel_id=channels[25],
                    now=clock.now(),
                    past_pinned="publish",
                )
            await _step(b, clock, T + 3 * 60 * S)
        finally:
            await b.shutdown()
        records = sandbox.state.sandbox.records
        yield Spiked(seeded, other, list(records), token, other_token)


def _expected_from_sandbox(records: list[dict[str, Any]], post_ids: set[int]) -> dict[str, Any]:
    """Buckets, failures and percentiles of the given posts, from the sandbox's records."""
    first: dict[int, float] = {}
    refused: set[int] = set()
    for record in records:
        post_id, _, position = str(record["ref"]).partition("/")
        if int(post_id) not in post_ids or position != "0":
            continue
        if record["created"]:
            if int(post_id) not in first:
                first[int(post_id)] = (record["arrived_at"] - record["due_at"]).total_seconds()
        elif 400 <= record["status"] < 500 and record["status"] != 429:
            refused.add(int(post_id))
    buckets = Counter(lateness.bucket_of(v) for v in first.values())
    return {
        "buckets": {b.key: buckets.get(b.key, 0) for b in lateness.BUCKETS},
        "early": buckets.get("early", 0),
        "failed": len(refused - first.keys()),
        "unsent": len(post_ids - first.keys() - refused),
        "lateness_s": _numpy_summary(list(first.values())),
    }


def _cli(*args: str, db_url: str) -> Any:
    return CliRunner().invoke(
        report_app,
        list(args),
        env={"ONTHEDOT_DATABASE_URL": db_url, "COLUMNS": "200"},
        catch_exceptions=False,
    )


def _check_png(png: bytes) -> None:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 400 < width < 3000 and 200 < height < 2000
    assert len(png) > 5_000


async def test_the_report_counts_what_the_sandbox_received(
    spiked: Spiked,
    db_url: str,
    tmp_path: Path,
    settings: Settings,
    engine: AsyncEngine,
    clock: FrozenClock,
    box: CredentialBox,
) -> None:
    mine = set(spiked.seeded.post_ids)
    expected = _expected_from_sandbox(spiked.records, mine)
    # What the steps were made to produce, and the sandbox agrees.
    assert expected["buckets"] == {b.key: EXPECTED.get(b.key, 0) for b in lateness.BUCKETS}
    assert expected["early"] == 0 and expected["failed"] == 10 and expected["unsent"] == 10

    # The CLI, in Berlin's time, for the seeded workspace, as JSON and as a chart.
    png = tmp_path / "lateness.png"
    done = await asyncio.to_thread(
        _cli,
        "lateness",
        "--due",
        "2026-11-26T09:00",
        "--tz",
        "Europe/Berlin",
        "--workspace",
        str(spiked.seeded.workspace_id),
        "--format",
        "json",
        "--png",
        str(png),
        db_url=db_url,
    )
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    total = body["total"]
    assert total["posts"] == POSTS
    assert total["buckets"] == expected["buckets"]
    assert total["early"] == 0 and total["sent_untimed"] == 0
    assert total["failed"] == expected["failed"] == 10
    assert total["not_yet_sent"] == expected["unsent"] == 10
    assert total["unknown"] == 0 and total["missed"] == 0
    assert total["lateness_s"] == pytest.approx(expected["lateness_s"])
    assert list(body["networks"]) == ["sandbox"]
    assert body["networks"]["sandbox"] == total
    assert body["minute"]["start_utc"] == "2026-11-26T08:00:00Z"
    _check_png(png.read_bytes())

    # The table, for every workspace: the other workspace's 20 posts, 30 s late, count too.
    done = await asyncio.to_thread(_cli, "lateness", "--due", "2026-11-26T08:00", db_url=db_url)
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert "all workspaces" in lines[0]
    row = next(line for line in lines if line.startswith("15–60 s"))
    assert row.split()[-1] == str(EXPECTED["15-60s"] + 20)
    row = next(line for line in lines if line.startswith("posts"))
    assert row.split()[-1] == str(POSTS + 20)

    # The API: the same JSON for the workspace's own token, and the chart.
    app = create_app(settings, clock=clock, engine=engine, box=box)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        query = {"due": "2026-11-26T09:00", "tz": "Europe/Berlin"}
        headers = {"Authorization": f"Bearer {spiked.token}"}
        answer = await http.get("/api/v1/reports/lateness", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == body
        chart = await http.get("/api/v1/reports/lateness.png", params=query, headers=headers)
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        _check_png(chart.content)
        # Another workspace sees its own posts only.
        theirs = await http.get(
            "/api/v1/reports/lateness",
            params=query,
            headers={"Authorization": f"Bearer {spiked.other_token}"},
        )
        assert theirs.status_code == 200
        assert theirs.json()["total"]["posts"] == 20
        assert theirs.json()["total"]["buckets"]["15-60s"] == 20
        assert theirs.json()["workspace_id"] == spiked.other.workspace_id


def _numpy_summary(values: list[float]) -> dict[str, float | None]:
    """The expected percentiles, by numpy: an oracle independent of the report's own code."""
    if not values:
        return dict.fromkeys(("p50", "p95", "p99", "max"))
    p50, p95, p99 = (float(v) for v in np.percentile(sorted(values), [50, 95, 99]))
    return {"p50": p50, "p95": p95, "p99": p99, "max": max(values)}
