"""The Threads adapter against the Threads contract fake, over ASGI."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import MediaFile
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.meta.graph import Graph
from onthedot.networks.threads import ThreadsAdapter, ThreadsConnector
from onthedot.sandbox.fakes.threads import ThreadsFake, create_app
from tests.unit.networks.meta.helpers import T0

USER = "31337"


@dataclass
class Env:
    clock: FrozenClock
    fake: ThreadsFake
    http: HttpClient
    store: MemoryCredentialStore
    adapter: ThreadsAdapter
    creds: dict[str, Any]
    app: Any

    def graph(self, http: HttpClient | None = None) -> Graph:
        return Graph(
            http or self.http, "https://graph.threads.net", service="Threads", clock=self.clock
        )

    def adapter_over(self, transport: httpx.AsyncBaseTransport) -> ThreadsAdapter:
        return ThreadsAdapter(
            self.graph(HttpClient(transport=transport)), self.store, media_url=media_url
        )

    def connector(self) -> ThreadsConnector:
        return ThreadsConnector(self.graph(), app_id="app-1", app_secret="app-secret")


def media_url(media: MediaFile, expires_at: dt.datetime) -> str:
    return (
        f"https://onthedot.example/media/public/{media.filename}?exp={int(expires_at.timestamp())}"
    )


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = FrozenClock(T0 - dt.timedelta(minutes=1))
    app, fake = create_app(clock)
    token = fake.add_user(USER, "alice", "Alice")
    # A token issued two days ago, good for 58 more days.
    fake.tokens[token].issued_at = clock.now() - dt.timedelta(days=2)
    creds = {
        "access_token": token,
        "user_id": USER,
        "issued_at": (clock.now() - dt.timedelta(days=2)).isoformat(),
        "expires_at": fake.tokens[token].expires_at.isoformat(),  # type: ignore[union-attr]
    }
    store = MemoryCredentialStore({1: creds})
    http = HttpClient(transport=httpx.ASGITransport(app=app))
    adapter = ThreadsAdapter(
        Graph(http, "https://graph.threads.net", service="Threads", clock=clock),
        store,
        media_url=media_url,
    )
    yield Env(clock, fake, http, store, adapter, creds, app)
    await http.aclose()
