"""Connecting an Instagram account through Facebook Login, against the contract fake."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from onthedot.networks.base import Permanent
from tests.unit.networks.instagram.conftest import IG, Env

pytestmark = pytest.mark.timeout(10)
REDIRECT = "https://onthedot.example/connect/instagram/callback"


async def test_authorize_url(env: Env) -> None:
    auth = await env.connector().authorize(redirect_uri=REDIRECT, state="s1", options={})
    url = urlsplit(auth.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.netloc, url.path) == ("www.facebook.com", "/v23.0/dialog/oauth")
    assert query["client_id"] == "app-1" and query["redirect_uri"] == REDIRECT
    assert query["state"] == "s1" and query["response_type"] == "code"
    assert set(query["scope"].split(",")) >= {"instagram_basic", "instagram_content_publish"}


async def test_finish_finds_the_account_through_the_page(env: Env) -> None:
    connector = env.connector()
    auth = await connector.authorize(redirect_uri=REDIRECT, state="s1", options={})
    code = env.fake.facebook.grant_code("u1")
    connected = await connector.finish(
        redirect_uri=REDIRECT, query={"code": code, "state": "s1"}, secret=auth.secret
    )
    assert connected.handle == "@alice.shop" and connected.account_id == IG
    creds = connected.credentials
    assert creds["ig_user_id"] == IG and creds["page_id"] == "p1"
    assert env.fake.facebook.tokens[creds["access_token"]].expires_at is None


async def test_several_accounts_need_a_choice(env: Env) -> None:
    env.fake.add_account("u1", "17841400000000002", "bob.shop", "p2")
    connector = env.connector()
    code = env.fake.facebook.grant_code("u1")
    with pytest.raises(Permanent, match=r"@alice\.shop, @bob\.shop"):
        await connector.finish(
            redirect_uri=REDIRECT, query={"code": code, "state": "s1"}, secret={"state": "s1"}
        )
    auth = await connector.authorize(
        redirect_uri=REDIRECT, state="s2", options={"username": "@bob.shop"}
    )
    code = env.fake.facebook.grant_code("u1")
    connected = await connector.finish(
        redirect_uri=REDIRECT, query={"code": code, "state": "s2"}, secret=auth.secret
    )
    assert connected.handle == "@bob.shop"


async def test_no_linked_account(env: Env) -> None:
    env.fake.facebook.add_user("u2", "Carol")
    env.fake.facebook.add_page("u2", "p9", "Carol's Page")
    code = env.fake.facebook.grant_code("u2")
    with pytest.raises(Permanent, match="linked to an Instagram professional account"):
        await env.connector().finish(
            redirect_uri=REDIRECT, query={"code": code, "state": "s"}, secret={"state": "s"}
        )


async def test_denied_and_wrong_state(env: Env) -> None:
    with pytest.raises(Permanent, match="did not grant"):
        await env.connector().finish(
            redirect_uri=REDIRECT,
            query={"state": "s", "error": "access_denied", "error_reason": "user_denied"},
            secret={"state": "s"},
        )
    with pytest.raises(Permanent, match="state does not match"):
        await env.connector().finish(
            redirect_uri=REDIRECT, query={"code": "c", "state": "x"}, secret={"state": "s"}
        )
