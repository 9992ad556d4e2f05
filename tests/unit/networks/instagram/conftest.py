"""The Instagram adapter against the Instagram contract fake, over ASGI."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import MediaFile
from onthedot.networks.http import HttpClient
from onthedot.networks.instagram import InstagramAdapter, InstagramConnector
from onthedot.networks.meta.graph import Graph
from onthedot.sandbox.fakes.instagram import InstagramFake, create_app
from tests.unit.networks.meta.helpers import T0

IG = "17841400000000001"


@dataclass
class Env:
    clock: FrozenClock
    fake: InstagramFake
    http: HttpClient
    adapter: InstagramAdapter
    creds: dict[str, Any]
    app: Any

    def graph(self, http: HttpClient | None = None) -> Graph:
        return Graph(
            http or self.http, "https://graph.facebook.com", service="Instagram", clock=self.clock
        )

    def adapter_over(self, transport: httpx.AsyncBaseTransport) -> InstagramAdapter:
        return InstagramAdapter(self.graph(HttpClient(transport=transport)), media_url=media_url)

    def connector(self) -> InstagramConnector:
        return InstagramConnector(self.graph(), app_id="app-1", app_secret="app-secret")


def media_url(media: MediaFile, expires_at: dt.datetime) -> str:
    return f"https://onthedot.example/media/public/{media.filename}"


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = FrozenClock(T0 - dt.timedelta(minutes=1))
    app, fake = create_app(clock)
    fake.facebook.add_user("u1", "Alice")
    token = fake.add_account("u1", IG, "alice.shop", "p1")
    creds = {"access_token": token, "ig_user_id": IG, "page_id": "p1"}
    http = HttpClient(transport=httpx.ASGITransport(app=app))
    adapter = InstagramAdapter(
        Graph(http, "https://graph.facebook.com", service="Instagram", clock=clock),
        media_url=media_url,
    )
    yield Env(clock, fake, http, adapter, creds, app)
    await http.aclose()
