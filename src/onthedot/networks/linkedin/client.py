"""A thin client for LinkedIn's versioned REST API, and what its answers mean for onthedot.

LinkedIn's own Python client (linkedin-api-python-client) is blocking (`requests`) and marked
beta, and it cannot be handed a transport; so onthedot speaks the API directly over the
`HttpClient` every adapter shares, which also lets the tests hand it the contract fake.

Every REST call carries the headers LinkedIn requires of versioned APIs, and every non-2xx
answer becomes exactly one of the broadcaster's outcomes, with a message that says what to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

import httpx

from onthedot.networks.base import (
    AuthRevoked,
    NetworkError,
    Permanent,
    RateLimited,
    Transient,
)
from onthedot.networks.http import MAYBE_PUBLISHED, HttpClient, json_body, retry_after

__all__ = [
    "API_URL",
    "API_VERSION",
    "EXPIRED",
    "OAUTH_URL",
    "SERVICE",
    "LinkedInApi",
    "next_midnight",
    "refusal",
    "token_expired",
    "urn_path",
]

SERVICE: Final = "LinkedIn"
API_URL: Final = "https://api.linkedin.com"
OAUTH_URL: Final = "https://www.linkedin.com"
# learn.microsoft.com/linkedin/marketing/versioning: versions are named YYYYMM and each is
# served for at least a year; calls without `LinkedIn-Version` are refused.
API_VERSION: Final = "202605"

# learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling: 401 answers carry a
# serviceErrorCode telling an invalid, a revoked and an expired token apart.
INVALID_TOKEN: Final = 65600
REVOKED_TOKEN: Final = 65601
EXPIRED_TOKEN: Final = 65602
# The code an expired token's AuthRevoked carries, so a caller holding a refresh token can
# refresh and try once more.
EXPIRED: Final = "EXPIRED_ACCESS_TOKEN"


def urn_path(urn: str) -> str:
    """A URN as one path segment: Rest.li 2.0 wants its colons encoded too."""
    return quote(urn, safe="")


def next_midnight(now: dt.datetime) -> dt.datetime:
    """When LinkedIn's daily limits start again.

    learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits: limits count calls
    per 24 hours and "reset at midnight UTC every day"; a 429 carries no reset header.
    """
    today = now.astimezone(dt.UTC).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _said(body: Mapping[str, Any]) -> str:
    message = body.get("message")
    return message if isinstance(message, str) and message else ""


def _service_code(body: Mapping[str, Any]) -> int | None:
    code = body.get("serviceErrorCode")
    return code if isinstance(code, int) else None


def _input_error(body: Mapping[str, Any]) -> str | None:
    """The first `errorDetails.inputErrors[].code` (DUPLICATE_POST, say), if any."""
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, Mapping) else None
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, Mapping) and isinstance(error.get("code"), str):
                return str(error["code"])
    return None


def token_expired(response: httpx.Response) -> bool:
    """Whether a 401 says the token expired (which a refresh may cure)."""
    if response.status_code != 401:
        return False
    body = json_body(response)
    return (
        _service_code(body) == EXPIRED_TOKEN
        or body.get("code") == "EXPIRED_ACCESS_TOKEN"
        or "expired" in _said(body).lower()
    )


def refusal(
    response: httpx.Response,
    *,
    who: str,
    subject: str,
    action: str,
    publishing: bool,
    now: dt.datetime,
) -> NetworkError:
    """The outcome of a non-2xx answer about `subject` ("the post") for the account `who`,
    received while onthedot was `action` ("publishing the post")."""
    status = response.status_code
    body = json_body(response)
    said = _said(body)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    code = code or _input_error(body) or (str(_service_code(body)) if _service_code(body) else None)
    reason = said or f"{status} {response.reason_phrase}"
    if status == 429:
        # Infrastructure protection may say Retry-After; daily quotas never do.
        reset_at = retry_after(response, now) or next_midnight(now)
        # "Resource level throttle APPLICATION DAY limit ..." stops every account at once.
        scope = "network" if "APPLICATION" in said.upper() else "account"
        whose = "onthedot's LinkedIn app" if scope == "network" else who
        return RateLimited(
            f"LinkedIn's daily limit for {whose} is used up; onthedot waits until "
            f"{reset_at:%Y-%m-%d %H:%M} UTC, when LinkedIn resets it, and tries again",
            status=status,
            code=code,
            reset_at=reset_at,
            scope=scope,
        )
    if status == 401:
        service_code = _service_code(body)
        if token_expired(response):
            what = "onthedot's access to it expired"
            code = EXPIRED
        elif service_code == REVOKED_TOKEN or "revoked" in said.lower():
            what = "its owner revoked onthedot's access on LinkedIn"
        else:
            what = "LinkedIn no longer accepts onthedot's access token"
        return AuthRevoked(
            f"LinkedIn refused {who}: {what}. Reconnect the channel to keep posting",
            status=status,
            code=code,
        )
    if status == 403:
        return Permanent(
            f"LinkedIn denied onthedot {action} for {who} ({reason}); the account may lack "
            "the permission (w_member_social, or a page admin role for a page): reconnect "
            "the channel and grant it",
            status=status,
            code=code,
        )
    if status == 422 and code == "DUPLICATE_POST":
        return Permanent(
            f"LinkedIn refused {subject} as a duplicate of a recent post of {who} ({reason}); "
            "change the text and schedule it again",
            status=status,
            code=code,
        )
    if 400 <= status < 500:
        return Permanent(f"LinkedIn refused {subject}: {reason}", status=status, code=code)
    then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
    return Transient(
        f"LinkedIn failed with {status} {response.reason_phrase} while onthedot was {action}; "
        f"{then}",
        status=status,
        code=code,
        maybe_sent=publishing and status >= 500,
    )


class LinkedInApi:
    """The REST calls, with LinkedIn's required headers and the bearer token."""

    def __init__(self, http: HttpClient, base_url: str, *, version: str = API_VERSION) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._api_host = urlsplit(self.base_url).hostname or ""

    def headers(self, token: str) -> dict[str, str]:
        # learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api:
        # "All APIs require the request headers LinkedIn-Version and X-Restli-Protocol-Version".
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        publishing: bool = False,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.base_url}{path}",
            service=SERVICE,
            publishing=publishing,
            params=params,
            json=json,
            headers=self.headers(token),
        )

    async def put_bytes(self, url: str, token: str, data: bytes) -> httpx.Response:
        """PUT media bytes to an upload URL LinkedIn handed out.

        The bearer token goes only to LinkedIn's own hosts: an upload URL names its host.
        """
        host = urlsplit(url).hostname or ""
        headers = {"Content-Type": "application/octet-stream"}
        if host == self._api_host or host == "linkedin.com" or host.endswith(".linkedin.com"):
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.request(
            "PUT", url, service=SERVICE, publishing=False, content=data, headers=headers
        )
