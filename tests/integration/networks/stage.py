"""The stage on which the real broadcaster publishes to one network's contract fake.

A test file says what is particular to its network in a `Setup`: the fake and its app, the
channel's handle and credentials, how to build the adapter, and which request publishes (whose
answer a test may have lost). `open_stage` (a fixture in this folder's conftest) builds the
rest the same way for every network: a channel with sealed credentials, the adapter over the
fake through `HttpClient` and an ASGI transport that can lose answers, and a started broadcaster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import httpx
from starlette.applications import Starlette

from onthedot.broadcaster.engine import Broadcaster
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import Adapter
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.registry import NetworkContext
from onthedot.posts.models import AttemptOutcome, Post, PostItem, PublishAttempt
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.integration.broadcaster.conftest import Ledger, make_broadcaster

F = TypeVar("F")
S = dt.timedelta(seconds=1)


@dataclass
class Setup(Generic[F]):
    """What is particular to one network's stage."""

    network: Network
    fake: F
    app: Starlette
    handle: str
    credentials: Mapping[str, Any]
    adapter: Callable[[NetworkContext], Adapter]
    # The request that publishes: a test can have the network act on it and the answer lost.
    publishes: Callable[[httpx.Request], bool]
    settings: Settings = field(default_factory=lambda: Settings(_env_file=None))


class Losing:
    """Picks the answers to lose: those to publishing requests, while a test asks for it."""

    def __init__(self, publishes: Callable[[httpx.Request], bool]) -> None:
        self._publishes = publishes
        self.left = 0.0

    def __call__(self, request: httpx.Request) -> bool:
        if self.left <= 0 or not self._publishes(request):
            return False
        self.left -= 1
        return True


@dataclass
class Stage(Generic[F]):
    ledger: Ledger
    setup: Setup[F]
    box: CredentialBox  # seals the channel's credentials, signs public media addresses
    channel_id: int
    broadcaster: Broadcaster
    http: HttpClient
    lossy: LoseAnswers  # `lossy.lost`: the requests whose answers were lost
    losing: Losing

    @property
    def fake(self) -> F:
        return self.setup.fake

    @property
    def clock(self) -> FrozenClock:
        return self.ledger.clock

    def lose_answers(self, times: int | None = None) -> None:
        """Lose the answers to publishing requests: the next `times`, or all until kept."""
        self.losing.left = math.inf if times is None else times

    def keep_answers(self) -> None:
        self.losing.left = 0

    async def post(self, at: dt.datetime, *texts: str, media_ids: tuple[int, ...] = ()) -> int:
        return await self.ledger.post(self.channel_id, at, *texts, media_ids=media_ids)

    async def force(self, post_id: int, **values: object) -> None:
        await self.ledger.force(post_id, **values)

    async def get(self, post_id: int) -> Post:
        return await self.ledger.get(post_id)

    async def items(self, post_id: int) -> list[PostItem]:
        return await self.ledger.items(post_id)

    async def outcomes(self, post_id: int) -> list[AttemptOutcome]:
        return await self.ledger.outcomes(post_id)

    async def read(self, post_id: int) -> tuple[Post, list[PostItem], list[PublishAttempt]]:
        """The post, its items and its attempts, as they are now."""
        ledger = self.ledger
        return (
            await ledger.get(post_id),
            await ledger.items(post_id),
            await ledger.attempts(post_id),
        )

    async def tick(self, at: dt.datetime | None = None) -> None:
        """Move the clock to `at` (if given), then claim what is due and let it all finish."""
        if at is not None:
            self.clock.set(at)
        await self.broadcaster.pump()
        await self.broadcaster.settle()

    async def run_until(self, due: dt.datetime) -> None:
        """Prepare what is coming up, then move the clock to `due` and let it go out."""
        await self.tick()
        self.clock.set(due)
        await self.broadcaster.settle()


class OpenStage(Protocol):
    """The `open_stage` fixture: opens a stage that is taken down after the test."""

    def __call__(self, setup: Setup[F], /) -> Awaitable[Stage[F]]: ...


@asynccontextmanager
async def staged(ledger: Ledger, box: CredentialBox, setup: Setup[F]) -> AsyncIterator[Stage[F]]:
    """A started broadcaster publishing `setup`'s channel to its fake; stopped on the way out."""
    losing = Losing(setup.publishes)
    lossy = LoseAnswers(httpx.ASGITransport(app=setup.app), lose=losing)
    http = HttpClient(transport=lossy)
    channel_id = await ledger.channel(
        setup.handle, network=setup.network, credentials=setup.credentials, box=box
    )
    context = NetworkContext(
        settings=setup.settings,
        clock=ledger.clock,
        store=MemoryCredentialStore({channel_id: setup.credentials}),
        http=http,
        box=box,
    )
    broadcaster = make_broadcaster(
        ledger.engine,
        {setup.network: setup.adapter(context)},
        clock=ledger.clock,
        box=box,
        media_dir=setup.settings.media_dir,
    )
    await broadcaster.start()
    try:
        yield Stage(ledger, setup, box, channel_id, broadcaster, http, lossy, losing)
    finally:
        await broadcaster.shutdown()
        await http.aclose()
