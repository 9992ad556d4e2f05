"""Every answer X documents, mapped to the one outcome the broadcaster expects.

Sources: docs.x.com/x-api/fundamentals/response-codes-and-errors (problem+json bodies),
docs.x.com/fundamentals/rate-limits (x-rate-limit-*, 24-hour limits), and the OAuth errors of
docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    Prepared,
    RateLimited,
    Transient,
)
from onthedot.networks.http import HttpClient
from onthedot.networks.x.client import XClient, rate_info
from tests.unit.networks.x.conftest import XWorld

pytestmark = pytest.mark.timeout(30)

RESET = 1_795_000_000
AT = dt.datetime.fromtimestamp(RESET, tz=dt.UTC)


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}


CASES: list[tuple[str, int, dict[str, str], dict[str, Any], type[NetworkError], str]] = [
    (
        "15-minute window",
        429,
        {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(RESET),
        },
        problem(429, "Too Many Requests", "Too Many Requests"),
        RateLimited,
        "rate limit for @alice",
    ),
    (
        "per-user 24-hour cap",
        429,
        {
            "x-rate-limit-remaining": "80",
            "x-rate-limit-reset": str(RESET - 600),
            "x-user-limit-24hour-limit": "17",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(RESET),
        },
        problem(429, "Too Many Requests", "Too Many Requests"),
        RateLimited,
        "daily post limit for @alice",
    ),
    (
        "app 24-hour cap",
        429,
        {"x-app-limit-24hour-remaining": "0", "x-app-limit-24hour-reset": str(RESET)},
        problem(429, "Too Many Requests", "Too Many Requests"),
        RateLimited,
        "daily post cap for onthedot's X app",
    ),
    (
        "unauthorized",
        401,
        {},
        problem(401, "Unauthorized", "Unauthorized"),
        AuthRevoked,
        "reconnect",
    ),
    (
        "suspended",
        403,
        {},
        problem(
            403,
            "Forbidden",
            "Your account is suspended and is not permitted to access this feature.",
        ),
        AuthRevoked,
        "suspended or locked @alice",
    ),
    (
        "app not enrolled",
        403,
        {},
        problem(
            403,
            "Client Forbidden",
            "This request must be made using an approved developer account.",
            reason="client-not-enrolled",
        ),
        Permanent,
        "attach the app to a project",
    ),
    (
        "client forbidden",
        403,
        {},
        {
            "title": "Client Forbidden",
            "detail": "The client is not permitted to use this endpoint.",
            "type": "https://api.x.com/2/problems/client-forbidden",
        },
        Permanent,
        "whoever runs onthedot",
    ),
    (
        "usage capped",
        429,
        {},
        {
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.x.com/2/problems/usage-capped",
        },
        Permanent,
        "raise the app's usage cap",
    ),
    (
        "not permitted",
        403,
        {},
        problem(403, "Forbidden", "You are not permitted to perform this action."),
        Permanent,
        "X refused the post: You are not permitted to perform this action.",
    ),
    (
        "invalid request",
        400,
        {},
        {
            "errors": [{"parameters": {"text": ["x" * 300]}, "message": "Text is too long."}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
        Permanent,
        "X refused the post: Text is too long.",
    ),
    ("not found", 404, {}, problem(404, "Not Found", "Not Found"), Permanent, "X refused the post"),
    ("server error", 500, {}, {}, Transient, "may have been published"),
    (
        "over capacity",
        503,
        {},
        problem(503, "Service Unavailable", "Service Unavailable"),
        Transient,
        "checks before",
    ),
    ("unexpected", 302, {}, {}, Permanent, "does not expect"),
]


@pytest.mark.parametrize(
    ("status", "headers", "body", "outcome", "says"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_error_mapping(
    clock: FrozenClock,
    status: int,
    headers: dict[str, str],
    body: dict[str, Any],
    outcome: type[NetworkError],
    says: str,
) -> None:
    client = XClient(HttpClient(), base_url="https://api.x.com", clock=clock)
    response = httpx.Response(status, headers=headers, json=body)
    error = client.refusal(response, "@alice", subject="the post", publishing=True)
    assert type(error) is outcome
    assert says in error.message
    assert error.status == status
    if isinstance(error, RateLimited):
        assert error.reset_at == AT
        assert error.scope == ("network" if "app" in says else "account")
    if isinstance(error, Transient):
        assert error.maybe_sent


def test_rate_info_reports_the_tightest_limit() -> None:
    both = httpx.Response(
        201,
        headers={
            "x-rate-limit-remaining": "42",
            "x-rate-limit-reset": str(RESET - 600),
            "x-user-limit-24hour-remaining": "3",
            "x-user-limit-24hour-reset": str(RESET),
        },
    )
    info = rate_info(both)
    assert info is not None and info.remaining == 3 and info.reset_at == AT
    assert rate_info(httpx.Response(200)) is None


async def test_server_error_on_publish_is_maybe_sent(x: XWorld) -> None:
    """Through the adapter: a 503 on POST /2/tweets may have posted; a 503 on an upload did not."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json=problem(503, "Service Unavailable", "Service Unavailable"))

    x.adapter._client.http = HttpClient(transport=httpx.MockTransport(answer))
    job = x.job("into the void")
    with pytest.raises(Transient) as caught:
        await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.maybe_sent and caught.value.status == 503
    await x.adapter._client.http.aclose()


async def test_refused_refresh_says_reconnect(x: XWorld) -> None:
    x.fake.expire(x.credentials["access_token"])
    x.fake.refresh.clear()  # the refresh token was used elsewhere or revoked
    job = x.job("stale")
    with pytest.raises(AuthRevoked, match=r"renew its access to @alice.*reconnect") as caught:
        await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert x.credentials["refresh_token"] not in str(caught.value)


async def test_refresh_that_cannot_reach_x_is_transient(x: XWorld) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    x.clock.advance(dt.timedelta(hours=3))
    x.adapter._oauth = type(x.adapter._oauth)(  # type: ignore[misc]
        http=HttpClient(transport=httpx.MockTransport(answer)),
        base_url="https://api.x.com",
        client_id="onthedot-client",
        client_secret=None,
    )
    with pytest.raises(Transient) as caught:
        await x.adapter.prepare(x.job("later"))
    assert not caught.value.maybe_sent
    assert x.store.replaced == 0
