"""A thin XRPC client for Bluesky: calls, sessions, and what Bluesky's answers mean.

Why not the `atproto` SDK (MarshalX/atproto, current): its `AsyncRequest` opens its own
`httpx.AsyncClient(follow_redirects=True, ...)`. A test transport could be passed in, but the
calls would still bypass onthedot's `HttpClient` -- the guard against private addresses on
every hop (a self-hosted PDS address comes from the user), the aiohttp transport used at
08:00, and the one mapping of transport failures to "nothing sent" / "maybe sent" -- and the
SDK folds answers into its own exceptions (409, 413 and 502 all become a NetworkError). Its
pydantic models for every lexicon are heavy for the dozen calls needed here. Bluesky's HTTP
API is small and documented lexicon by lexicon, so those calls are written here on
`HttpClient`, and every test can hand the adapter a contract fake.

XRPC basics (https://atproto.com/specs/xrpc): `GET /xrpc/<nsid>` for queries, `POST` for
procedures, errors as `{"error": "<Name>", "message": "..."}` with a 4xx/5xx status.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import httpx
import orjson

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

__all__ = [
    "ENTRYWAY",
    "SERVICE",
    "VIDEO_SERVICE",
    "Xrpc",
    "error_name",
    "jwt_expiry",
    "pds_endpoint",
    "rate_info",
    "refusal",
    "session_credentials",
]

SERVICE: Final = "Bluesky"
# Where Bluesky-hosted accounts sign in (https://docs.bsky.app/docs/advanced-guides/api-directory).
ENTRYWAY: Final = "https://bsky.social"
# The video service (https://docs.bsky.app/docs/tutorials/video).
VIDEO_SERVICE: Final = "https://video.bsky.app"
# Token errors after which a session refresh may help (com.atproto.server.refreshSession
# lists ExpiredToken and InvalidToken; the PDS answers them with 400 or 401).
TOKEN_ERRORS: Final = frozenset({"ExpiredToken", "InvalidToken"})
# The account itself is gone or blocked: reconnecting (or Bluesky's support) is the way out.
# AccountTakedown: refreshSession/createSession; Repo*: com.atproto.repo.* and sync.* lexicons.
ACCOUNT_ERRORS: Final = {
    "AccountTakedown": "Bluesky has taken the account down",
    "AccountDeactivated": "the account is deactivated",
    "RepoTakendown": "Bluesky has taken the account down",
    "RepoSuspended": "Bluesky has suspended the account",
    "RepoDeactivated": "the account is deactivated",
}
# The per-IP limit on all PDS requests, 3000 per 5 minutes
# (https://docs.bsky.app/docs/advanced-guides/rate-limits): every account onthedot posts
# for shares it, so hitting it holds the whole network, not one account.
_GLOBAL_WINDOW_S: Final = 300
_GLOBAL_LIMIT: Final = 3000


class Xrpc:
    """XRPC calls through onthedot's `HttpClient`."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def query(
        self,
        base: str,
        nsid: str,
        *,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return await self.http.request(
            "GET",
            f"{base}/xrpc/{nsid}",
            service=SERVICE,
            params=params,
            headers={**_auth(token), **(headers or {})},
        )

    async def procedure(
        self,
        base: str,
        nsid: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, Any] | None = None,
        token: str | None = None,
        publishing: bool = False,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        headers = _auth(token)
        if json is not None:
            content, content_type = orjson.dumps(json), "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        return await self.http.request(
            "POST",
            f"{base}/xrpc/{nsid}",
            service=SERVICE,
            publishing=publishing,
            params=params,
            headers=headers,
            content=content,
            timeout_s=timeout_s,
        )


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def error_name(response: httpx.Response) -> str | None:
    name = json_body(response).get("error")
    return name if isinstance(name, str) and name else None


def _said(response: httpx.Response) -> str:
    message = json_body(response).get("message")
    if isinstance(message, str) and message:
        return message
    return error_name(response) or f"{response.status_code} {response.reason_phrase}"


def rate_info(response: httpx.Response) -> RateInfo | None:
    """`RateLimit-Remaining` and `RateLimit-Reset` (Unix seconds), as Bluesky's PDS sends
    them on every answer (https://docs.bsky.app/docs/advanced-guides/rate-limits)."""
    remaining = response.headers.get("ratelimit-remaining")
    reset = parse_epoch(response.headers.get("ratelimit-reset"))
    if remaining is None and reset is None:
        return None
    try:
        left = int(remaining) if remaining is not None else None
    except ValueError:
        left = None
    return RateInfo(remaining=left, reset_at=reset)


def _scope(response: httpx.Response) -> str:
    """ "network" when the limit hit is the per-IP one every account shares.

    `RateLimit-Policy` follows draft-polli-ratelimit-headers: "3000;w=300" is 3000 requests
    in a 300-second window.
    """
    policy = response.headers.get("ratelimit-policy", "")
    limit, _, rest = policy.partition(";")
    window = rest.strip().removeprefix("w=")
    try:
        if int(limit) >= _GLOBAL_LIMIT and int(window) == _GLOBAL_WINDOW_S:
            return "network"
    except ValueError:
        pass
    return "account"


def refusal(
    response: httpx.Response,
    *,
    clock: Clock,
    handle: str,
    subject: str,
    action: str,
    publishing: bool,
) -> NetworkError:
    """The outcome of a non-2xx XRPC answer about `subject` ("the post"), received while
    onthedot was `action` ("publishing the post")."""
    status = response.status_code
    name = error_name(response)
    said = _said(response)
    if status == 429:
        reset_at = parse_epoch(response.headers.get("ratelimit-reset")) or retry_after(
            response, clock.now()
        )
        scope = _scope(response)
        wait = f"until {reset_at:%H:%M:%S} UTC" if reset_at is not None else "a moment"
        who = "onthedot's address" if scope == "network" else handle
        return RateLimited(
            f"Bluesky is rate-limiting {who} ({said}); onthedot waits {wait} and tries again",
            status=status,
            code=name,
            reset_at=reset_at,
            scope=scope,
        )
    if name in ACCOUNT_ERRORS:
        return AuthRevoked(
            f"{ACCOUNT_ERRORS[name]} ({handle}): {said}. Check the account on bsky.app, then "
            "connect it again in onthedot",
            status=status,
            code=name,
        )
    if name in TOKEN_ERRORS or status == 401:
        return AuthRevoked(
            f"Bluesky no longer accepts onthedot's session for {handle} ({said}): connect the "
            "account again with a new app password",
            status=status,
            code=name,
        )
    if status == 413:
        return Permanent(
            f"Bluesky refused {subject}: it is too large ({said}); use a smaller file",
            status=status,
            code=name or "PayloadTooLarge",
        )
    if 400 <= status < 500:
        return Permanent(
            f"Bluesky refused {subject}: {said}; change it and schedule it again",
            status=status,
            code=name,
        )
    if status >= 500:
        then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
        return Transient(
            f"Bluesky failed with {status} {response.reason_phrase} while onthedot was "
            f"{action}; {then}",
            status=status,
            code=name,
            maybe_sent=publishing,
        )
    return Permanent(
        f"Bluesky answered {status} {response.reason_phrase} while onthedot was {action}, "
        "which is not an answer of its API; check the account's server address",
        status=status,
        code=name,
    )


def jwt_expiry(token: str) -> dt.datetime | None:
    """The `exp` claim of a JWT, read without checking its signature: onthedot only needs to
    know when to refresh, and the PDS checks the token itself."""
    try:
        payload = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return parse_epoch(str(exp)) if isinstance(exp, int | float) else None


def pds_endpoint(did_doc: Any) -> str | None:
    """The account's PDS from its DID document: the service `#atproto_pds` of type
    `AtprotoPersonalDataServer` (https://atproto.com/specs/did)."""
    if not isinstance(did_doc, dict):
        return None
    for service in did_doc.get("service") or []:
        if (
            isinstance(service, dict)
            and str(service.get("id", "")).endswith("#atproto_pds")
            and service.get("type") == "AtprotoPersonalDataServer"
            and isinstance(service.get("serviceEndpoint"), str)
        ):
            return str(service["serviceEndpoint"]).rstrip("/")
    return None


def session_credentials(body: Mapping[str, Any], *, service: str) -> dict[str, Any] | None:
    """The credentials onthedot keeps from a createSession/refreshSession answer, or None
    when the answer lacks its required fields (accessJwt, refreshJwt, handle, did)."""
    access, refresh = body.get("accessJwt"), body.get("refreshJwt")
    did, handle = body.get("did"), body.get("handle")
    if not all(isinstance(v, str) and v for v in (access, refresh, did, handle)):
        return None
    assert isinstance(access, str) and isinstance(refresh, str)
    # Named like every network's tokens, so the log redaction knows them for secrets.
    credentials: dict[str, Any] = {
        "access_token": access,
        "refresh_token": refresh,
        "did": did,
        "handle": handle,
        "service": pds_endpoint(body.get("didDoc")) or service,
    }
    expiry = jwt_expiry(access)
    if expiry is not None:
        credentials["expires_at"] = expiry.isoformat()
    refresh_expiry = jwt_expiry(refresh)
    if refresh_expiry is not None:
        credentials["refresh_expires_at"] = refresh_expiry.isoformat()
    return credentials
