"""Stripe webhook signatures: is this request from Stripe, and fresh?

Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 under the endpoint's signing secret and sends
`Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]` (several `v1` while a secret is being
rolled). A request is accepted when some `v1` matches some configured secret and `t` is within
the tolerance of now: an old timestamp is a replay, a bad signature a forgery. Pure: the caller
passes the clock's `now`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence

from onthedot.errors import OnTheDotError


class WebhookRefused(OnTheDotError):
    status = 400
    code = "stripe_signature_invalid"
    title = "Stripe webhook refused"


class SignatureMissing(WebhookRefused):
    code = "stripe_signature_missing"


class SignatureMismatch(WebhookRefused):
    code = "stripe_signature_invalid"


class TimestampOutsideTolerance(WebhookRefused):
    code = "stripe_signature_stale"


class WebhookNotConfigured(OnTheDotError):
    status = 503
    code = "stripe_webhook_not_configured"
    title = "Stripe webhook secret not configured"


def sign(payload: bytes, secret: str, t: int) -> str:
    """The `Stripe-Signature` header Stripe would send (for tests and the simulator)."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def split_secrets(value: str) -> list[str]:
    """Several secrets, comma-separated, while rolling one."""
    return [s.strip() for s in value.split(",") if s.strip()]


def verify(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    tolerance_s: int,
    now: dt.datetime,
) -> int:
    """Return the signed timestamp, or raise a `WebhookRefused` saying why."""
    if not secrets:
        raise WebhookNotConfigured("set ONTHEDOT_STRIPE_WEBHOOK_SECRET to receive Stripe events")
    if not header:
        raise SignatureMissing("the Stripe-Signature header is missing")
    t: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                t = int(value)
            except ValueError:
                raise SignatureMismatch("the Stripe-Signature timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if t is None or not signatures:
        raise SignatureMismatch("the Stripe-Signature header has no timestamp or no v1 signature")
    signed = f"{t}.".encode() + payload
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
        # Compare with every candidate, in constant time, so timing tells nothing; as bytes,
        # because a forged header may carry characters compare_digest refuses in a str.
        for sig in signatures:
            ok |= hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape"))
    if not ok:
        raise SignatureMismatch("the Stripe-Signature does not match the payload")
    age = int(now.timestamp()) - t
    if abs(age) > tolerance_s:
        raise TimestampOutsideTolerance(
            f"the signed timestamp is {abs(age)} s {'old' if age > 0 else 'in the future'}, "
            f"over the {tolerance_s} s tolerance (a replayed request?)",
            age_s=age,
        )
    return t
