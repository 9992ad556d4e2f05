"""Every documented Bluesky answer maps to exactly one of the broadcaster's outcomes."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateLimited,
    Transient,
)
from onthedot.networks.bluesky import xrpc

RESET = 1_795_000_000  # an epoch second, as RateLimit-Reset sends it


def answer(status: int, error: str | None = None, **headers: str) -> httpx.Response:
    body = {"error": error, "message": f"{error} said so"} if error else {}
    return httpx.Response(status, json=body, headers=headers or None)


CASES: list[tuple[str, httpx.Response, bool, type[NetworkError], dict[str, object]]] = [
    # (what, answer, publishing, outcome, attributes)
    (
        "429 with RateLimit-Reset (an account's write points)",
        answer(
            429,
            "RateLimitExceeded",
            **{"RateLimit-Reset": str(RESET), "RateLimit-Policy": "5000;w=3600"},
        ),
        True,
        RateLimited,
        {"scope": "account", "reset_at": dt.datetime.fromtimestamp(RESET, dt.UTC)},
    ),
    (
        "429 on the per-IP limit every account shares",
        answer(
            429,
            "RateLimitExceeded",
            **{"RateLimit-Reset": str(RESET), "RateLimit-Policy": "3000;w=300"},
        ),
        False,
        RateLimited,
        {"scope": "network"},
    ),
    (
        "429 with only Retry-After",
        answer(429, "RateLimitExceeded", **{"Retry-After": "90"}),
        False,
        RateLimited,
        {"reset_at": dt.datetime(2026, 11, 26, 6, 1, 30, tzinfo=dt.UTC)},
    ),
    (
        "400 ExpiredToken (after the one refresh)",
        answer(400, "ExpiredToken"),
        True,
        AuthRevoked,
        {},
    ),
    ("401 ExpiredToken: revoked", answer(401, "ExpiredToken"), True, AuthRevoked, {}),
    ("400 InvalidToken", answer(400, "InvalidToken"), False, AuthRevoked, {}),
    ("401 AuthMissing", answer(401, "AuthMissing"), False, AuthRevoked, {}),
    ("401 AuthenticationRequired", answer(401, "AuthenticationRequired"), False, AuthRevoked, {}),
    ("400 AccountTakedown", answer(400, "AccountTakedown"), True, AuthRevoked, {}),
    ("400 RepoTakendown", answer(400, "RepoTakendown"), True, AuthRevoked, {}),
    ("400 RepoSuspended", answer(400, "RepoSuspended"), True, AuthRevoked, {}),
    ("400 RepoDeactivated", answer(400, "RepoDeactivated"), True, AuthRevoked, {}),
    (
        "400 InvalidRequest: the record",
        answer(400, "InvalidRequest"),
        True,
        Permanent,
        {"code": "InvalidRequest"},
    ),
    ("400 InvalidSwap", answer(400, "InvalidSwap"), True, Permanent, {}),
    ("403 Forbidden", answer(403, "Forbidden"), True, Permanent, {}),
    (
        "413 too large",
        answer(413, "PayloadTooLarge"),
        False,
        Permanent,
        {"code": "PayloadTooLarge"},
    ),
    (
        "500 while publishing",
        answer(500, "InternalServerError"),
        True,
        Transient,
        {"maybe_sent": True},
    ),
    ("502 while reading", answer(502), False, Transient, {"maybe_sent": False}),
    ("503 while publishing", answer(503), True, Transient, {"maybe_sent": True}),
    ("302: not the API", answer(302), False, Permanent, {}),
]


@pytest.mark.parametrize(
    ("what", "response", "publishing", "outcome", "attrs"), CASES, ids=[c[0] for c in CASES]
)
def test_error_mapping(
    what: str,
    response: httpx.Response,
    publishing: bool,
    outcome: type[NetworkError],
    attrs: dict[str, object],
    clock: FrozenClock,
) -> None:
    result = xrpc.refusal(
        response,
        clock=clock,
        handle="@alice.bsky.test",
        subject="the post",
        action="publishing the post",
        publishing=publishing,
    )
    assert type(result) is outcome
    assert result.status == response.status_code
    for name, value in attrs.items():
        assert getattr(result, name) == value
    assert result.message  # something a person can read and act on
    if outcome is AuthRevoked:
        assert "connect" in result.message


def test_rate_info_reads_the_headers_of_a_success() -> None:
    ok = httpx.Response(200, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": str(RESET)})
    info = xrpc.rate_info(ok)
    assert info is not None and info.remaining == 0
    assert info.reset_at == dt.datetime.fromtimestamp(RESET, dt.UTC)
    assert xrpc.rate_info(httpx.Response(200)) is None


def test_jwt_expiry_reads_exp_without_trusting_anything_else() -> None:
    assert xrpc.jwt_expiry("a.eyJleHAiOjE3OTUwMDAwMDB9.c") == dt.datetime.fromtimestamp(
        RESET, dt.UTC
    )
    assert xrpc.jwt_expiry("not-a-jwt") is None
    assert xrpc.jwt_expiry("a.!!!.c") is None


def test_pds_endpoint_comes_from_the_did_document() -> None:
    doc = {
        "service": [
            {"id": "#other", "type": "X", "serviceEndpoint": "https://no.test"},
            {
                "id": "did:plc:x#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://pds.test/",
            },
        ]
    }
    assert xrpc.pds_endpoint(doc) == "https://pds.test"
    assert xrpc.pds_endpoint({}) is None and xrpc.pds_endpoint(None) is None
