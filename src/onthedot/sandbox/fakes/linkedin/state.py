"""The fake LinkedIn's state, the knobs tests turn, and the checks every call passes."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from onthedot.clock import Clock

__all__ = [
    "CODE_LIFETIME",
    "MAX_COMMENTARY",
    "PART_SIZE",
    "REFRESH_LIFETIME",
    "TOKEN_LIFETIME",
    "VIDEO_MIN_BYTES",
    "FakeMedia",
    "FakeMember",
    "FakePost",
    "FakeState",
    "FakeToken",
    "error_response",
    "json_response",
    "millis",
]

TOKEN_LIFETIME: Final = dt.timedelta(days=60)
REFRESH_LIFETIME: Final = dt.timedelta(days=365)
CODE_LIFETIME: Final = dt.timedelta(minutes=30)
PART_SIZE: Final = 4 * 1024 * 1024
VIDEO_MIN_BYTES: Final = 75 * 1024
MAX_COMMENTARY: Final = 3000


@dataclass
class FakeMember:
    sub: str
    name: str
    scopes: set[str] = field(
        default_factory=lambda: {"openid", "profile", "w_member_social", "r_member_social"}
    )

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass
class FakeToken:
    sub: str
    expires_at: dt.datetime
    scopes: set[str]
    revoked: bool = False


@dataclass
class FakeMedia:
    urn: str
    owner: str
    kind: str  # "image" or "video"
    size: int = 0
    parts: list[tuple[int, int]] = field(default_factory=list)
    etags: list[str] = field(default_factory=list)
    received: dict[int, bytes] = field(default_factory=dict)
    upload_token: str = ""
    ready_at: dt.datetime | None = None  # set once every byte is in
    failed: bool = False


@dataclass
class FakePost:
    urn: str
    author: str
    commentary: str
    content: dict[str, Any] | None
    created_at: dt.datetime
    reactions: dict[str, int] = field(default_factory=dict)
    comments: int = 0


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error_response(
    status: int, message: str, *, code: str | None = None, service: int | None = None
) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code is not None:
        body["code"] = code
    body["serviceErrorCode"] = service if service is not None else status
    return json_response(body, status)


def millis(instant: dt.datetime) -> int:
    return int(instant.timestamp() * 1000)


class FakeState:
    """What LinkedIn knows (members, tokens, media, posts), the knobs, and the checks every
    call passes; the endpoints are in the modules beside this one."""

    def __init__(
        self,
        clock: Clock,
        *,
        client_id: str = "onthedot-client",
        client_secret: str = "onthedot-secret",  # noqa: S107 - a fake's own secret
    ) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.members: dict[str, FakeMember] = {}
        self.tokens: dict[str, FakeToken] = {}
        self.refresh_tokens: dict[str, tuple[str, dt.datetime]] = {}  # → (sub, ends)
        self.codes: dict[str, tuple[str, str, dt.datetime]] = {}  # → (sub, redirect, made)
        self.media: dict[str, FakeMedia] = {}
        self.posts: list[FakePost] = []
        self.calls: list[tuple[str, str]] = []
        self._ids = itertools.count(7_300_000_000_000_000_001)
        # --- knobs ---
        self.consenting: str | None = None  # who signs in at /oauth/v2/authorization
        self.grant_refresh_tokens = False  # approved partners get refresh tokens
        self.rate_limited: dict[str, str] = {}  # sub (or "*") → "MEMBER" or "APPLICATION"
        self.rejected: dict[str, tuple[int, str]] = {}  # text fragment → (status, message)
        self.image_processing = dt.timedelta(seconds=2)
        self.video_processing = dt.timedelta(seconds=30)
        self.failing_media = False
        self.part_size = PART_SIZE

    # --- scripting ----------------------------------------------------------------------

    def add_member(self, sub: str = "abc123", name: str = "Ada Lovelace") -> FakeMember:
        member = FakeMember(sub, name)
        self.members[sub] = member
        return member

    def issue(
        self, sub: str, *, refresh: bool = False, lifetime: dt.timedelta = TOKEN_LIFETIME
    ) -> dict[str, Any]:
        """A token answer as /oauth/v2/accessToken gives it."""
        now = self.clock.now()
        scopes = set(self.members[sub].scopes)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = FakeToken(sub, now + lifetime, scopes)
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_in": int(lifetime.total_seconds()),
            "scope": ",".join(sorted(scopes)),
        }
        if refresh:
            refresh_token = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = (sub, now + REFRESH_LIFETIME)
            answer["refresh_token"] = refresh_token
            answer["refresh_token_expires_in"] = int(REFRESH_LIFETIME.total_seconds())
        return answer

    def credentials(self, sub: str, *, refresh: bool = False) -> dict[str, Any]:
        """What onthedot stores for a member connected just now."""
        answer = self.issue(sub, refresh=refresh)
        now = self.clock.now()
        credentials = {
            "access_token": answer["access_token"],
            "expires_at": (now + dt.timedelta(seconds=answer["expires_in"])).isoformat(),
            "author": self.members[sub].urn,
            "name": self.members[sub].name,
        }
        if refresh:
            credentials["refresh_token"] = answer["refresh_token"]
            credentials["refresh_token_expires_at"] = (now + REFRESH_LIFETIME).isoformat()
        return credentials

    def expire(self, access_token: str) -> None:
        self.tokens[access_token].expires_at = self.clock.now()

    def revoke(self, sub: str) -> None:
        for token in self.tokens.values():
            if token.sub == sub:
                token.revoked = True
        self.refresh_tokens = {k: v for k, v in self.refresh_tokens.items() if v[0] != sub}

    def posts_of(self, sub: str) -> list[FakePost]:
        return [p for p in self.posts if p.author == self.members[sub].urn]

    # --- checks every API call passes -----------------------------------------------------

    def _caller(self, request: Request, *, rest: bool = True) -> FakeMember | Response:
        self.calls.append((request.method, request.url.path))
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or not header[7:]:
            return error_response(401, "Empty oauth2_access_token", code="EMPTY_ACCESS_TOKEN")
        token = self.tokens.get(header[7:])
        if token is None:
            return error_response(
                401, "Invalid access token", code="INVALID_ACCESS_TOKEN", service=65600
            )
        if token.revoked:
            return error_response(
                401,
                "The token used in the request has been revoked by the user",
                code="REVOKED_ACCESS_TOKEN",
                service=65601,
            )
        if token.expires_at <= self.clock.now():
            return error_response(
                401,
                "The token used in the request has expired",
                code="EXPIRED_ACCESS_TOKEN",
                service=65602,
            )
        if rest:
            if not request.headers.get("linkedin-version"):
                return error_response(
                    400,
                    "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                    code="VERSION_MISSING",
                )
            if request.headers.get("x-restli-protocol-version") != "2.0.0":
                return error_response(400, "Rest.li protocol version 2.0.0 is required")
            limit = self.rate_limited.get(token.sub) or self.rate_limited.get("*")
            if limit is not None:
                return error_response(
                    429,
                    f"Resource level throttle {limit} DAY limit for calls to this resource is "
                    "reached.",
                    code="TOO_MANY_REQUESTS",
                    service=101,
                )
        # The member as this token sees them: with the scopes it was granted.
        member = self.members[token.sub]
        return FakeMember(member.sub, member.name, token.scopes)

    def _denied(self, what: str) -> Response:
        return error_response(
            403, f"Not enough permissions to access: {what}", code="ACCESS_DENIED", service=100
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return {}
        return body if isinstance(body, dict) else {}

    def _status(self, media: FakeMedia) -> str:
        if media.ready_at is None:
            return "WAITING_UPLOAD"
        if media.ready_at > self.clock.now():
            return "PROCESSING"
        return "PROCESSING_FAILED" if self.failing_media else "AVAILABLE"
