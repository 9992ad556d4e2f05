"""The whole stack on one port for the observability tests: the API with the sandbox mounted,
served by uvicorn (the broadcaster's adapter speaks real HTTP), a frozen clock, and a real
broadcaster reporting to the app's metrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.api import create_app
from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.sandbox import SandboxAdapter
from onthedot.observability.metrics import Metrics
from onthedot.observability.observer import Observer
from onthedot.posts import service as posts
from onthedot.posts.service import ItemInput, Mode
from onthedot.sandbox.spike import free_port
from tests.conftest import Team
from tests.integration.broadcaster.conftest import World
from tests.integration.broadcaster.fake import FakeNetwork


@dataclass
class Stack:
    app: FastAPI
    url: str
    clock: FrozenClock
    engine: AsyncEngine
    maker: async_sessionmaker[AsyncSession]
    box: CredentialBox
    team: Team
    metrics: Metrics

    def broadcaster(self, **config: object) -> Broadcaster:
        adapter = SandboxAdapter(f"{self.url}/sandbox", clock=self.clock)
        return Broadcaster(
            self.engine,
            {Network.SANDBOX: adapter},
            clock=self.clock,
            config=Config.from_settings(**{"prepare_lead_s": 60.0, **config}),
            box=self.box,
            rng=random.Random(7),
            observer=Observer(self.metrics),
        )

    async def channels(self, count: int, *, credentials: dict[str, str] | None = None) -> list[int]:
        async with self.maker() as s, s.begin():
            made = [
                await channels.create_channel(
                    s,
                    member=self.team.owner.member,
                    network=Network.SANDBOX,
                    handle=f"@acct{n}",
                    timezone="UTC",
                    schedule="daily 08:00",
                    credentials=credentials,
                    box=self.box,
                    now=self.clock.now(),
                )
                for n in range(count)
            ]
            return [c.id for c in made]

    async def posts(self, channel_ids: Sequence[int], at: dt.datetime, per_channel: int) -> int:
        """`per_channel` posts on each channel, all due at `at`; how many were made."""
        made = 0
        for n in range(per_channel):
            async with self.maker() as s, s.begin():
                made += len(
                    await posts.create_posts(
                        s,
                        member=self.team.owner.member,
                        channel_ids=list(channel_ids),
                        items=[ItemInput(text=f"post {n}")],
                        mode=Mode.CUSTOM,
                        at=at,
                        now=self.clock.now(),
                    )
                )
        return made


@pytest.fixture
async def stack(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    box: CredentialBox,
    team: Team,
) -> AsyncIterator[Stack]:
    metrics = Metrics()
    app = create_app(
        settings, clock=clock, engine=engine, box=box, with_sandbox=True, metrics=metrics
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield Stack(
            app, f"http://127.0.0.1:{port}", clock, engine, sessionmaker, box, team, metrics
        )
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
    team: Team,
) -> World:
    """The broadcaster tests' world: a fake network and post makers."""
    return World(sessionmaker, engine, clock, team, FakeNetwork(clock=clock), [])
