"""The state of a fake Mastodon instance: its records, the knobs tests turn, and the plumbing
every route shares (authentication, rate limits, request parameters)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from onthedot.clock import Clock

# config/initializers/rack_attack.rb and app/lib/rate_limiter.rb (api/rate-limits).
API_LIMIT: Final = (300, dt.timedelta(minutes=5))
MEDIA_LIMIT: Final = (30, dt.timedelta(minutes=30))
STATUS_LIMIT: Final = (300, dt.timedelta(hours=3))
# methods/statuses: "Idempotency keys are stored for up to 1 hour."
IDEMPOTENCY_TTL: Final = dt.timedelta(hours=1)
MAX_ATTACHMENTS: Final = 4
# Mastodon's MediaAttachment IMAGE_MIME_TYPES and VIDEO_MIME_TYPES (audio is left out).
IMAGE_TYPES: Final = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif"}
)
VIDEO_TYPES: Final = frozenset({"video/mp4", "video/ogg", "video/quicktime", "video/webm"})
ALL_SCOPES: Final = frozenset(
    {
        "read",
        "write",
        "profile",
        "read:accounts",
        "read:statuses",
        "write:media",
        "write:statuses",
    }
)
_INVALID: Final = "The access token is invalid"
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def answer(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, dict(headers or {}), "application/json")


def refuse(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return answer({"error": message}, status, headers)


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Account:
    id: str
    username: str
    display_name: str


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str
    website: str | None
    redirect_uris: list[str]
    scopes: list[str]


@dataclass
class Token:
    value: str
    account_id: str
    scopes: frozenset[str]
    client_id: str | None
    expires_at: dt.datetime | None = None
    refresh_token: str | None = None
    revoked: bool = False


@dataclass
class Grant:
    code: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    account_id: str
    challenge: str | None


@dataclass
class Media:
    id: str
    account_id: str
    kind: str
    ready_at: dt.datetime
    description: str | None
    status_id: str | None = None


@dataclass
class Status:
    id: str
    account_id: str
    text: str
    created_at: dt.datetime
    in_reply_to_id: str | None
    visibility: str
    media_ids: list[str]
    application: str | None
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0


@dataclass
class InstanceState:
    clock: Clock
    domain: str = "mastodon.example"
    max_characters: int = 500
    # Mastodon 4.3+ serves OAuth metadata and takes PKCE; older instances answer 404 there.
    pkce: bool = True
    # How long a video takes to process after its upload (202 until then).
    processing: dt.timedelta = dt.timedelta(seconds=30)
    fail_processing: bool = False
    # None: tokens never expire (Mastodon's default). Set, tokens expire and come with a
    # refresh token, as some Mastodon-compatible servers do.
    token_lifetime: dt.timedelta | None = None
    consent_as: str | None = "alice"
    deny_consent: bool = False
    accounts: dict[str, Account] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _keys: dict[tuple[str, str], tuple[str, dt.datetime]] = field(default_factory=dict)
    _counts: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _throttled: dict[str, dt.datetime] = field(default_factory=dict)
    _rejections: list[tuple[str, str]] = field(default_factory=list)
    _failures: list[tuple[str, int]] = field(default_factory=list)
    _next_id: int = 109_000_000_000_000_000
    app: Starlette = field(init=False)

    def __post_init__(self) -> None:
        if not self.accounts:
            self.add_account("alice", "Alice")

    # --- knobs --------------------------------------------------------------------------------

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def add_account(self, username: str, display_name: str = "") -> Account:
        account = Account(self._id(), username, display_name or username)
        self.accounts[username] = account
        return account

    def issue_token(self, username: str = "alice", scopes: str = "read write") -> str:
        """A user token, as if the account had connected an app already."""
        return self._token(self.accounts[username].id, frozenset(scopes.split()), None).value

    def revoke(self, token: str) -> None:
        self.tokens[token].revoked = True

    def expire(self, token: str) -> None:
        self.tokens[token].expires_at = self.clock.now()

    def throttle(self, username: str, until: dt.datetime) -> None:
        """Answer 429 to every call of the account until `until`."""
        self._throttled[self.accounts[username].id] = until

    def reject_text(self, needle: str, reason: str) -> None:
        """Refuse a status whose text contains `needle` with 422 "Validation failed: reason"."""
        self._rejections.append((needle, reason))

    def fail_next(self, path: str, status: int = 503) -> None:
        """Answer the next request to `path` with `status` (an overloaded instance)."""
        self._failures.append((path, status))

    def posted(self, username: str = "alice") -> list[Status]:
        account_id = self.accounts[username].id
        return [s for s in self.statuses.values() if s.account_id == account_id]

    # --- plumbing -----------------------------------------------------------------------------

    def _token(self, account_id: str, scopes: frozenset[str], client_id: str | None) -> Token:
        token = Token(secrets.token_urlsafe(32), account_id, scopes, client_id)
        if self.token_lifetime is not None:
            token.expires_at = self.clock.now() + self.token_lifetime
            token.refresh_token = secrets.token_urlsafe(32)
        self.tokens[token.value] = token
        return token

    def _account_by_id(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.id == account_id), None)

    def _failure(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path))
        for index, (path, status) in enumerate(self._failures):
            if request.url.path == path:
                del self._failures[index]
                return Response(
                    "<html><body>We're sorry, but something went wrong.</body></html>",
                    status,
                    media_type="text/html",
                )
        return None

    def _auth(self, request: Request, scope: str) -> Token | Response:
        header = request.headers.get("authorization", "")
        token = self.tokens.get(header.removeprefix("Bearer ").strip())
        # Mastodon renders Doorkeeper's error description (Api::BaseController).
        if token is None:
            return refuse(401, _INVALID)
        if token.revoked:
            return refuse(401, "The access token was revoked")
        if token.expires_at is not None and token.expires_at <= self.clock.now():
            return refuse(401, "The access token expired")
        family = scope.split(":")[0]
        allowed = scope in token.scopes or family in token.scopes
        if scope == "read:accounts" and "profile" in token.scopes:
            allowed = True
        if not allowed:
            return refuse(403, "This action is outside the authorized scopes")
        until = self._throttled.get(token.account_id)
        if until is not None and until > self.clock.now():
            return refuse(429, "Too many requests", self._limit_headers(300, 0, until))
        return token

    def _limit_headers(self, limit: int, remaining: int, reset: dt.datetime) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": reset.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _count(
        self, account_id: str, families: list[tuple[str, tuple[int, dt.timedelta]]]
    ) -> tuple[bool, dict[str, str]]:
        """Count one call in fixed windows (as Rack::Attack does); the headers describe the
        limit closest to being exceeded. False when a limit is exceeded."""
        now = self.clock.now()
        closest: tuple[int, int, dt.datetime] | None = None
        allowed = True
        for name, (limit, period) in families:
            seconds = int(period.total_seconds())
            window = int((now - _EPOCH).total_seconds()) // seconds
            key = (account_id, name, window)
            self._counts[key] = self._counts.get(key, 0) + 1
            remaining = limit - self._counts[key]
            reset = _EPOCH + dt.timedelta(seconds=(window + 1) * seconds)
            if remaining < 0:
                allowed = False
            if closest is None or remaining < closest[1]:
                closest = (limit, remaining, reset)
        assert closest is not None
        return allowed, self._limit_headers(*closest)

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            body = orjson.loads(await request.body() or b"{}")
            return body if isinstance(body, dict) else {}
        params: dict[str, Any] = {}
        async with request.form() as form:
            for key, value in form.multi_items():
                if not isinstance(value, str):
                    continue  # the calls read here take no files
                if key.endswith("[]"):
                    params.setdefault(key[:-2], []).append(value)
                else:
                    params[key] = value
        return params

    def _account_json(self, account: Account) -> dict[str, Any]:
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "url": f"https://{self.domain}/@{account.username}",
            "statuses_count": len(self.posted(account.username)),
        }
