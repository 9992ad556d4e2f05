"""The HTTP client's guard against SSRF, through the real aiohttp path and real sockets: an
address a user gave must not reach loopback, private, link-local or metadata addresses, not
by name, not by literal, not on a redirect."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from onthedot.networks.base import Permanent, Transient
from onthedot.networks.http import AddressPolicy, HttpClient, UnsafeAddress

LOOPBACK_ONE = (ipaddress.ip_network("127.0.0.1/32"),)


class Server:
    def __init__(self, host: str) -> None:
        self.host = host
        self.hits: list[str] = []
        self.redirect_to: str | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if self.redirect_to is not None and request.path == "/hop":
            raise web.HTTPFound(self.redirect_to)
        return web.json_response({"ok": True})


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Server, Server]]:
    """Two servers: one on 127.0.0.1 (let through by the test policy), one on 127.0.0.2 (a
    loopback address the policy refuses, standing in for an internal service)."""
    runners = []
    pair = (Server("127.0.0.1"), Server("127.0.0.2"))
    for server in pair:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", server.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, server.host, 0)
        await site.start()
        server.port = runner.addresses[0][1]
        runners.append(runner)
    yield pair
    for runner in runners:
        await runner.cleanup()


class NamesResolver(AbstractResolver):
    """DNS for made-up names, so a test can say what a name resolves to."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
            for address in self.names[host]
        ]

    async def close(self) -> None:
        return None


async def _refused(client: HttpClient, url: str, **kwargs: Any) -> UnsafeAddress:
    with pytest.raises(UnsafeAddress) as caught:
        await client.request("GET", url, service="the test server", **kwargs)
    return caught.value


async def test_loopback_is_refused_by_default_and_nothing_is_sent(
    servers: tuple[Server, Server],
) -> None:
    local, _ = servers
    client = HttpClient()
    try:
        refused = await _refused(client, f"http://127.0.0.1:{local.port}/")
        assert "127.0.0.1" in refused.message
        assert "loopback" in refused.message
        assert "ONTHEDOT_ALLOW_PRIVATE_ADDRESSES" in refused.message
        await _refused(client, f"http://localhost:{local.port}/")
    finally:
        await client.aclose()
    assert local.hits == []


async def test_the_development_setting_lets_private_addresses_through(
    servers: tuple[Server, Server],
) -> None:
    local, _ = servers
    client = HttpClient(policy=AddressPolicy(allow_private=True))
    try:
        response = await client.request(
            "POST", f"http://127.0.0.1:{local.port}/x", service="t", json={"a": 1}
        )
    finally:
        await client.aclose()
    assert response.json() == {"ok": True}
    assert local.hits == ["/x"]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.7", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("100.100.100.200", "reserved or shared"),
        ("0.0.0.0", "unspecified"),
        ("::1", "loopback"),
        ("fd00:ec2::254", "private"),
        ("fe80::1", "link-local (cloud metadata)"),
    ],
)
async def test_names_that_resolve_to_internal_addresses_are_refused(
    address: str, kind: str
) -> None:
    client = HttpClient(resolver=NamesResolver({"instance.example": [address]}))
    try:
        refused = await _refused(client, "https://instance.example/api/v1/instance")
    finally:
        await client.aclose()
    assert f"resolves to {address}, a {kind} address" in refused.message


async def test_one_internal_address_among_public_ones_is_refused() -> None:
    client = HttpClient(resolver=NamesResolver({"mixed.example": ["93.184.215.14", "127.0.0.1"]}))
    try:
        await _refused(client, "https://mixed.example/")
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]:8080/",
        "http://10.1.2.3/",
    ],
)
async def test_literal_addresses_are_refused_without_a_resolver(url: str) -> None:
    # aiohttp does not ask a resolver about literal addresses; the client checks them itself.
    client = HttpClient()
    try:
        await _refused(client, url)
    finally:
        await client.aclose()


async def test_a_redirect_to_an_internal_address_is_refused_before_it_is_followed(
    servers: tuple[Server, Server],
) -> None:
    public, internal = servers
    public.redirect_to = f"http://127.0.0.2:{internal.port}/secret"
    client = HttpClient(policy=AddressPolicy(allowed=LOOPBACK_ONE))
    try:
        with pytest.raises(UnsafeAddress):
            await client.fetch(
                f"http://127.0.0.1:{public.port}/hop", service="a link", max_bytes=1024
            )
        # Followed where allowed:
        public.redirect_to = f"http://127.0.0.1:{public.port}/landing"
        landed = await client.fetch(
            f"http://127.0.0.1:{public.port}/hop", service="a link", max_bytes=1024
        )
    finally:
        await client.aclose()
    assert landed.json() == {"ok": True}
    assert internal.hits == []
    assert public.hits == ["/hop", "/hop", "/landing"]


async def test_api_calls_never_follow_redirects(servers: tuple[Server, Server]) -> None:
    public, internal = servers
    public.redirect_to = f"http://127.0.0.2:{internal.port}/secret"
    client = HttpClient(policy=AddressPolicy(allowed=LOOPBACK_ONE))
    try:
        response = await client.request("GET", f"http://127.0.0.1:{public.port}/hop", service="t")
    finally:
        await client.aclose()
    assert response.status_code == 302
    assert internal.hits == []


async def test_fetch_refuses_bodies_over_the_limit(servers: tuple[Server, Server]) -> None:
    public, _ = servers
    client = HttpClient(policy=AddressPolicy(allowed=LOOPBACK_ONE))
    try:
        with pytest.raises(Permanent, match="larger than"):
            await client.fetch(f"http://127.0.0.1:{public.port}/", service="t", max_bytes=4)
    finally:
        await client.aclose()


async def test_the_test_transport_path_applies_the_same_policy() -> None:
    async def resolve(host: str) -> list[str]:
        return {"evil.example": ["10.9.8.7"], "api.example": ["93.184.215.14"]}[host]

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, json={})

    client = HttpClient(transport=httpx.MockTransport(handler), resolve=resolve)
    try:
        await _refused(client, "https://evil.example/")
        await _refused(client, "https://169.254.169.254/")
        await client.request("GET", "https://api.example/", service="t")
    finally:
        await client.aclose()
    assert seen == ["api.example"]


async def test_transport_failures_say_whether_the_post_may_be_out() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    slow = HttpClient(transport=httpx.MockTransport(timeout), timeout_s=7)
    down = HttpClient(transport=httpx.MockTransport(refused))
    try:
        with pytest.raises(Transient) as publishing:
            await slow.request("POST", "https://a.example/", service="A", publishing=True)
        with pytest.raises(Transient) as reading:
            await slow.request("GET", "https://a.example/", service="A")
        with pytest.raises(Transient) as unreachable:
            await down.request("POST", "https://a.example/", service="A", publishing=True)
    finally:
        await slow.aclose()
        await down.aclose()
    assert publishing.value.maybe_sent
    assert "did not answer within 7 s" in publishing.value.message
    assert "checks before it tries again" in publishing.value.message
    assert not reading.value.maybe_sent
    assert not unreachable.value.maybe_sent
    assert "nothing was sent" in unreachable.value.message
