"""The Facebook Pages adapter against the Graph API contract fake, over ASGI."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.facebook import FacebookAdapter, FacebookConnector
from onthedot.networks.http import HttpClient
from onthedot.networks.meta.graph import Graph
from onthedot.sandbox.fakes.facebook import FacebookFake, create_app
from tests.unit.networks.meta.helpers import T0

PAGE = "104000000000001"


@dataclass
class Env:
    clock: FrozenClock
    fake: FacebookFake
    http: HttpClient
    adapter: FacebookAdapter
    creds: dict[str, Any]
    app: Any

    def graph(self, http: HttpClient | None = None) -> Graph:
        return Graph(
            http or self.http, "https://graph.facebook.com", service="Facebook", clock=self.clock
        )

    def adapter_over(self, transport: httpx.AsyncBaseTransport) -> FacebookAdapter:
        return FacebookAdapter(self.graph(HttpClient(transport=transport)))

    def connector(self) -> FacebookConnector:
        return FacebookConnector(self.graph(), app_id="app-1", app_secret="app-secret")


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = FrozenClock(T0 - dt.timedelta(minutes=1))
    app, fake = create_app(clock)
    fake.add_user("u1", "Alice")
    token = fake.add_page("u1", PAGE, "Alice's Bakery")
    creds = {"access_token": token, "page_id": PAGE}
    http = HttpClient(transport=httpx.ASGITransport(app=app))
    adapter = FacebookAdapter(
        Graph(http, "https://graph.facebook.com", service="Facebook", clock=clock)
    )
    yield Env(clock, fake, http, adapter, creds, app)
    await http.aclose()
