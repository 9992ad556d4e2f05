"""The one HTTP client every network adapter calls through, and its guard against SSRF.

Adapters build requests the httpx way and get `httpx.Response`s back, whatever carries them:

- in production, one aiohttp session (a fifth of httpx's CPU per request, which counts at
  08:00) whose resolver refuses private addresses, so the check holds for the addresses
  actually connected to, after DNS, on every redirect hop;
- in tests, any httpx transport: a contract fake over `httpx.ASGITransport`, or a
  `httpx.MockTransport`.

Where a call goes is partly the user's choice (a Mastodon instance, a media or link URL), so
by default a host that resolves to a loopback, private, link-local (cloud metadata), shared or
reserved address is refused; `ONTHEDOT_ALLOW_PRIVATE_ADDRESSES` lifts that for development.

Transport failures become the broadcaster's outcomes here, once for every network: nothing
sent (try again), or maybe sent (look before trying again) when the request may have reached
the network. `service` names the network in the messages ("mastodon.social", "Bluesky").
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin

import aiohttp
import httpx
import orjson
from aiohttp.abc import AbstractResolver, ResolveResult

from onthedot.networks.base import Permanent, Transient

__all__ = [
    "AddressPolicy",
    "BlockedAddress",
    "GuardedResolver",
    "HttpClient",
    "UnsafeAddress",
    "json_body",
    "parse_epoch",
    "parse_instant",
    "retry_after",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_REDIRECTS: Final = 5
MAYBE_PUBLISHED: Final = (
    "the post may have been published, so onthedot checks before it tries again"
)
# Failures before the whole request went out: the network cannot have acted on it.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.PoolTimeout,
    aiohttp.ClientConnectorError,
)


@dataclass(slots=True)
class UnsafeAddress(Permanent):
    """A call that would reach a private address; never retried."""


class BlockedAddress(OSError):
    """Raised by the resolver: aiohttp wraps OSErrors from resolution in its connector error,
    which is where `HttpClient` finds it again."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        super().__init__(f"{host} resolves to {address}, a {kind} address")
        self.host = host
        self.address = address
        self.kind = kind


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which resolved addresses may be connected to."""

    allow_private: bool = False
    # Exceptions to the rule, for a known internal service (and for the guard's own tests).
    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be connected to, or None when it may."""
        if self.allow_private or any(address in net for net in self.allowed):
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return self.refusal(address.ipv4_mapped)
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link-local (cloud metadata)"
        if address.is_unspecified:
            return "unspecified"
        if address.is_multicast:
            return "multicast"
        if address.is_private:
            return "private"
        if not address.is_global:
            return "reserved or shared"
        return None

    def check(self, host: str, address: str) -> None:
        kind = self.refusal(ipaddress.ip_address(address.split("%", 1)[0]))
        if kind is not None:
            raise BlockedAddress(host, address, kind)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, keeping only the addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refused: BlockedAddress | None = None
        for result in results:
            try:
                self._policy.check(host, result["host"])
            except BlockedAddress as exc:
                refused = refused or exc
            else:
                allowed.append(result)
        # One private address among public ones is refused too: the connector would try it.
        if refused is not None:
            raise refused
        return allowed

    async def close(self) -> None:
        await self._inner.close()


# Tests resolve names without DNS: a name → its addresses.
Resolve = Callable[[str], Awaitable[Sequence[str]]]


class HttpClient:
    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: AddressPolicy | None = None,
        timeout_s: float = 30.0,
        max_connections: int = 1000,
        resolver: AbstractResolver | None = None,
        resolve: Resolve | None = None,
        user_agent: str = "onthedot",
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.timeout_s = timeout_s
        self._max_connections = max_connections
        self._resolver = resolver
        self._resolve = resolve
        self._headers = {"User-Agent": user_agent}
        self._client = (
            httpx.AsyncClient(transport=transport, timeout=timeout_s, follow_redirects=False)
            if transport is not None
            else None
        )
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                resolver=GuardedResolver(self.policy, self._resolver),
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                auto_decompress=True,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._client is not None:
            await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        publishing: bool = False,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """One call; never follows redirects (API calls have no business being redirected).

        `publishing` says whether the call could publish a post, which decides whether a
        lost answer means "maybe sent".
        """
        request = httpx.Request(
            method,
            url,
            params=params,
            headers={**self._headers, **(headers or {})},
            content=content,
            json=json,
            data=data,
            files=files,
        )
        return await self._send(
            request, service=service, publishing=publishing, timeout_s=timeout_s
        )

    async def fetch(
        self, url: str, *, service: str, max_bytes: int, accept: str = "*/*"
    ) -> httpx.Response:
        """GET a URL that came from a user (a link card's page or image), following at most
        `MAX_REDIRECTS` redirects, each hop guarded, and refusing bodies over `max_bytes`."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await self.request("GET", url, service=service, headers={"Accept": accept})
            location = response.headers.get("location")
            if response.is_redirect and location:
                url = urljoin(url, location)
                continue
            if len(response.content) > max_bytes:
                raise Permanent(
                    f"{url} is larger than {max_bytes // 1024} KiB; onthedot does not fetch it"
                )
            return response
        raise Permanent(f"{url} redirects more than {MAX_REDIRECTS} times; onthedot gave up")

    async def _send(
        self, request: httpx.Request, *, service: str, publishing: bool, timeout_s: float | None
    ) -> httpx.Response:
        then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
        timeout = timeout_s or self.timeout_s
        host = request.url.host
        try:
            await self._check_host(host)
            if self._client is not None:
                request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
                return await self._client.send(request)
            return await self._send_aiohttp(request, timeout)
        except BlockedAddress as exc:
            raise self._unsafe(exc) from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddress):
                raise self._unsafe(exc.os_error) from None
            raise self._unreachable(service, exc) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, aiohttp.InvalidURL):
            raise Permanent(
                f"{str(request.url)!r} is not an http(s) address {service} can be reached at"
            ) from None
        except _NOT_SENT as exc:
            raise self._unreachable(service, exc) from None
        except (httpx.TimeoutException, TimeoutError):
            raise Transient(
                f"{service} did not answer within {timeout:g} s; {then}", maybe_sent=publishing
            ) from None
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            raise Transient(
                f"the connection to {service} broke before it answered ({_reason(exc)}); {then}",
                maybe_sent=publishing,
            ) from None

    async def _check_host(self, host: str) -> None:
        """Literal addresses never reach a resolver, and tests resolve by hand."""
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if self._resolve is not None:
                for address in await self._resolve(host):
                    self.policy.check(host, address)
            return
        self.policy.check(host, host.strip("[]"))

    async def _send_aiohttp(self, request: httpx.Request, seconds: float) -> httpx.Response:
        body = await request.aread()
        async with self._session_now().request(
            request.method,
            str(request.url),
            data=body or None,
            # aiohttp sets its own length and the encodings it can decode.
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("content-length", "accept-encoding")
            },
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as answer:
            content = await answer.read()
            headers = [
                (k, v)
                for k, v in answer.headers.items()
                # The body is decoded already; its old length and encoding would mislead httpx.
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(answer.status, headers=headers, content=content, request=request)

    def _unsafe(self, exc: BlockedAddress) -> UnsafeAddress:
        return UnsafeAddress(
            f"onthedot does not connect to {exc.host}: it resolves to {exc.address}, a "
            f"{exc.kind} address. Use a public address, or set "
            "ONTHEDOT_ALLOW_PRIVATE_ADDRESSES=true on a development installation",
            code="unsafe_address",
        )

    def _unreachable(self, service: str, exc: Exception) -> Transient:
        return Transient(
            f"onthedot could not reach {service} ({_reason(exc)}); nothing was sent. onthedot "
            "tries again",
            maybe_sent=False,
        )


def _reason(exc: BaseException) -> str:
    detail = str(exc)
    name = type(exc).__name__
    return f"{name}: {detail}" if detail else name


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is not one (an HTML error page, say)."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_epoch(value: str | None) -> dt.datetime | None:
    """A Unix time in seconds (X's `x-rate-limit-reset`, Bluesky's `ratelimit-reset`)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or not 0 < seconds < 10**11:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def parse_instant(value: str | None) -> dt.datetime | None:
    """An ISO 8601 time (Mastodon's `X-RateLimit-Reset`), as UTC."""
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant.astimezone(dt.UTC)


def retry_after(response: httpx.Response, now: dt.datetime) -> dt.datetime | None:
    """When `Retry-After` (seconds or an HTTP date) says to come back, if it says."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
        except (TypeError, ValueError):
            return None
    if not 0 <= seconds < 10**9:
        return None
    return now + dt.timedelta(seconds=seconds)
