"""Connecting a Threads account against the contract fake, end to end."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from onthedot.networks.base import Permanent
from tests.unit.networks.threads.conftest import USER, Env

pytestmark = pytest.mark.timeout(10)
REDIRECT = "https://onthedot.example/connect/threads/callback"


async def test_authorize_url(env: Env) -> None:
    auth = await env.connector().authorize(redirect_uri=REDIRECT, state="s1", options={})
    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.scheme, url.netloc, url.path) == ("https", "threads.net", "/oauth/authorize")
    assert query == {
        "client_id": "app-1",
        "redirect_uri": REDIRECT,
        "scope": "threads_basic,threads_content_publish,threads_manage_replies,"
        "threads_read_replies,"
        "threads_manage_insights",
        "response_type": "code",
        "state": "s1",
    }
    assert auth.secret == {"state": "s1"}


async def test_finish_exchanges_the_code_for_a_long_lived_token(env: Env) -> None:
    connector = env.connector()
    auth = await connector.authorize(redirect_uri=REDIRECT, state="s1", options={})
    code = env.fake.grant_code(USER) + "#_"  # Threads appends "#_" to the code
    connected = await connector.finish(
        redirect_uri=REDIRECT, query={"code": code, "state": "s1"}, secret=auth.secret
    )
    assert connected.handle == "@alice" and connected.account_id == USER
    assert connected.display_name == "Alice"
    token = connected.credentials["access_token"]
    info = env.fake.tokens[token]
    assert info.expires_at == env.clock.now() + dt.timedelta(days=60)
    assert connected.credentials["expires_at"] == info.expires_at.isoformat()
    assert connected.credentials["user_id"] == USER


async def test_wrong_state(env: Env) -> None:
    code = env.fake.grant_code(USER)
    with pytest.raises(Permanent, match="state does not match"):
        await env.connector().finish(
            redirect_uri=REDIRECT, query={"code": code, "state": "other"}, secret={"state": "s1"}
        )


async def test_denied_consent(env: Env) -> None:
    query = {
        "state": "s1",
        "error": "access_denied",
        "error_reason": "user_denied",
        "error_description": "Permissions error",
    }
    with pytest.raises(Permanent, match="did not grant onthedot access") as caught:
        await env.connector().finish(redirect_uri=REDIRECT, query=query, secret={"state": "s1"})
    assert caught.value.code == "user_denied"


async def test_a_used_code_is_refused(env: Env) -> None:
    code = env.fake.grant_code(USER)
    connector = env.connector()
    query = {"code": code, "state": "s1"}
    await connector.finish(redirect_uri=REDIRECT, query=query, secret={"state": "s1"})
    with pytest.raises(Permanent, match="Invalid verification code"):
        await connector.finish(redirect_uri=REDIRECT, query=query, secret={"state": "s1"})
