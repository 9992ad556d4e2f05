"""The Graph API's documented errors, each mapped to the one outcome the broadcaster expects
(developers.facebook.com/docs/graph-api/guides/error-handling, .../overview/rate-limiting,
.../instagram-platform/instagram-graph-api/reference/error-codes)."""

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
from onthedot.networks.meta import TokenExpired, refusal, usage_reset

NOW = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def answer(
    status: int, code: int | None, subcode: int | None = None, **extra: Any
) -> httpx.Response:
    error: dict[str, Any] = {
        "message": "Meta says no",
        "type": "OAuthException",
        "fbtrace_id": "Atrace",
    }
    if code is not None:
        error["code"] = code
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return httpx.Response(status, json={"error": error})


def outcome(response: httpx.Response, publishing: bool = True) -> NetworkError:
    return refusal(
        response,
        service="Threads",
        account="@alice",
        doing="publishing the post",
        publishing=publishing,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("status", "code", "subcode", "kind", "extra"),
    [
        (400, 190, 463, TokenExpired, "expired"),
        (400, 190, 460, AuthRevoked, "password was changed"),
        (400, 190, 467, AuthRevoked, "no longer valid"),
        (400, 190, 458, AuthRevoked, "app was removed"),
        (401, 190, None, AuthRevoked, "revoked or is invalid"),
        (400, 102, None, AuthRevoked, "reconnect"),
        (403, 10, None, AuthRevoked, "permission"),
        (403, 200, None, AuthRevoked, "permission"),
        (403, 299, None, AuthRevoked, "permission"),
        (400, 4, None, RateLimited, "onthedot's app"),
        (400, 17, None, RateLimited, "@alice"),
        (400, 32, None, RateLimited, "@alice"),
        (400, 613, None, RateLimited, "@alice"),
        (400, 80001, None, RateLimited, "@alice"),
        (400, 80002, None, RateLimited, "@alice"),
        (400, 80014, None, RateLimited, "@alice"),
        (400, 9, 2207042, RateLimited, "@alice"),
        (400, 368, None, Permanent, "policy"),
        (400, 506, None, Permanent, "duplicate"),
        (400, 100, None, Permanent, "Meta says no"),
        (400, 100, 2207010, Permanent, "Meta says no"),
        (400, 36000, 2207004, Permanent, "Meta says no"),
        (400, 24, 2207006, Permanent, "Meta says no"),
        (500, 1, None, Transient, "tries again"),
        (500, 2, None, Transient, "tries again"),
        (400, 9007, 2207027, Transient, "still processing"),
        (400, -1, 2207001, Transient, "tries again"),
        (400, -2, 2207003, Transient, "tries again"),
        (400, -2, 2207020, Transient, "tries again"),
        (503, None, None, Transient, "503"),
    ],
)
def test_error_table(
    status: int, code: int | None, subcode: int | None, kind: type[NetworkError], extra: str
) -> None:
    error = outcome(answer(status, code, subcode))
    assert type(error) is kind
    assert extra.lower() in error.message.lower() or extra in error.message
    if code is not None:
        assert error.code == (f"{code}/{subcode}" if subcode else str(code))
    if isinstance(error, RateLimited):
        assert error.scope == ("network" if code in (4,) else "account")


def test_user_message_and_trace_id_are_shown() -> None:
    error = outcome(answer(400, 100, None, error_user_msg="The caption is too long."))
    assert error.message == (
        "Threads refused publishing the post: The caption is too long (Meta trace id Atrace)"
    )


def test_maybe_sent_only_when_publishing_and_the_server_failed() -> None:
    failing = outcome(answer(500, 2))
    assert isinstance(failing, Transient) and failing.maybe_sent
    reading = outcome(answer(500, 2), publishing=False)
    assert isinstance(reading, Transient) and not reading.maybe_sent
    not_ready = outcome(answer(400, 9007, 2207027))
    assert isinstance(not_ready, Transient) and not not_ready.maybe_sent


def test_is_transient_flag() -> None:
    error = outcome(answer(400, 12345, None, is_transient=True))
    assert isinstance(error, Transient)


def test_html_error_page_is_transient() -> None:
    error = outcome(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, Transient) and error.maybe_sent


def buc(minutes: int) -> str:
    return orjson.dumps(
        {
            "1234": [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": minutes,
                }
            ],
            "5678": [
                {
                    "type": "instagram",
                    "call_count": 20,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": 0,
                }
            ],
        }
    ).decode()


def test_reset_from_the_business_use_case_header() -> None:
    response = httpx.Response(400, headers={"X-Business-Use-Case-Usage": buc(17)})
    assert usage_reset(response, NOW) == NOW + dt.timedelta(minutes=17)


def test_reset_from_the_page_header_and_retry_after() -> None:
    page = orjson.dumps({"call_count": 100, "estimated_time_to_regain_access": 3}).decode()
    assert usage_reset(httpx.Response(400, headers={"X-Page-Usage": page}), NOW) == (
        NOW + dt.timedelta(minutes=3)
    )
    both = httpx.Response(400, headers={"X-Page-Usage": page, "Retry-After": "30"})
    assert usage_reset(both, NOW) == NOW + dt.timedelta(seconds=30)


def test_app_usage_gives_no_reset_and_garbage_is_ignored() -> None:
    app = orjson.dumps({"call_count": 100, "total_time": 5, "total_cputime": 5}).decode()
    assert usage_reset(httpx.Response(400, headers={"X-App-Usage": app}), NOW) is None
    assert usage_reset(httpx.Response(400, headers={"X-Page-Usage": "{nope"}), NOW) is None


def test_rate_limit_uses_the_header_reset() -> None:
    response = answer(400, 80001)
    response.headers["X-Business-Use-Case-Usage"] = buc(25)
    error = outcome(response)
    assert isinstance(error, RateLimited)
    assert error.reset_at == NOW + dt.timedelta(minutes=25)
    assert "08:25 UTC" in error.message


def test_publishing_limit_without_a_header_waits_an_hour() -> None:
    error = outcome(answer(400, 9, 2207042))
    assert isinstance(error, RateLimited) and error.reset_at == NOW + dt.timedelta(hours=1)
