"""Graph API errors → the broadcaster's outcomes, with a message a person can act on.

Every Meta API answers a failure with the same body (developers.facebook.com/docs/graph-api/
guides/error-handling): ``{"error": {"message", "type", "code", "error_subcode",
"error_user_title", "error_user_msg", "is_transient", "fbtrace_id"}}``. The code decides the
outcome; the subcode refines it; `error_user_msg`, where Meta gives one, is what to show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateLimited,
    Transient,
)
from onthedot.networks.http import MAYBE_PUBLISHED, json_body, retry_after

__all__ = ["GraphError", "TokenExpired", "refusal", "usage_reset"]


@dataclass(slots=True)
class TokenExpired(AuthRevoked):
    """Code 190, subcode 463: the token's time is up. Where the network can refresh tokens
    (Threads), the adapter refreshes once and tries again; elsewhere it is AuthRevoked."""


# developers.facebook.com/docs/graph-api/guides/error-handling (error codes table).
_TRANSIENT_CODES: Final = frozenset({1, 2})  # "API Unknown", "API Service": wait and retry
_PERMISSION_CODES: Final = frozenset({3, 10, *range(200, 300)})
# developers.facebook.com/docs/graph-api/overview/rate-limiting: 4 = the app's calls (every
# account waits), 17 = the user's, 32 = the Page's, 613 = a custom per-call limit, 80001-80014
# = Business Use Case limits (per Page / IG account / business object).
_NETWORK_RATE_CODES: Final = frozenset({4, 341})
_ACCOUNT_RATE_CODES: Final = frozenset({17, 32, 613, *range(80001, 80015)})
# Same error-handling page, "Authentication Error Subcodes".
_AUTH_SUBCODES: Final = {
    458: "the app was removed from the account",
    459: "the account is checkpointed: log in on facebook.com to clear it",
    460: "the password was changed",
    463: "the access token has expired",
    464: "the account is not confirmed",
    467: "the access token is no longer valid",
    492: "the session is no longer valid",
}
# developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes:
# the subcodes whose recommended solution is "try again" or "generate a new container".
_IG_RETRY_SUBCODES: Final = frozenset({2207001, 2207003, 2207008, 2207020, 2207032, 2207053})
_IG_PUBLISH_LIMIT: Final = 2207042  # code 9: the 24-hour publishing limit is reached
_NOT_READY: Final = 9007  # code 9007 / subcode 2207027: the container is still processing
_DEFAULT_PUBLISH_LIMIT_WAIT: Final = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class GraphError:
    status: int
    code: int | None
    subcode: int | None
    type: str | None
    message: str
    user_message: str | None
    is_transient: bool
    trace: str | None

    @classmethod
    def of(cls, response: httpx.Response) -> GraphError:
        error = json_body(response).get("error")
        body: dict[str, Any] = error if isinstance(error, dict) else {}

        def integer(key: str) -> int | None:
            value = body.get(key)
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        def text(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) and value else None

        return cls(
            status=response.status_code,
            code=integer("code"),
            subcode=integer("error_subcode"),
            type=text("type"),
            message=text("message") or f"{response.status_code} {response.reason_phrase}",
            user_message=text("error_user_msg"),
            is_transient=body.get("is_transient") is True,
            trace=text("fbtrace_id"),
        )

    @property
    def label(self) -> str | None:
        if self.code is None:
            return None
        return f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)

    @property
    def said(self) -> str:
        """What Meta said, for a person, with the trace id Meta's support asks for."""
        said = (self.user_message or self.message).rstrip(".")
        return f"{said} (Meta trace id {self.trace})" if self.trace else said


def usage_reset(response: httpx.Response, now: dt.datetime) -> dt.datetime | None:
    """When a throttled account may call again: `Retry-After`, else the largest
    `estimated_time_to_regain_access` (minutes) in the BUC, Page or app usage headers."""
    after = retry_after(response, now)
    if after is not None:
        return after
    minutes: list[float] = []
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage", "x-ad-account-usage"):
        raw = response.headers.get(name)
        if not raw:
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        # BUC: {"<business-object-id>": [{"type", "call_count", ..., "estimated_time_..."}]};
        # the Page and app headers are one flat object.
        entries: list[Any] = []
        if isinstance(data, dict) and name == "x-business-use-case-usage":
            for value in data.values():
                entries.extend(value if isinstance(value, list) else [value])
        else:
            entries.append(data)
        for entry in entries:
            if isinstance(entry, dict):
                value = entry.get("estimated_time_to_regain_access")
                if isinstance(value, int | float) and 0 <= value < 10**6:
                    minutes.append(float(value))
    if not minutes or max(minutes) <= 0:
        return None
    return now + dt.timedelta(minutes=max(minutes))


def refusal(
    response: httpx.Response,
    *,
    service: str,
    account: str,
    doing: str,
    publishing: bool,
    now: dt.datetime,
) -> NetworkError:
    """The outcome of a failed Graph call made while onthedot was `doing` ("publishing the
    post") for `account` ("@alice")."""
    error = GraphError.of(response)
    code, sub, label = error.code, error.subcode, error.label
    then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
    status = response.status_code

    if code == 190 or code == 102 or (code is None and status == 401):
        if sub == 463:
            return TokenExpired(
                f"{service}'s access token for {account} has expired; reconnect the channel "
                "to give onthedot a new one",
                status=status,
                code=label,
            )
        why = _AUTH_SUBCODES.get(sub or 0, "the access token was revoked or is invalid")
        return AuthRevoked(
            f"{service} no longer accepts onthedot's access to {account} ({why}): reconnect "
            "the channel",
            status=status,
            code=label,
        )
    if code in _PERMISSION_CODES:
        return AuthRevoked(
            f"{service} refused {doing} for {account} for lack of a permission ({error.said}): "
            "reconnect the channel and grant every permission onthedot asks for",
            status=status,
            code=label,
        )
    if code in _NETWORK_RATE_CODES or code in _ACCOUNT_RATE_CODES or sub == _IG_PUBLISH_LIMIT:
        reset_at = usage_reset(response, now)
        if sub == _IG_PUBLISH_LIMIT and reset_at is None:
            reset_at = now + _DEFAULT_PUBLISH_LIMIT_WAIT
        scope = "network" if code in _NETWORK_RATE_CODES else "account"
        who = "onthedot's app" if scope == "network" else account
        wait = f"until {reset_at:%H:%M} UTC" if reset_at is not None else "until it lifts"
        return RateLimited(
            f"{service} is rate-limiting {who} ({error.said}); onthedot waits {wait} and "
            "tries again",
            status=status,
            code=label,
            reset_at=reset_at,
            scope=scope,
        )
    if code == _NOT_READY or sub == 2207027:
        return Transient(
            f"{service} is still processing the media; onthedot tries again shortly",
            status=status,
            code=label,
            maybe_sent=False,
        )
    if code == 368:
        return Permanent(
            f"{service} has blocked {account} from posting for now over a policy violation "
            f"({error.said}); check the account in {service}'s app, then publish again later",
            status=status,
            code=label,
        )
    if code == 506:
        return Permanent(
            f"{service} refused a duplicate of the previous post; change the text and publish "
            "again",
            status=status,
            code=label,
        )
    if code in _TRANSIENT_CODES or error.is_transient or sub in _IG_RETRY_SUBCODES:
        return Transient(
            f"{service} failed while onthedot was {doing} ({error.said}); {then}",
            status=status,
            code=label,
            maybe_sent=publishing,
        )
    if status >= 500 or (code is None and status not in range(400, 500)):
        return Transient(
            f"{service} failed with {status} while onthedot was {doing}; {then}",
            status=status,
            code=label,
            maybe_sent=publishing,
        )
    # 100 (invalid parameter), 24, 36000-range and 2207xxx media errors, and the rest: Meta
    # refused this request for good; its own words say what to change.
    return Permanent(f"{service} refused {doing}: {error.said}", status=status, code=label)
