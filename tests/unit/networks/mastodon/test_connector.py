"""Connecting a Mastodon account end to end against the fake instance: app registration,
the authorize address (with PKCE where the instance offers it), the code exchange."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from onthedot.networks.base import Permanent, Prepared, Transient
from onthedot.networks.connect import Authorization
from onthedot.networks.http import HttpClient, UnsafeAddress
from onthedot.networks.mastodon import MastodonConnector
from onthedot.networks.registry import NetworkContext
from tests.unit.networks.mastodon.conftest import Rig

REDIRECT = "https://onthedot.example/connect/mastodon/callback"


async def consent(rig: Rig, auth: Authorization) -> dict[str, str]:
    """The user's browser at the instance's consent page: where it is sent back to."""
    answer = await rig.context.http.request("GET", auth.url, service="browser")
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert str(location).startswith(REDIRECT)
    return dict(location.params)


async def start(
    connector: MastodonConnector, instance: str = "mastodon.example", state: str = "st-1"
) -> Authorization:
    return await connector.authorize(
        redirect_uri=REDIRECT, state=state, options={"instance": instance}
    )


async def test_the_authorize_address_registers_the_app_and_uses_pkce(rig: Rig) -> None:
    auth = await start(rig.connector())
    url = httpx.URL(auth.url)
    assert (url.scheme, url.host, url.path) == ("https", "mastodon.example", "/oauth/authorize")
    params = dict(url.params)
    (app,) = rig.fake.apps.values()
    assert app.name == "onthedot" and app.website == "https://onthedot.example"
    assert app.redirect_uris == [REDIRECT]
    assert params["client_id"] == app.client_id
    assert params["redirect_uri"] == REDIRECT and params["response_type"] == "code"
    assert params["state"] == "st-1"
    # 4.3+ offers `profile`, narrower than read:accounts.
    assert params["scope"].split() == ["write:statuses", "write:media", "read:statuses", "profile"]
    assert app.scopes == params["scope"].split()
    verifier = auth.secret["code_verifier"]
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["code_challenge_method"] == "S256"
    assert verifier not in auth.url and auth.secret["client_secret"] not in auth.url


async def test_connecting_ends_with_a_working_channel(rig: Rig) -> None:
    rig.fake.max_characters = 1000
    connector = rig.connector()
    auth = await start(connector, "https://Mastodon.Example/")
    connected = await connector.finish(
        redirect_uri=REDIRECT, query=await consent(rig, auth), secret=auth.secret
    )
    alice = rig.fake.accounts["alice"]
    assert connected.handle == "@alice@mastodon.example"
    assert connected.account_id == alice.id and connected.display_name == "Alice"
    assert connected.max_chars == 1000
    creds = connected.credentials
    assert creds["instance"] == "https://mastodon.example" and creds["account_id"] == alice.id
    assert "expires_at" not in creds and "refresh_token" not in creds  # Mastodon's never expire
    token = rig.fake.tokens[creds["access_token"]]
    assert token.account_id == alice.id and "write:statuses" in token.scopes
    job = rig.job("connected", credentials=creds)
    published = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert rig.fake.statuses[published.network_id].application == "onthedot"


async def test_an_instance_before_4_3_connects_without_pkce(rig: Rig) -> None:
    rig.fake.pkce = False
    connector = rig.connector()
    auth = await start(connector)
    params = dict(httpx.URL(auth.url).params)
    assert "code_challenge" not in params and "code_verifier" not in auth.secret
    assert "read:accounts" in params["scope"].split()
    connected = await connector.finish(
        redirect_uri=REDIRECT, query=await consent(rig, auth), secret=auth.secret
    )
    assert connected.handle == "@alice@mastodon.example"


async def test_the_app_is_registered_once_per_instance(rig: Rig) -> None:
    connector = rig.connector()
    await start(connector, state="a")
    await start(connector, state="b")
    assert len(rig.fake.apps) == 1


async def test_denied_consent_says_nothing_was_connected(rig: Rig) -> None:
    rig.fake.deny_consent = True
    connector = rig.connector()
    auth = await start(connector)
    with pytest.raises(Permanent, match="declined") as caught:
        await connector.finish(
            redirect_uri=REDIRECT, query=await consent(rig, auth), secret=auth.secret
        )
    assert caught.value.code == "access_denied"
    assert rig.fake.tokens.keys() == {rig.credentials["access_token"]}


async def test_a_wrong_state_is_refused(rig: Rig) -> None:
    connector = rig.connector()
    auth = await start(connector)
    query = {**await consent(rig, auth), "state": "forged"}
    with pytest.raises(Permanent, match="state does not match"):
        await connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)


async def test_a_wrong_verifier_is_refused_by_the_instance(rig: Rig) -> None:
    connector = rig.connector()
    auth = await start(connector)
    secret: dict[str, Any] = {**auth.secret, "code_verifier": "x" * 64}
    with pytest.raises(Permanent, match="would not exchange the authorization code"):
        await connector.finish(redirect_uri=REDIRECT, query=await consent(rig, auth), secret=secret)


async def test_a_used_code_is_refused(rig: Rig) -> None:
    connector = rig.connector()
    auth = await start(connector)
    query = await consent(rig, auth)
    await connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)
    with pytest.raises(Permanent, match="connect the account again"):
        await connector.finish(redirect_uri=REDIRECT, query=query, secret=auth.secret)


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ("", "needs the server's address"),
        ("ftp://mastodon.example", "not the address of a Mastodon server"),
        ("http://mastodon.example", "https only"),
        ("https://mastodon.example/@alice", "give only its domain"),
    ],
)
async def test_a_bad_instance_address_is_refused(rig: Rig, instance: str, message: str) -> None:
    with pytest.raises(Permanent, match=message):
        await start(rig.connector(), instance)
    assert rig.fake.apps == {}


@pytest.mark.parametrize(
    ("instance", "kind"),
    [
        ("https://127.0.0.1", "loopback"),
        ("https://169.254.169.254", "link-local"),
        ("https://[::1]", "loopback"),
        ("10.0.0.8", "private"),
    ],
)
async def test_an_instance_on_a_private_address_is_refused(
    rig: Rig, instance: str, kind: str
) -> None:
    with pytest.raises(UnsafeAddress, match=kind):
        await start(rig.connector(), instance)


async def test_an_instance_whose_name_resolves_privately_is_refused(rig: Rig) -> None:
    async def resolve(host: str) -> list[str]:
        return ["192.168.1.20"]

    http = HttpClient(transport=rig.transport, resolve=resolve)
    rig.clients.append(http)
    context = NetworkContext(
        settings=rig.context.settings,
        clock=rig.clock,
        store=rig.store,
        http=http,
    )
    with pytest.raises(UnsafeAddress, match="private"):
        await start(MastodonConnector(context), "evil.example")


async def test_an_unavailable_instance_is_transient(rig: Rig) -> None:
    rig.fake.fail_next("/api/v1/apps", 503)
    with pytest.raises(Transient, match="unavailable"):
        await start(rig.connector())
