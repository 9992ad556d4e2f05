"""The LinkedIn adapter and connector over the contract fake, on a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.networks import Network
from onthedot.networks.base import Job, MediaFile
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.linkedin import (
    LinkedInAdapter,
    LinkedInConnector,
    create_adapter,
    create_connector,
)
from onthedot.networks.registry import NetworkContext
from onthedot.sandbox.fakes.linkedin import LinkedInFake
from tests.unit.networks import helpers
from tests.unit.networks.helpers import CHANNEL

SUB = "abc123"


def make_job(
    credentials: dict[str, Any],
    *texts: str,
    due_at: dt.datetime | None = None,
    media: tuple[MediaFile, ...] = (),
    post_id: int = 41,
) -> Job:
    return helpers.make_job(
        Network.LINKEDIN,
        "Ada Lovelace",
        credentials,
        texts or ("Hello, LinkedIn",),
        due_at=due_at or dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC),
        media=media,
        post_id=post_id,
    )


def media_file(tmp_path: Path, name: str, content_type: str, size: int) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return MediaFile(path=path, content_type=content_type, size=size, filename=name)


@dataclass
class World:
    clock: FrozenClock
    fake: LinkedInFake
    store: MemoryCredentialStore
    adapter: LinkedInAdapter
    connector: LinkedInConnector
    http: HttpClient

    def connect(self, *, refresh: bool = False) -> dict[str, Any]:
        credentials = self.fake.credentials(SUB, refresh=refresh)
        self.store.credentials[CHANNEL] = dict(credentials)
        return credentials


Build = Callable[..., World]


def build(
    clock: FrozenClock,
    fake: LinkedInFake,
    transport: httpx.AsyncBaseTransport | None = None,
) -> World:
    http = HttpClient(transport=transport or httpx.ASGITransport(app=fake.app))
    settings = Settings(
        linkedin_client_id=fake.client_id,
        linkedin_client_secret=SecretStr(fake.client_secret),
        public_url="https://onthedot.example",
    )
    store = MemoryCredentialStore()
    context = NetworkContext(settings=settings, clock=clock, store=store, http=http)
    return World(clock, fake, store, create_adapter(context), create_connector(context), http)


@pytest.fixture
def fake(clock: FrozenClock) -> LinkedInFake:
    fake = LinkedInFake(clock)
    fake.add_member(SUB, "Ada Lovelace")
    return fake


@pytest.fixture
async def world(clock: FrozenClock, fake: LinkedInFake) -> AsyncIterator[World]:
    w = build(clock, fake)
    yield w
    await w.http.aclose()
