"""A Mastodon instance (the contract fake) and the adapter pointed at it, on a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.networks import Network
from onthedot.networks.base import Job, MediaFile
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.mastodon import MastodonAdapter, MastodonConnector
from onthedot.networks.registry import NetworkContext
from onthedot.sandbox.fakes.mastodon import FakeMastodon, create_app
from tests.unit.networks.helpers import CHANNEL, make_job

T0 = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
INSTANCE = "https://mastodon.example"


@dataclass
class Rig:
    clock: FrozenClock
    fake: FakeMastodon
    store: MemoryCredentialStore
    context: NetworkContext
    adapter: MastodonAdapter
    credentials: dict[str, Any]
    tmp: Path
    transport: httpx.AsyncBaseTransport
    clients: list[HttpClient] = field(default_factory=list)

    def job(
        self,
        *texts: str,
        post_id: int = 41,
        media: tuple[MediaFile, ...] = (),
        due_at: dt.datetime | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> Job:
        return make_job(
            Network.MASTODON,
            "@alice@mastodon.example",
            credentials or self.credentials,
            texts or ("Hello, fediverse",),
            due_at=due_at or self.clock.now(),
            media=media,
            post_id=post_id,
        )

    def file(self, name: str, content_type: str, size: int = 2048) -> MediaFile:
        path = self.tmp / name
        path.write_bytes(b"\x00" * size)
        return MediaFile(path=path, content_type=content_type, size=size, filename=name)

    def adapter_over(self, transport: httpx.AsyncBaseTransport, **http: Any) -> MastodonAdapter:
        client = HttpClient(transport=transport, **http)
        self.clients.append(client)
        context = NetworkContext(
            settings=self.context.settings, clock=self.clock, store=self.store, http=client
        )
        return MastodonAdapter(context)

    def connector(self, **settings: Any) -> MastodonConnector:
        values: dict[str, Any] = {"public_url": "https://onthedot.example", **settings}
        context = NetworkContext(
            settings=Settings(_env_file=None, **values),
            clock=self.clock,
            store=self.store,
            http=self.context.http,
        )
        return MastodonConnector(context)


Make = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = FrozenClock(T0)
    fake = create_app(clock)
    transport = httpx.ASGITransport(app=fake.app)
    http = HttpClient(transport=transport)
    token = fake.issue_token("alice", "read write")
    credentials = {
        "instance": INSTANCE,
        "access_token": token,
        "token_type": "Bearer",
        "scope": "read write",
        "account_id": fake.accounts["alice"].id,
    }
    store = MemoryCredentialStore({CHANNEL: credentials})
    context = NetworkContext(
        settings=Settings(_env_file=None, public_url="https://onthedot.example"),
        clock=clock,
        store=store,
        http=http,
    )
    rig = Rig(
        clock, fake, store, context, MastodonAdapter(context), credentials, tmp_path, transport
    )
    yield rig
    await http.aclose()
    for client in rig.clients:
        await client.aclose()
