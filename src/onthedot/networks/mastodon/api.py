"""A thin Mastodon API client on onthedot's `HttpClient`, and what Mastodon's answers mean.

Why not an SDK: Mastodon.py, the maintained Python client, is blocking (requests) and cannot be
handed our HTTP client, so it would bypass the SSRF guard on instance addresses that users type
in and could not be tested over a contract fake's transport. Mastodon's API is plain REST with
JSON answers, so the few calls onthedot makes are written here.

Every address here comes from a user (the instance), so every call goes through the guarded
`HttpClient`, and nothing follows redirects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateInfo,
    RateLimited,
    Transient,
)
from onthedot.networks.http import (
    MAYBE_PUBLISHED,
    HttpClient,
    json_body,
    parse_instant,
    retry_after,
)

__all__ = [
    "MastodonApi",
    "error_text",
    "instance_url",
    "rate_info",
    "refusal",
    "token_fields",
]

RECONNECT: Final = "reconnect the channel in onthedot"


def instance_url(value: str, *, allow_http: bool = False) -> str:
    """`https://host[:port]` from what a user typed: "mastodon.social", an address, or a
    handle such as "@alice@mastodon.social". Raises `Permanent` for anything else."""
    text = value.strip()
    if text.startswith("@") or ("@" in text and "://" not in text):
        text = text.rsplit("@", 1)[-1]
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - an invalid port raises here
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Permanent(
            f"{value!r} is not the address of a Mastodon server; give its domain, for "
            "example mastodon.social"
        )
    if parts.scheme == "http" and not allow_http:
        raise Permanent(
            f"onthedot connects to Mastodon servers over https only; use https://{parts.netloc}"
        )
    if parts.username or parts.password or parts.query or parts.path.strip("/"):
        raise Permanent(
            f"{value!r} is not the address of a Mastodon server; give only its domain, for "
            f"example {parts.hostname}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def error_text(response: httpx.Response) -> str:
    """Mastodon's reason ({"error": "..."}, plus OAuth's error_description), or the status."""
    body = json_body(response)
    said = body.get("error_description") or body.get("error")
    if isinstance(said, str) and said:
        return said
    return f"{response.status_code} {response.reason_phrase}".strip()


def rate_info(response: httpx.Response) -> RateInfo | None:
    """X-RateLimit-Remaining, and X-RateLimit-Reset as an ISO 8601 instant
    (docs.joinmastodon.org/api/rate-limits/)."""
    remaining = response.headers.get("x-ratelimit-remaining")
    reset = parse_instant(response.headers.get("x-ratelimit-reset"))
    if remaining is None and reset is None:
        return None
    try:
        left = int(remaining) if remaining is not None else None
    except ValueError:
        left = None
    return RateInfo(remaining=left, reset_at=reset)


def refusal(
    response: httpx.Response,
    *,
    host: str,
    who: str,
    subject: str,
    publishing: bool,
    now: dt.datetime,
) -> NetworkError:
    """The outcome of a non-2xx answer from `host` about `subject` ("the post"), for the
    account `who` ("@alice@mastodon.social")."""
    status = response.status_code
    reason = error_text(response)
    if status == 429:
        # api/rate-limits: X-RateLimit-Reset is when the window closest to its limit resets.
        reset_at = parse_instant(response.headers.get("x-ratelimit-reset")) or retry_after(
            response, now
        )
        wait = f"until {reset_at:%H:%M:%S} UTC" if reset_at is not None else "a while"
        return RateLimited(
            f"{host} is rate-limiting {who} (Mastodon allows 300 posts every 3 hours and 30 "
            f"media uploads every 30 minutes per account); onthedot waits {wait} and tries again",
            status=status,
            code="rate_limited",
            reset_at=reset_at,
            scope="account",
        )
    if status == 401:
        return AuthRevoked(
            f"{host} no longer accepts onthedot's access to {who} ({reason}): {RECONNECT}",
            status=status,
            code="invalid_token",
        )
    if status == 403:
        # Outside the granted scopes, or the login is disabled, suspended or unconfirmed:
        # either way this account cannot post through onthedot until someone acts.
        return AuthRevoked(
            f"{host} does not let onthedot act for {who} ({reason}); sign in on {host} to "
            f"check the account, then {RECONNECT}",
            status=status,
            code="forbidden",
        )
    if status in (404, 410):
        return Permanent(f"{host} could not find {subject} ({reason})", status=status)
    if status == 422:
        return Permanent(
            f"{host} refused {subject}: {reason}. Change the post and schedule it again",
            status=status,
            code="unprocessable",
        )
    if 400 <= status < 500:
        return Permanent(f"{host} refused {subject}: {reason}", status=status)
    if status >= 500:
        then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
        what = "is unavailable" if status == 503 else f"failed with {status}"
        return Transient(f"{host} {what} ({reason}); {then}", status=status, maybe_sent=publishing)
    return Permanent(
        f"{host} answered {status} {response.reason_phrase}, which is not an answer of "
        "Mastodon's API; check that the channel's server address is a Mastodon server",
        status=status,
    )


class MastodonApi:
    """Calls to one instance, as one account (or, while connecting, as nobody yet)."""

    def __init__(self, http: HttpClient, base_url: str, *, token: str | None = None) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.token = token

    async def call(
        self,
        method: str,
        path: str,
        *,
        publishing: bool = False,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        sent = dict(headers or {})
        sent.setdefault("Accept", "application/json")
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        return await self.http.request(
            method,
            f"{self.base_url}{path}",
            service=self.host,
            publishing=publishing,
            headers=sent,
            **kwargs,
        )


def token_fields(body: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The credentials in a POST /oauth/token answer (methods/oauth#token). Mastodon's tokens
    do not expire; a compatible server that sends `expires_in` also sends a refresh token."""
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("no access_token")
    fields: dict[str, Any] = {
        "access_token": token,
        "token_type": str(body.get("token_type") or "Bearer"),
        "scope": str(body.get("scope") or ""),
    }
    expires_in = body.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        fields["expires_at"] = (now + dt.timedelta(seconds=float(expires_in))).isoformat()
    refresh = body.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        fields["refresh_token"] = refresh
    return fields
