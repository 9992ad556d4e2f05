"""An X adapter and connector over the X contract fake, through onthedot's HttpClient."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from onthedot.networks.registry import NetworkContext
from onthedot.networks.x import XAdapter, XConnector, create_adapter, create_connector
from onthedot.sandbox.fakes.x import User, XFake, app_for
from tests.unit.networks.helpers import CHANNEL, make_job

BASE = "https://api.x.test"


@dataclass
class XWorld:
    clock: FrozenClock
    fake: XFake
    store: MemoryCredentialStore
    adapter: XAdapter
    connector: XConnector
    context: NetworkContext
    user: User
    credentials: dict[str, Any]

    def job(
        self,
        *texts: str,
        post_id: int = 41,
        due_at: dt.datetime | None = None,
        media: tuple[MediaFile, ...] = (),
        credentials: dict[str, Any] | None = None,
    ) -> Job:
        return make_job(
            Network.X,
            f"@{self.user.username}",
            credentials or self.credentials,
            texts or ("hello, X",),
            due_at=due_at or self.clock.now(),
            media=media,
            post_id=post_id,
        )


def connect(fake: XFake, user: User) -> dict[str, Any]:
    access, refresh, expires = fake.issue(user)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": expires.isoformat(),
        "user_id": user.id,
    }


def build(
    clock: FrozenClock,
    transport: httpx.AsyncBaseTransport,
    fake: XFake,
    *,
    client_secret: str | None = None,
) -> XWorld:
    user = next(iter(fake.users.values()))
    credentials = connect(fake, user)
    store = MemoryCredentialStore({CHANNEL: credentials})
    settings = Settings(
        x_client_id=fake.client_id,
        x_client_secret=client_secret,
        network_urls={"x": BASE},
        public_url="https://onthedot.example",
    )
    context = NetworkContext(
        settings=settings, clock=clock, store=store, http=HttpClient(transport=transport)
    )
    return XWorld(
        clock,
        fake,
        store,
        create_adapter(context),
        create_connector(context),
        context,
        user,
        credentials,
    )


@pytest.fixture
def fake(clock: FrozenClock) -> XFake:
    fake = XFake(clock)
    fake.add_user("alice", "Alice")
    return fake


@pytest.fixture
async def x(clock: FrozenClock, fake: XFake) -> AsyncIterator[XWorld]:
    world = build(clock, httpx.ASGITransport(app=app_for(fake)), fake)
    yield world
    await world.context.http.aclose()


@pytest.fixture
def image(tmp_path: Path) -> MediaFile:
    path = tmp_path / "cat.png"
    path.write_bytes(b"\x89PNG" + b"\x00" * 2000)
    return MediaFile(path=path, content_type="image/png", size=2004, filename="cat.png")


@pytest.fixture
def video(tmp_path: Path) -> MediaFile:
    path = tmp_path / "clip.mp4"
    data = b"\x00\x00\x00\x18ftypmp42" + b"\x01" * (9 * 1024 * 1024)
    path.write_bytes(data)
    return MediaFile(path=path, content_type="video/mp4", size=len(data), filename="clip.mp4")
