"""A thin client for the X API v2 on onthedot's `HttpClient`, and X's answers as outcomes.

No SDK is used: X's own Python SDK (`xdk`) and tweepy make blocking or aiohttp calls of their
own and cannot be handed the broadcaster's HTTP client (its SSRF guard, its fake transports),
and tweepy still uploads media through the v1.1 endpoints X is retiring. The calls onthedot
needs are few, so they are written here on `HttpClient`.

Everything X answers becomes one of the broadcaster's outcomes here, with a message a user
can act on: 401 (the token), 403 (X's reason: duplicate, suspended, not permitted), 400 (an
invalid request), 429 (the reset from X's headers), 5xx (try again, or look first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import httpx

from onthedot.clock import Clock
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
    parse_epoch,
    retry_after,
)

__all__ = ["API_URL", "SERVICE", "XClient", "problem_detail", "rate_info"]

API_URL: Final = "https://api.x.com"
SERVICE: Final = "X"
# docs.x.com/x-api/posts/creation-of-a-post: X's answer to the same text posted twice.
DUPLICATE_DETAIL: Final = "duplicate content"


def problem_detail(body: Mapping[str, Any]) -> str | None:
    """What X said went wrong, from a problem+json body (`detail`, `title`, or the first of
    `errors`).  https://docs.x.com/x-api/fundamentals/response-codes-and-errors"""
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, dict):
        said = first.get("message") or first.get("detail")
        if isinstance(said, str) and said:
            return said
    for key in ("detail", "title", "error_description"):
        said = body.get(key)
        if isinstance(said, str) and said:
            return said
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def rate_info(response: httpx.Response) -> RateInfo | None:
    """The tightest of X's limits: the 15-minute window (`x-rate-limit-*`) or the per-user
    24-hour post cap (`x-user-limit-24hour-*`), whichever runs out first.
    docs.x.com/fundamentals/rate-limits"""
    h = response.headers
    windows = [
        (_int(h.get(f"{prefix}-remaining")), parse_epoch(h.get(f"{prefix}-reset")))
        for prefix in ("x-user-limit-24hour", "x-rate-limit")
    ]
    known = [(left, reset) for left, reset in windows if left is not None]
    if not known:
        return None
    left, reset = min(known, key=lambda w: (w[0] != 0, w[0]))
    return RateInfo(remaining=left, reset_at=reset)


class XClient:
    def __init__(self, http: HttpClient, *, base_url: str, clock: Clock) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        publishing: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return await self.http.request(
            method,
            f"{self.base_url}{path}",
            service=SERVICE,
            publishing=publishing,
            headers=headers,
            **kwargs,
        )

    # --- answers ----------------------------------------------------------------------------

    def reset_at(self, response: httpx.Response) -> tuple[dt.datetime | None, str, str]:
        """When a 429 ends, which limit it was, and whether every account must wait."""
        h = response.headers
        if h.get("x-app-limit-24hour-remaining") == "0":
            # The app's daily cap: no account of this installation can post until it resets.
            return parse_epoch(h.get("x-app-limit-24hour-reset")), "daily post cap", "network"
        if h.get("x-user-limit-24hour-remaining") == "0":
            return parse_epoch(h.get("x-user-limit-24hour-reset")), "daily post limit", "account"
        reset = parse_epoch(h.get("x-rate-limit-reset")) or retry_after(response, self.clock.now())
        return reset, "rate limit", "account"

    def refusal(
        self, response: httpx.Response, handle: str, *, subject: str, publishing: bool
    ) -> NetworkError:
        """The outcome of a non-2xx answer about `subject` ("the post", "image.png")."""
        status = response.status_code
        body = json_body(response)
        detail = problem_detail(body) or f"{status} {response.reason_phrase}"
        code = body.get("type") if isinstance(body.get("type"), str) else None
        if code is not None and code.endswith("/usage-capped"):
            # The project's usage cap for its billing period: no account can post until
            # whoever runs onthedot changes the X plan, so waiting would not help.
            return Permanent(
                f"onthedot's X app has used up its X API usage for this period ({detail}); "
                "whoever runs onthedot must raise the app's usage cap in the X developer console",
                status=status,
                code=code,
            )
        if status == 429:
            reset, which, scope = self.reset_at(response)
            wait = f"until {reset:%Y-%m-%d %H:%M:%S} UTC" if reset else "a few minutes"
            whose = "onthedot's X app" if scope == "network" else handle
            return RateLimited(
                f"X's {which} for {whose} is used up; onthedot waits {wait} and tries again",
                status=status,
                code=code,
                reset_at=reset,
                scope=scope,
            )
        if status == 401:
            return AuthRevoked(
                f"X no longer accepts onthedot's access to {handle} (it was revoked, or the "
                "password changed): reconnect the channel",
                status=status,
                code=code,
            )
        if status == 403 and "suspended" in detail.lower():
            return AuthRevoked(
                f"X has suspended or locked {handle}, so it cannot post ({detail}). Resolve it "
                "on x.com, then reconnect the channel",
                status=status,
                code=code,
            )
        if status == 403 and (
            body.get("reason") in ("client-not-enrolled", "official-client-forbidden")
            or (code or "").endswith("/client-forbidden")
        ):
            return Permanent(
                f"X refused onthedot's X app ({detail}); whoever runs onthedot must attach the "
                "app to a project with access to the X API v2 in the X developer console",
                status=status,
                code=code,
            )
        if status in (400, 403, 404, 409, 413, 422):
            return Permanent(f"X refused {subject}: {detail}", status=status, code=code)
        if status >= 500:
            then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
            return Transient(
                f"X failed with {status} {response.reason_phrase}; {then}",
                status=status,
                code=code,
                maybe_sent=publishing,
            )
        return Permanent(
            f"X answered {status} {response.reason_phrase} about {subject}, which onthedot "
            f"does not expect ({detail}); check the X address in onthedot's settings",
            status=status,
            code=code,
        )
