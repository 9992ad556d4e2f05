"""Connecting accounts through the API and the CLI's service: OAuth's two legs, the password
flow, connecting again, and every way a connection can go wrong without writing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.accounts.models import Role
from onthedot.api import create_app
from onthedot.channels.models import Channel, ConnectRequest
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import AuthRevoked, Transient
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.runtime import Networks
from tests.conftest import Actor, add_teammate, make_workspace

API = "/api/v1"


class ScriptedConnector(Connector):
    """Stands in for a network's consent page and token endpoint."""

    def __init__(self, network: Network, flow: str = "oauth") -> None:
        self.network = network
        self.flow = flow  # type: ignore[assignment]
        self.options = {"instance": "the server"} if flow == "oauth" else {"app_password": "…"}
        self.account = "acct-1"
        self.fail: Exception | None = None
        self.finished: list[Mapping[str, Any]] = []

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        if self.fail is not None:
            raise self.fail
        return Authorization(
            url=f"https://net.example/authorize?state={state}&redirect_uri={redirect_uri}",
            secret={"verifier": "pkce-verifier", "instance": options.get("instance")},
        )

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        if self.fail is not None:
            raise self.fail
        self.finished.append({"query": dict(query), "secret": dict(secret)})
        return Connected(
            handle="@alice@net.example",
            credentials={"access_token": f"tok-{query['code']}"},
            account_id=self.account,
            max_chars=1000,
        )

    async def login(self, *, options: Mapping[str, str]) -> Connected:
        if options.get("app_password") != "right":
            raise AuthRevoked("the app password is wrong; create one in the app's settings")
        return Connected(
            handle="alice.example",
            credentials={"access_jwt": "a", "expires_at": "2026-11-26T08:00:00+00:00"},
            account_id="did:plc:alice",
        )


@pytest.fixture
def connectors() -> dict[Network, ScriptedConnector]:
    return {
        Network.MASTODON: ScriptedConnector(Network.MASTODON),
        Network.BLUESKY: ScriptedConnector(Network.BLUESKY, flow="password"),
    }


@pytest.fixture
async def app(
    settings: Settings,
    engine: AsyncEngine,
    clock: FrozenClock,
    box: CredentialBox,
    connectors: dict[Network, ScriptedConnector],
) -> AsyncIterator[FastAPI]:
    networks = Networks(settings, clock=clock, box=box, connectors=connectors)
    yield create_app(settings, clock=clock, engine=engine, box=box, networks=networks)
    await networks.aclose()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def owner(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Actor:
    return await make_workspace(sessionmaker, "Acme", "owner@acme.example", clock.now())


async def _start(http: httpx.AsyncClient, actor: Actor, **body: Any) -> httpx.Response:
    payload = {"network": "mastodon", "timezone": "Europe/Berlin", "schedule": "Mon 08:00"}
    payload.update(body)
    return await http.post(f"{API}/channels/connect", json=payload, headers=actor.headers)


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def _channels(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Channel]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Channel).order_by(Channel.id)))


async def _requests(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ConnectRequest)) or 0)


async def test_oauth_connection_creates_a_channel_with_sealed_credentials(
    http: httpx.AsyncClient,
    owner: Actor,
    box: CredentialBox,
    sessionmaker: async_sessionmaker[AsyncSession],
    connectors: dict[Network, ScriptedConnector],
) -> None:
    started = await _start(http, owner, options={"instance": "https://net.example"})
    assert started.status_code == 200, started.text
    url = started.json()["authorize_url"]
    assert "redirect_uri=http://127.0.0.1:8000/connect/mastodon/callback" in url
    state = _state(url)

    back = await http.get(
        "/connect/mastodon/callback",
        params={"state": state, "code": "c0de"},
        headers={"Accept": "application/json"},
    )
    assert back.status_code == 201, back.text
    assert back.json()["handle"] == "@alice@net.example"
    # The secret kept under the state reached the token exchange, and only once.
    assert connectors[Network.MASTODON].finished[0]["secret"]["verifier"] == "pkce-verifier"
    [channel] = await _channels(sessionmaker)
    assert channel.account_id == "acct-1"
    assert channel.max_chars == 1000
    assert channel.credentials is not None
    assert b"tok-c0de" not in channel.credentials
    assert box.open(channel.credentials) == {"access_token": "tok-c0de"}
    assert await _requests(sessionmaker) == 0

    again = await http.get("/connect/mastodon/callback", params={"state": state, "code": "c0de"})
    assert again.status_code == 404
    assert "start connecting again" in again.text
    assert len(await _channels(sessionmaker)) == 1


async def test_connecting_the_same_account_again_renews_the_channel_and_resumes_it(
    http: httpx.AsyncClient,
    owner: Actor,
    box: CredentialBox,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for code in ("first", "second"):
        url = (await _start(http, owner)).json()["authorize_url"]
        back = await http.get(
            "/connect/mastodon/callback", params={"state": _state(url), "code": code}
        )
        assert back.status_code == 201, back.text
        assert "connected as channel" in back.text
        if code == "first":
            # The network revoked access meanwhile, and onthedot paused the channel.
            async with sessionmaker() as session, session.begin():
                [channel] = (await session.scalars(select(Channel))).all()
                channel.paused, channel.paused_reason = True, "access revoked: reconnect it"
    [channel] = await _channels(sessionmaker)
    assert channel.credentials is not None
    assert box.open(channel.credentials) == {"access_token": "tok-second"}
    assert not channel.paused
    assert channel.paused_reason is None


async def test_a_declined_consent_connects_nothing_and_says_so(
    http: httpx.AsyncClient, owner: Actor, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    url = (await _start(http, owner)).json()["authorize_url"]
    back = await http.get(
        "/connect/mastodon/callback",
        params={"state": _state(url), "error": "access_denied", "error_description": "No."},
    )
    assert back.status_code == 400
    assert "did not grant access (No.)" in back.text
    assert await _channels(sessionmaker) == []
    assert await _requests(sessionmaker) == 0


async def test_an_expired_or_forged_state_is_refused(
    http: httpx.AsyncClient,
    owner: Actor,
    clock: FrozenClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url = (await _start(http, owner)).json()["authorize_url"]
    clock.advance(dt.timedelta(minutes=31))
    late = await http.get(
        "/connect/mastodon/callback",
        params={"state": _state(url), "code": "c"},
        headers={"Accept": "application/json"},
    )
    assert late.status_code == 404
    assert late.json()["code"] == "not_found"
    forged = await http.get("/connect/mastodon/callback", params={"state": "x", "code": "c"})
    assert forged.status_code == 404
    # A state of one network is no good at another's callback.
    url = (await _start(http, owner)).json()["authorize_url"]
    wrong = await http.get("/connect/bluesky/callback", params={"state": _state(url), "code": "c"})
    assert wrong.status_code == 422
    assert "is for mastodon, not bluesky" in wrong.text
    assert await _channels(sessionmaker) == []


async def test_bad_input_is_refused_before_the_user_is_sent_anywhere(
    http: httpx.AsyncClient, owner: Actor, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    zone = await _start(http, owner, timezone="Mars/Olympus")
    assert zone.json()["code"] == "unknown_timezone"
    assert "Mars/Olympus" in zone.json()["detail"]
    schedule = await _start(http, owner, schedule="Funday 25:00")
    assert schedule.json()["code"] == "invalid_schedule"
    sandbox = await _start(http, owner, network="sandbox")
    assert sandbox.status_code == 422
    assert "POST /channels" in sandbox.json()["detail"]
    assert await _requests(sessionmaker) == 0


async def test_network_failures_at_the_start_are_told_apart(
    http: httpx.AsyncClient, owner: Actor, connectors: dict[Network, ScriptedConnector]
) -> None:
    connectors[Network.MASTODON].fail = Transient("net.example did not answer")
    down = await _start(http, owner)
    assert down.status_code == 502
    assert down.json()["code"] == "network_unavailable"
    connectors[Network.MASTODON].fail = AuthRevoked("this server does not allow new apps")
    refused = await _start(http, owner)
    assert refused.status_code == 400
    assert refused.json()["code"] == "network_refused"


async def test_password_flow_connects_at_once_and_keeps_the_expiry_in_the_clear(
    http: httpx.AsyncClient, owner: Actor, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    wrong = await _start(http, owner, network="bluesky", options={"app_password": "wrong"})
    assert wrong.status_code == 400
    assert "app password is wrong" in wrong.json()["detail"]
    done = await _start(http, owner, network="bluesky", options={"app_password": "right"})
    assert done.status_code == 200, done.text
    assert done.json()["channel"]["handle"] == "alice.example"
    [channel] = await _channels(sessionmaker)
    assert channel.credentials_expire_at == dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC)


async def test_only_editors_connect_and_the_callback_lands_in_the_starters_workspace(
    http: httpx.AsyncClient,
    owner: Actor,
    clock: FrozenClock,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    viewer = await add_teammate(sessionmaker, owner, "v@acme.example", Role.VIEWER, clock.now())
    assert (await _start(http, viewer)).status_code == 403
    other = await make_workspace(sessionmaker, "Other", "o@other.example", clock.now())
    url = (await _start(http, other)).json()["authorize_url"]
    await http.get("/connect/mastodon/callback", params={"state": _state(url), "code": "c"})
    [channel] = await _channels(sessionmaker)
    assert channel.workspace_id == other.member.workspace_id


async def test_networks_lists_each_flow(http: httpx.AsyncClient, owner: Actor) -> None:
    listed = await http.get(f"{API}/networks", headers=owner.headers)
    assert listed.status_code == 200
    flows = {n["network"]: (n["flow"], n["ready"]) for n in listed.json()}
    assert flows["mastodon"] == ("oauth", True)
    assert flows["bluesky"] == ("password", True)
    # X needs this installation's OAuth client, which the test settings lack.
    x = next(n for n in listed.json() if n["network"] == "x")
    assert not x["ready"]
    assert "ONTHEDOT_X_CLIENT_ID" in x["problem"]
