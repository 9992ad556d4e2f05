"""Connecting a Bluesky account with an app password, against the contract fake."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.networks import Network
from onthedot.networks.base import Permanent, RateLimited, Unsupported
from onthedot.networks.bluesky import BlueskyConnector
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient, UnsafeAddress
from onthedot.networks.registry import NetworkContext, create_adapter, create_connector
from onthedot.sandbox.fakes.bluesky import BlueskyFake
from tests.unit.networks.bluesky.conftest import APP_PASSWORD, ENTRYWAY, HANDLE

Setup = tuple[BlueskyFake, BlueskyConnector]


@pytest.fixture
async def setup(clock: FrozenClock) -> AsyncIterator[Setup]:
    fake = BlueskyFake(clock)
    fake.add_account(HANDLE, APP_PASSWORD, display_name="Alice")
    http = HttpClient(transport=httpx.ASGITransport(app=fake.app))
    yield fake, BlueskyConnector(http=http, clock=clock, entryway=ENTRYWAY)
    await http.aclose()


async def test_login_opens_a_session_on_the_account_s_pds(setup: Setup, clock: FrozenClock) -> None:
    fake, connector = setup
    assert connector.flow == "password" and set(connector.options) == {
        "identifier",
        "app_password",
        "service",
    }
    connected = await connector.login(
        options={"identifier": "@" + HANDLE, "app_password": APP_PASSWORD}
    )
    did = fake.handles[HANDLE]
    assert connected.handle == "@" + HANDLE and connected.account_id == did
    assert connected.display_name == "Alice"
    creds = connected.credentials
    assert creds["did"] == did and creds["service"] == "https://pds.bsky.test"
    assert creds["expires_at"] == (clock.now() + dt.timedelta(hours=2)).isoformat()
    assert creds["refresh_expires_at"] == (clock.now() + dt.timedelta(days=90)).isoformat()
    assert "password" not in str(creds) and APP_PASSWORD not in str(creds)
    assert [(h, n) for h, _, n in fake.calls] == [
        ("bsky.test", "com.atproto.server.createSession"),
        ("pds.bsky.test", "app.bsky.actor.getProfile"),
    ]


async def test_a_wrong_app_password_is_refused_clearly(setup: Setup) -> None:
    _, connector = setup
    with pytest.raises(Permanent) as caught:
        await connector.login(options={"identifier": HANDLE, "app_password": "zzzz-zzzz-zzzz-zzzz"})
    assert "check both" in caught.value.message and caught.value.status == 401
    assert "zzzz" not in caught.value.message


async def test_the_account_s_own_password_is_not_taken(setup: Setup) -> None:
    fake, connector = setup
    with pytest.raises(Permanent) as caught:
        await connector.login(options={"identifier": HANDLE, "app_password": "hunter2"})
    assert caught.value.code == "not_an_app_password" and "App passwords" in caught.value.message
    assert fake.calls == []


async def test_sign_ins_are_rate_limited_per_account(setup: Setup, clock: FrozenClock) -> None:
    _, connector = setup
    options = {"identifier": HANDLE, "app_password": APP_PASSWORD}
    for _ in range(30):
        await connector.login(options=options)
    with pytest.raises(RateLimited) as caught:
        await connector.login(options=options)
    assert caught.value.reset_at == clock.now() + dt.timedelta(minutes=5)
    assert "30 in 5 minutes" in caught.value.message


async def test_a_taken_down_account_cannot_connect(setup: Setup) -> None:
    fake, connector = setup
    fake.take_down(HANDLE)
    with pytest.raises(Permanent, match="taken the account down"):
        await connector.login(options={"identifier": HANDLE, "app_password": APP_PASSWORD})


async def test_missing_options_and_oauth_are_refused(setup: Setup) -> None:
    _, connector = setup
    with pytest.raises(Permanent, match="app password"):
        await connector.login(options={"identifier": HANDLE})
    with pytest.raises(Unsupported):
        await connector.authorize(redirect_uri="https://x.test/cb", state="s", options={})


async def test_the_registry_builds_both_from_settings(clock: FrozenClock) -> None:
    fake = BlueskyFake(clock)
    fake.add_account(HANDLE, APP_PASSWORD)
    http = HttpClient(transport=httpx.ASGITransport(app=fake.app))
    settings = Settings.model_construct(
        network_urls={"bluesky": "https://bsky.test/", "bluesky_video": "https://video.bsky.test"}
    )
    context = NetworkContext(settings, clock, MemoryCredentialStore(), http)
    connector = create_connector(Network.BLUESKY, context)
    connected = await connector.login(options={"identifier": HANDLE, "app_password": APP_PASSWORD})
    assert connected.account_id == fake.handles[HANDLE]
    assert create_adapter(Network.BLUESKY, context).network is Network.BLUESKY
    await http.aclose()


async def test_a_server_at_a_private_address_is_refused(setup: Setup) -> None:
    fake, connector = setup
    for service in ("http://127.0.0.1:2583", "https://[::1]", "http://169.254.169.254"):
        with pytest.raises(UnsafeAddress) as caught:
            await connector.login(
                options={"identifier": HANDLE, "app_password": APP_PASSWORD, "service": service}
            )
        assert "ONTHEDOT_ALLOW_PRIVATE_ADDRESSES" in caught.value.message
    assert fake.calls == []
