"""Each answer LinkedIn documents, mapped to the one outcome the broadcaster expects.

learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling and .../rate-limits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest

from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateLimited,
    Transient,
)
from onthedot.networks.linkedin.client import EXPIRED, next_midnight, refusal

NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
MIDNIGHT = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def answer(status: int, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body or {}), headers=headers)


def outcome(response: httpx.Response, *, publishing: bool = True) -> NetworkError:
    return refusal(
        response,
        who="Ada",
        subject="the post",
        action="publishing the post",
        publishing=publishing,
        now=NOW,
    )


def error(status: int, message: str, code: str | None = None, service: int | None = None) -> Any:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    if service:
        body["serviceErrorCode"] = service
    return body


TABLE = [
    # (answer, outcome type, words the message must hold)
    (answer(400, error(400, "commentary is invalid", "INVALID_INPUT")), Permanent, "invalid"),
    (answer(401, error(401, "Empty oauth2_access_token")), AuthRevoked, "Reconnect"),
    (answer(401, error(401, "Invalid access token", service=65600)), AuthRevoked, "no longer"),
    (
        answer(
            401,
            error(401, "The token used in the request has been revoked by the user", service=65601),
        ),
        AuthRevoked,
        "revoked",
    ),
    (
        answer(401, error(401, "The token used in the request has expired", service=65602)),
        AuthRevoked,
        "expired",
    ),
    (
        answer(
            403, error(403, "Not enough permissions to access: posts.CREATE", "ACCESS_DENIED", 100)
        ),
        Permanent,
        "w_member_social",
    ),
    (answer(404, error(404, "Not found")), Permanent, "Not found"),
    (answer(413, error(413, "Request entity too large")), Permanent, "too large"),
    (
        answer(
            422,
            {
                "status": 422,
                "message": "Content is a duplicate of urn:li:share:1",
                "errorDetails": {"inputErrors": [{"code": "DUPLICATE_POST"}]},
            },
        ),
        Permanent,
        "duplicate",
    ),
    (answer(422, error(422, "commentary too long")), Permanent, "too long"),
    (
        answer(
            429, error(429, "Resource level throttle MEMBER DAY limit", "TOO_MANY_REQUESTS", 101)
        ),
        RateLimited,
        "2026-11-27 00:00 UTC",
    ),
    (answer(500, error(500, "Internal Server Error")), Transient, "may have been published"),
    (answer(502), Transient, "502"),
    (answer(503), Transient, "503"),
    (answer(504), Transient, "504"),
]


@pytest.mark.parametrize(("response", "kind", "words"), TABLE)
def test_error_table(response: httpx.Response, kind: type[NetworkError], words: str) -> None:
    result = outcome(response)
    assert type(result) is kind
    assert words in str(result)
    assert result.status == response.status_code


def test_expired_is_marked_for_a_refresh() -> None:
    result = outcome(
        answer(
            401,
            error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602),
        )
    )
    assert result.code == EXPIRED
    revoked = outcome(answer(401, error(401, "revoked by the user", "REVOKED_ACCESS_TOKEN", 65601)))
    assert revoked.code != EXPIRED


def test_rate_limit_scope_and_reset() -> None:
    member = outcome(answer(429, error(429, "Resource level throttle MEMBER DAY limit")))
    app = outcome(answer(429, error(429, "Resource level throttle APPLICATION DAY limit")))
    assert isinstance(member, RateLimited) and isinstance(app, RateLimited)
    assert (member.scope, member.reset_at) == ("account", MIDNIGHT)
    assert (app.scope, app.reset_at) == ("network", MIDNIGHT)
    # Infrastructure protection may say when to come back; that wins over midnight.
    short = outcome(answer(429, {}, **{"Retry-After": "30"}))
    assert isinstance(short, RateLimited) and short.reset_at == NOW + dt.timedelta(seconds=30)


def test_server_errors_not_publishing_are_not_maybe_sent() -> None:
    result = outcome(answer(503), publishing=False)
    assert isinstance(result, Transient) and result.maybe_sent is False
    sent = outcome(answer(503), publishing=True)
    assert isinstance(sent, Transient) and sent.maybe_sent is True


def test_a_client_error_never_says_maybe_sent() -> None:
    assert isinstance(outcome(answer(418)), Permanent)


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        (dt.datetime(2026, 11, 26, 23, 59, 59, tzinfo=dt.UTC), MIDNIGHT),
        (dt.datetime(2026, 11, 26, 0, 0, tzinfo=dt.UTC), MIDNIGHT),
        (dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_next_midnight(now: dt.datetime, midnight: dt.datetime) -> None:
    assert next_midnight(now) == midnight
