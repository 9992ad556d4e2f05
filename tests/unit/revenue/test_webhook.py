"""Stripe signature verification, as a pure function."""

from __future__ import annotations

import datetime as dt

import pytest

from onthedot.revenue.webhook import (
    SignatureMismatch,
    SignatureMissing,
    TimestampOutsideTolerance,
    WebhookNotConfigured,
    sign,
    split_secrets,
    verify,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T = int(NOW.timestamp())
BODY = b'{"id":"evt_1"}'


def test_valid_signature_returns_its_timestamp() -> None:
    assert verify(BODY, sign(BODY, "whsec_a", T - 10), ["whsec_a"], 300, NOW) == T - 10


def test_any_of_several_secrets_and_signatures_is_enough() -> None:
    header = sign(BODY, "whsec_new", T) + ",v1=" + "0" * 64 + ",v0=ignored"
    assert verify(BODY, header, split_secrets("whsec_old, whsec_new"), 300, NOW) == T


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, SignatureMissing),
        ("", SignatureMissing),
        ("t=abc,v1=00", SignatureMismatch),
        (f"t={T}", SignatureMismatch),
        ("v1=00", SignatureMismatch),
        (sign(BODY, "whsec_b", T), SignatureMismatch),
        (sign(BODY + b" ", "whsec_a", T), SignatureMismatch),
        (sign(BODY, "whsec_a", T - 301), TimestampOutsideTolerance),
        (sign(BODY, "whsec_a", T + 301), TimestampOutsideTolerance),
        (f"t={T},v1=\u00e9\u00e9", SignatureMismatch),  # a forged, non-ASCII signature
    ],
)
def test_refusals_say_why(header: str | None, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        verify(BODY, header, ["whsec_a"], 300, NOW)
    assert getattr(info.value, "status", None) == 400


def test_no_secret_configured() -> None:
    with pytest.raises(WebhookNotConfigured):
        verify(BODY, sign(BODY, "x", T), [], 300, NOW)
