"""What each documented Mastodon answer means to the broadcaster, and instance addresses."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateInfo,
    RateLimited,
    Transient,
)
from onthedot.networks.mastodon.api import instance_url, rate_info, refusal

NOW = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
RESET = "2026-11-26T06:05:00.019685Z"


def answer(status: int, body: str | None = None, **headers: str) -> httpx.Response:
    content = body.encode() if body is not None else b""
    kind = {"Content-Type": "application/json"} if body and body.startswith("{") else {}
    return httpx.Response(status, content=content, headers={**kind, **headers})


# Each row: the instance's answer → the outcome, and words the message must contain.
TABLE: list[tuple[httpx.Response, type[NetworkError], str]] = [
    # api/rate-limits: 429 with X-RateLimit-Reset (ISO 8601).
    (
        answer(429, '{"error":"Too many requests"}', **{"X-RateLimit-Reset": RESET}),
        RateLimited,
        "waits until 06:05:00 UTC",
    ),
    (
        answer(429, '{"error":"Too many requests"}', **{"Retry-After": "90"}),
        RateLimited,
        "06:01:30",
    ),
    # methods/statuses, methods/media: 401 "The access token is invalid" (or was revoked).
    (answer(401, '{"error":"The access token is invalid"}'), AuthRevoked, "reconnect the channel"),
    (answer(401, '{"error":"The access token was revoked"}'), AuthRevoked, "was revoked"),
    # Scopes not granted, login disabled, account suspended or unconfirmed.
    (
        answer(403, '{"error":"This action is outside the authorized scopes"}'),
        AuthRevoked,
        "outside the authorized scopes",
    ),
    (answer(403, '{"error":"Your login is currently disabled"}'), AuthRevoked, "disabled"),
    (answer(404, '{"error":"Record not found"}'), Permanent, "could not find the post"),
    (answer(410, '{"error":"Gone"}'), Permanent, "could not find"),
    (
        answer(422, '{"error":"Validation failed: Text character limit of 500 exceeded"}'),
        Permanent,
        "Text character limit of 500 exceeded",
    ),
    (answer(422, '{"error":"Validation failed: Text can\'t be blank"}'), Permanent, "blank"),
    (answer(400, '{"error":"invalid_request"}'), Permanent, "refused the post"),
    (answer(500, '{"error":"Error processing thumbnail"}'), Transient, "failed with 500"),
    (answer(502, "<html>Bad Gateway</html>"), Transient, "502 Bad Gateway"),
    (answer(503, "<html>Maintenance</html>"), Transient, "is unavailable"),
    (answer(504, ""), Transient, "failed with 504"),
    (answer(302, "", Location="https://elsewhere.example/"), Permanent, "not an answer of"),
]


@pytest.mark.parametrize(("response", "outcome", "words"), TABLE)
def test_each_answer_maps_to_one_outcome(
    response: httpx.Response, outcome: type[NetworkError], words: str
) -> None:
    error = refusal(
        response,
        host="mastodon.example",
        who="@alice@mastodon.example",
        subject="the post",
        publishing=True,
        now=NOW,
    )
    assert type(error) is outcome
    assert words in error.message
    assert error.status == response.status_code
    if isinstance(error, Transient):
        assert error.maybe_sent is True
    if isinstance(error, RateLimited):
        assert error.scope == "account" and error.reset_at is not None


def test_a_failed_read_is_not_maybe_sent() -> None:
    error = refusal(
        answer(503), host="h", who="w", subject="the account's posts", publishing=False, now=NOW
    )
    assert isinstance(error, Transient) and error.maybe_sent is False


def test_rate_headers_on_a_success() -> None:
    response = answer(200, "{}", **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": RESET})
    assert rate_info(response) == RateInfo(
        remaining=0, reset_at=dt.datetime(2026, 11, 26, 6, 5, 0, 19685, tzinfo=dt.UTC)
    )
    assert rate_info(answer(200, "{}")) is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  Mastodon.Social/ ", "https://mastodon.social"),
        ("https://mastodon.social", "https://mastodon.social"),
        ("@alice@fosstodon.org", "https://fosstodon.org"),
        ("alice@fosstodon.org", "https://fosstodon.org"),
        ("https://social.example:8443", "https://social.example:8443"),
    ],
)
def test_instance_addresses(given: str, expected: str) -> None:
    assert instance_url(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "http://mastodon.social",
        "https://mastodon.social/about",
        "https://u:p@host.example",
        "javascript:alert(1)",
    ],
)
def test_bad_instance_addresses(given: str) -> None:
    with pytest.raises(Permanent):
        instance_url(given)


def test_http_only_for_development() -> None:
    assert instance_url("http://127.0.0.1:3000", allow_http=True) == "http://127.0.0.1:3000"
