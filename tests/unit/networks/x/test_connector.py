"""Connecting an X account end to end against the fake: PKCE, the code exchange, users/me,
the confidential client, and every way it can go wrong."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import ConfigurationError
from onthedot.networks.base import AuthRevoked, Permanent, Prepared
from onthedot.networks.connect import Authorization
from onthedot.networks.credentials import MemoryCredentialStore
from onthedot.networks.http import HttpClient
from onthedot.networks.registry import NetworkContext
from onthedot.networks.x import create_connector
from onthedot.sandbox.fakes.x import XFake, app_for
from tests.unit.networks.x.conftest import BASE, XWorld, build

pytestmark = pytest.mark.timeout(30)
REDIRECT = "https://onthedot.example/connect/x/callback"


async def consent(x: XWorld, authorization: Authorization) -> dict[str, str]:
    """Follow the consent page the way the user's browser would, back to onthedot."""
    response = await x.context.http.request("GET", authorization.url, service="X")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return dict(parse_qsl(location.query))


async def test_authorize_url_carries_pkce(x: XWorld) -> None:
    assert x.context.redirect_uri(x.connector.network) == REDIRECT
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="st-1", options={})
    url = urlsplit(authorization.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/i/oauth2/authorize"
    params = dict(parse_qsl(url.query))
    verifier = authorization.secret["code_verifier"]
    assert 43 <= len(verifier) <= 128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert params == {
        "response_type": "code",
        "client_id": "onthedot-client",
        "redirect_uri": REDIRECT,
        "scope": "tweet.read tweet.write users.read media.write offline.access",
        "state": "st-1",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }


async def test_the_real_consent_page_is_on_x_com(clock: FrozenClock) -> None:
    settings = Settings(x_client_id="abc")
    context = NetworkContext(
        settings=settings, clock=clock, store=MemoryCredentialStore(), http=HttpClient()
    )
    authorization = await create_connector(context).authorize(
        redirect_uri=REDIRECT, state="s", options={}
    )
    assert authorization.url.startswith("https://x.com/i/oauth2/authorize?")
    await context.http.aclose()


async def test_connect_end_to_end(x: XWorld) -> None:
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="st-2", options={})
    query = await consent(x, authorization)
    connected = await x.connector.finish(
        redirect_uri=REDIRECT, query=query, secret=authorization.secret
    )
    assert connected.handle == "@alice" and connected.display_name == "Alice"
    assert connected.account_id == x.user.id
    creds = connected.credentials
    assert creds["user_id"] == x.user.id
    assert creds["access_token"] in x.fake.access and creds["refresh_token"] in x.fake.refresh
    assert creds["expires_at"] == (x.clock.now() + dt.timedelta(hours=2)).isoformat()
    assert set(creds["scope"].split()) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "offline.access",
    }
    # The new credentials post.
    job = x.job("connected", credentials=creds)
    published = await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert x.fake.posts_by(x.user)[0].id == published.network_id


async def test_confidential_client_uses_basic_auth(clock: FrozenClock) -> None:
    fake = XFake(clock, client_secret="s3cret")
    fake.add_user("bob")
    world = build(clock, httpx.ASGITransport(app=app_for(fake)), fake, client_secret="s3cret")
    authorization = await world.connector.authorize(redirect_uri=REDIRECT, state="c", options={})
    connected = await world.connector.finish(
        redirect_uri=REDIRECT,
        query=await consent(world, authorization),
        secret=authorization.secret,
    )
    assert connected.handle == "@bob"

    wrong = build(clock, httpx.ASGITransport(app=app_for(fake)), fake, client_secret="wrong")
    authorization = await wrong.connector.authorize(redirect_uri=REDIRECT, state="w", options={})
    with pytest.raises(Permanent, match="ONTHEDOT_X_CLIENT_SECRET") as caught:
        await wrong.connector.finish(
            redirect_uri=REDIRECT,
            query=await consent(wrong, authorization),
            secret=authorization.secret,
        )
    assert "s3cret" not in str(caught.value) and "wrong" not in str(caught.value)
    await world.context.http.aclose()
    await wrong.context.http.aclose()


async def test_declined_consent(x: XWorld) -> None:
    x.fake.deny_consent = True
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="d", options={})
    query = await consent(x, authorization)
    assert query == {"error": "access_denied", "state": "d"}
    with pytest.raises(Permanent, match="consent was declined"):
        await x.connector.finish(redirect_uri=REDIRECT, query=query, secret=authorization.secret)


async def test_wrong_state(x: XWorld) -> None:
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="mine", options={})
    query = {**(await consent(x, authorization)), "state": "someone-elses"}
    with pytest.raises(Permanent, match="state does not match"):
        await x.connector.finish(redirect_uri=REDIRECT, query=query, secret=authorization.secret)


async def test_wrong_verifier_is_refused_by_x(x: XWorld) -> None:
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="v", options={})
    query = await consent(x, authorization)
    secret = {**authorization.secret, "code_verifier": "x" * 60}
    with pytest.raises(
        Permanent,
        match=r"X refused the sign-in \(Value passed for the authorization code was invalid\.\)",
    ):
        await x.connector.finish(redirect_uri=REDIRECT, query=query, secret=secret)


async def test_a_code_works_once(x: XWorld) -> None:
    authorization = await x.connector.authorize(redirect_uri=REDIRECT, state="o", options={})
    query = await consent(x, authorization)
    await x.connector.finish(redirect_uri=REDIRECT, query=query, secret=authorization.secret)
    with pytest.raises(Permanent):
        await x.connector.finish(redirect_uri=REDIRECT, query=query, secret=authorization.secret)


async def test_connecting_needs_the_client_id(clock: FrozenClock) -> None:
    context = NetworkContext(
        settings=Settings(), clock=clock, store=MemoryCredentialStore(), http=HttpClient()
    )
    with pytest.raises(ConfigurationError, match="ONTHEDOT_X_CLIENT_ID"):
        create_connector(context)
    await context.http.aclose()


async def test_revoke_gives_the_tokens_back(x: XWorld) -> None:
    await x.connector.revoke(x.credentials)
    job = x.job("after revoking")
    with pytest.raises(AuthRevoked, match="reconnect"):
        await x.adapter.commit(job, Prepared(), job.items[0], None)
