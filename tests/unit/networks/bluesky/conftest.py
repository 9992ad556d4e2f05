"""The Bluesky adapter and connector over the contract fake, on a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.base import Account, Job, MediaFile
from onthedot.networks.bluesky import BlueskyAdapter, BlueskyConnector
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.sandbox.fakes.bluesky import BlueskyFake
from tests.unit.networks.helpers import CHANNEL, make_job

HANDLE = "alice.bsky.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
ENTRYWAY = "https://bsky.test"
VIDEO = "https://video.bsky.test"


@dataclass
class Bluesky:
    fake: BlueskyFake
    clock: FrozenClock
    store: MemoryCredentialStore
    credentials: dict[str, Any]
    adapter: BlueskyAdapter
    make_http: Callable[..., HttpClient]

    def adapter_over(self, transport: httpx.AsyncBaseTransport) -> BlueskyAdapter:
        return BlueskyAdapter(
            http=HttpClient(transport=transport),
            clock=self.clock,
            store=self.store,
            video_service=VIDEO,
        )

    def job(
        self,
        *texts: str,
        post_id: int = 41,
        media: tuple[MediaFile, ...] = (),
        due_at: dt.datetime | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> Job:
        return make_job(
            Network.BLUESKY,
            "@" + HANDLE,
            credentials if credentials is not None else self.credentials,
            texts or ("hello from onthedot",),
            due_at=due_at or self.clock.now(),
            media=media,
            post_id=post_id,
        )

    def account(self) -> Account:
        return self.job().account

    def nsids(self) -> list[str]:
        return [nsid for _, _, nsid in self.fake.calls]


@pytest.fixture
async def bsky(clock: FrozenClock) -> AsyncIterator[Bluesky]:
    fake = BlueskyFake(clock, video_host="video.bsky.test")
    fake.add_account(HANDLE, APP_PASSWORD, display_name="Alice")
    fake.add_account("bob.bsky.test", "bbbb-bbbb-bbbb-bbbb")
    clients: list[HttpClient] = []

    def make_http(transport: httpx.AsyncBaseTransport | None = None) -> HttpClient:
        client = HttpClient(transport=transport or httpx.ASGITransport(app=fake.app))
        clients.append(client)
        return client

    connector = BlueskyConnector(http=make_http(), clock=clock, entryway=ENTRYWAY)
    connected = await connector.login(options={"identifier": HANDLE, "app_password": APP_PASSWORD})
    store = MemoryCredentialStore({CHANNEL: connected.credentials})
    adapter = BlueskyAdapter(http=make_http(), clock=clock, store=store, video_service=VIDEO)
    fake.calls.clear()
    yield Bluesky(fake, clock, store, dict(connected.credentials), adapter, make_http)
    for client in clients:
        await client.aclose()


def png(width: int, height: int) -> bytes:
    """The start of a PNG: enough for its header to give the size."""
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x06\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + ihdr + b"\x00" * 40
