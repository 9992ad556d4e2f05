"""Fixtures for the broadcaster: a fake network, a broadcaster on it, and post makers.

`Ledger` and `make_broadcaster` serve the network stages too (tests/integration/networks/stage.py).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import Adapter
from onthedot.posts import service as posts
from onthedot.posts.models import AttemptOutcome, Post, PostItem, PublishAttempt
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team
from tests.integration.broadcaster.fake import FakeNetwork

Maker = async_sessionmaker[AsyncSession]


def make_broadcaster(
    engine: AsyncEngine,
    adapters: Mapping[Network, Adapter],
    *,
    clock: FrozenClock,
    config: Mapping[str, object] | None = None,
    **options: Any,
) -> Broadcaster:
    """A broadcaster as the tests run it: a minute's lead, 30 s leases, seeded jitter."""
    overrides: dict[str, Any] = {"prepare_lead_s": 60.0, "lease_s": 30.0, **(config or {})}
    return Broadcaster(
        engine,
        adapters,
        clock=clock,
        config=Config.from_settings(**overrides),
        rng=random.Random(7),
        **options,
    )


@dataclass
class Ledger:
    """Writes channels and posts as the owner would, and reads back what became of them."""

    maker: Maker
    engine: AsyncEngine
    clock: FrozenClock
    team: Team

    async def channel(
        self,
        handle: str = "@a",
        schedule: str = "daily 08:00",
        *,
        network: Network = Network.SANDBOX,
        credentials: Mapping[str, Any] | None = None,
        box: CredentialBox | None = None,
    ) -> int:
        async with self.maker() as s, s.begin():
            ch = await channels.create_channel(
                s,
                member=self.team.owner.member,
                network=network,
                handle=handle,
                timezone="UTC",
                schedule=schedule,
                credentials=dict(credentials) if credentials is not None else None,
                box=box,
                now=self.clock.now(),
            )
            return ch.id

    async def post(
        self, channel_id: int, at: dt.datetime, *texts: str, media_ids: tuple[int, ...] = ()
    ) -> int:
        async with self.maker() as s, s.begin():
            (post,) = await posts.create_posts(
                s,
                member=self.team.owner.member,
                channel_ids=[channel_id],
                items=[ItemInput(text=t, media_ids=media_ids) for t in (texts or ("hello",))],
                mode=Mode.CUSTOM,
                at=at,
                now=self.clock.now(),
            )
            return post.id

    async def force(self, post_id: int, **values: object) -> None:
        """Put a post in a state directly, as another (or a dead) broadcaster left it."""
        async with self.engine.begin() as conn:
            await conn.execute(update(Post).where(Post.id == post_id).values(**values))

    async def get(self, post_id: int) -> Post:
        async with self.maker() as s:
            found = await s.get(Post, post_id)
            assert found is not None
            return found

    async def items(self, post_id: int) -> list[PostItem]:
        async with self.maker() as s:
            rows = await s.scalars(
                select(PostItem).where(PostItem.post_id == post_id).order_by(PostItem.position)
            )
            return list(rows)

    async def attempts(self, post_id: int) -> list[PublishAttempt]:
        async with self.maker() as s:
            rows = await s.scalars(
                select(PublishAttempt)
                .where(PublishAttempt.post_id == post_id)
                .order_by(PublishAttempt.id)
            )
            return list(rows)

    async def outcomes(self, post_id: int) -> list[AttemptOutcome]:
        return [a.outcome for a in await self.attempts(post_id)]


@dataclass
class World(Ledger):
    net: FakeNetwork
    revoked: list[tuple[int, str]]

    def broadcaster(self, **config: object) -> Broadcaster:
        return make_broadcaster(
            self.engine,
            {Network.SANDBOX: self.net},
            clock=self.clock,
            config=config,
            on_channel_revoked=lambda cid, why: self.revoked.append((cid, why)),
        )


@pytest.fixture
async def world(sessionmaker: Maker, engine: AsyncEngine, clock: FrozenClock, team: Team) -> World:
    return World(sessionmaker, engine, clock, team, FakeNetwork(clock=clock), [])


@pytest.fixture
async def running(world: World) -> AsyncIterator[Callable[..., Awaitable[Broadcaster]]]:
    """Start broadcasters that are shut down at the end of the test."""
    started: list[Broadcaster] = []

    async def start(**config: object) -> Broadcaster:
        b = world.broadcaster(**config)
        await b.start()
        started.append(b)
        return b

    yield start
    for b in started:
        await b.shutdown()
