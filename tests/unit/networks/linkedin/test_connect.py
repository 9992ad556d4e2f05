"""Connecting a LinkedIn member end to end against the fake: the authorization URL, the
member's consent, the code exchange, userinfo, and what goes wrong on the way."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import ConfigurationError
from onthedot.networks.base import Permanent
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.linkedin import create_adapter, create_connector
from onthedot.networks.linkedin.connect import SCOPES
from onthedot.networks.registry import NetworkContext
from onthedot.sandbox.fakes.linkedin import LinkedInFake
from tests.unit.networks.linkedin.conftest import SUB, World, build

pytestmark = pytest.mark.timeout(10)

REDIRECT = "https://onthedot.example/connect/linkedin/callback"


async def consent(world: World, url: str) -> dict[str, str]:
    """The member's browser: open the authorization URL, follow it back to onthedot."""
    response = await world.http.request("GET", url, service="LinkedIn")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_authorize_url(world: World) -> None:
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s-1", options={})
    parts = urlsplit(auth.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.linkedin.com",
        "/oauth/v2/authorization",
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": world.fake.client_id,
        "redirect_uri": REDIRECT,
        "state": "s-1",
        "scope": "openid profile w_member_social",
    }
    assert tuple(query["scope"].split()) == SCOPES
    # LinkedIn's web flow takes the client secret, not PKCE: nothing else to keep.
    assert auth.secret == {"state": "s-1"}


async def test_connect_end_to_end(world: World) -> None:
    world.fake.consenting = SUB
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s-2", options={})
    query = await consent(world, auth.url)
    assert query["state"] == "s-2"
    connected = await world.connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)
    assert connected.account_id == SUB
    assert connected.display_name == connected.handle == "Ada Lovelace"
    credentials = connected.credentials
    assert credentials["author"] == f"urn:li:person:{SUB}"
    assert credentials["access_token"] in world.fake.tokens
    assert credentials["expires_at"] == (world.clock.now() + dt.timedelta(days=60)).isoformat()
    assert "refresh_token" not in credentials


async def test_connect_keeps_a_refresh_token_when_linkedin_grants_one(world: World) -> None:
    world.fake.consenting = SUB
    world.fake.grant_refresh_tokens = True
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s", options={})
    connected = await world.connector.finish(
        redirect_uri=REDIRECT, query=await consent(world, auth.url), secret=auth.secret
    )
    credentials = connected.credentials
    assert credentials["refresh_token"] in world.fake.refresh_tokens
    assert (
        credentials["refresh_token_expires_at"]
        == (world.clock.now() + dt.timedelta(days=365)).isoformat()
    )


async def test_declined_consent(world: World) -> None:
    world.fake.consenting = None
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s-3", options={})
    query = await consent(world, auth.url)
    assert query["error"] == "user_cancelled_authorize"
    with pytest.raises(Permanent, match="you declined") as caught:
        await world.connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)
    assert caught.value.code == "user_cancelled_authorize"


async def test_wrong_state(world: World) -> None:
    world.fake.consenting = SUB
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="mine", options={})
    query = await consent(world, auth.url)
    with pytest.raises(Permanent, match="does not belong to this connection attempt"):
        await world.connector.finish(
            redirect_uri=REDIRECT, query={**query, "state": "theirs"}, secret=auth.secret
        )


async def test_expired_code(world: World) -> None:
    world.fake.consenting = SUB
    auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s", options={})
    query = await consent(world, auth.url)
    world.clock.advance(dt.timedelta(minutes=31))
    with pytest.raises(Permanent, match=r"would not finish the connection.*expired"):
        await world.connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)


async def test_wrong_client_secret(clock: FrozenClock, fake: LinkedInFake) -> None:
    fake.consenting = SUB
    world = build(clock, fake)
    fake.client_secret = "rotated on LinkedIn's side"
    try:
        auth = await world.connector.authorize(redirect_uri=REDIRECT, state="s", options={})
        query = await consent(world, auth.url)
        with pytest.raises(Permanent, match="Client authentication failed"):
            await world.connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)
    finally:
        await world.http.aclose()


@pytest.mark.parametrize(
    ("client_id", "secret", "setting"),
    [(None, "s", "ONTHEDOT_LINKEDIN_CLIENT_ID"), ("id", None, "ONTHEDOT_LINKEDIN_CLIENT_SECRET")],
)
def test_unconfigured_app_says_which_setting(
    clock: FrozenClock, client_id: str | None, secret: str | None, setting: str
) -> None:
    settings = Settings(
        linkedin_client_id=client_id,
        linkedin_client_secret=SecretStr(secret) if secret else None,
    )
    http = HttpClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    context = NetworkContext(settings, clock, MemoryCredentialStore(), http)
    with pytest.raises(ConfigurationError, match=setting):
        create_connector(context)
    # The adapter still builds: channels connected earlier keep posting.
    create_adapter(context)


async def test_fake_url_serves_both_hosts(clock: FrozenClock, fake: LinkedInFake) -> None:
    """With ONTHEDOT_NETWORK_URLS pointing LinkedIn at the fake, OAuth goes there too."""
    http = HttpClient(transport=httpx.ASGITransport(app=fake.app))
    settings = Settings(
        linkedin_client_id=fake.client_id,
        linkedin_client_secret=SecretStr(fake.client_secret),
        network_urls={"linkedin": "http://fake.example/linkedin/"},
    )
    context = NetworkContext(settings, clock, MemoryCredentialStore(), http)
    try:
        auth = await create_connector(context).authorize(
            redirect_uri=REDIRECT, state="s", options={}
        )
        assert auth.url.startswith("http://fake.example/linkedin/oauth/v2/authorization?")
    finally:
        await http.aclose()
