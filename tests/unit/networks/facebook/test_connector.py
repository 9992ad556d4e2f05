"""Connecting a Facebook Page through Facebook Login, against the contract fake."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from onthedot.networks.base import Permanent
from tests.unit.networks.facebook.conftest import PAGE, Env

pytestmark = pytest.mark.timeout(10)
REDIRECT = "https://onthedot.example/connect/facebook/callback"


async def test_authorize_url(env: Env) -> None:
    auth = await env.connector().authorize(redirect_uri=REDIRECT, state="s1", options={})
    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.netloc, url.path) == ("www.facebook.com", "/v23.0/dialog/oauth")
    assert query == {
        "client_id": "app-1",
        "redirect_uri": REDIRECT,
        "state": "s1",
        "scope": "pages_show_list,pages_manage_posts,pages_read_engagement",
        "response_type": "code",
    }


async def test_finish_keeps_the_never_expiring_page_token(env: Env) -> None:
    code = env.fake.grant_code("u1")
    connected = await env.connector().finish(
        redirect_uri=REDIRECT, query={"code": code, "state": "s"}, secret={"state": "s"}
    )
    assert connected.account_id == PAGE and connected.handle == "Alice's Bakery"
    token = connected.credentials["access_token"]
    assert env.fake.tokens[token].page_id == PAGE
    assert env.fake.tokens[token].expires_at is None
    # Both exchanges happened: the code, then fb_exchange_token.
    assert [p for _, p in env.fake.calls].count("v23.0/oauth/access_token") == 2


async def test_several_pages_need_a_choice(env: Env) -> None:
    env.fake.add_page("u1", "105", "Alice's Café")
    connector = env.connector()
    code = env.fake.grant_code("u1")
    with pytest.raises(Permanent, match=r"Alice's Bakery \(104000000000001\), Alice's Café"):
        await connector.finish(
            redirect_uri=REDIRECT, query={"code": code, "state": "s"}, secret={"state": "s"}
        )
    auth = await connector.authorize(redirect_uri=REDIRECT, state="s2", options={"page_id": "105"})
    code = env.fake.grant_code("u1")
    connected = await connector.finish(
        redirect_uri=REDIRECT, query={"code": code, "state": "s2"}, secret=auth.secret
    )
    assert connected.account_id == "105"


async def test_denied_wrong_state_and_used_code(env: Env) -> None:
    with pytest.raises(Permanent, match="did not grant"):
        await env.connector().finish(
            redirect_uri=REDIRECT,
            query={
                "state": "s",
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions+error",
            },
            secret={"state": "s"},
        )
    with pytest.raises(Permanent, match="state does not match"):
        await env.connector().finish(
            redirect_uri=REDIRECT, query={"code": "c", "state": "x"}, secret={"state": "s"}
        )
    with pytest.raises(Permanent, match="authorization code has been used"):
        await env.connector().finish(
            redirect_uri=REDIRECT, query={"code": "unknown", "state": "s"}, secret={"state": "s"}
        )
