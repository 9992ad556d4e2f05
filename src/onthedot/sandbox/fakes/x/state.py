"""The X fake's state: accounts, tokens, posts, media, rate-limit windows, and the knobs
tests script it with. The routes that answer over HTTP are in `oauth`, `posts` and `media`."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onthedot.clock import Clock

ALL_SCOPES: Final = frozenset(
    {"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}
)
WINDOW: Final = dt.timedelta(minutes=15)
DAY: Final = dt.timedelta(hours=24)
# Per user and 15-minute window, from https://docs.x.com/x-api/fundamentals/rate-limits;
# knobs, since X may change them per plan.
DEFAULT_LIMITS: Final = {
    "tweets.create": 100,
    "tweets.lookup": 900,
    "users.tweets": 900,
    "users.me": 75,
    "media.upload": 500,
    "media.status": 1000,
    "media.chunked": 1875,
}
# POST /2/tweets per app (same page).
APP_DAILY_POSTS: Final = 10_000


@dataclass
class User:
    id: str
    username: str
    name: str
    suspended: bool = False


@dataclass
class Token:
    user_id: str
    scopes: frozenset[str]
    expires_at: dt.datetime | None
    revoked: bool = False


@dataclass
class Media:
    id: str
    owner: str
    media_type: str
    category: str
    total_bytes: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    finalized_at: dt.datetime | None = None
    processing: bool = False
    failure: str | None = None


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: dt.datetime
    reply_to: str | None
    media_ids: list[str]
    likes: int = 0
    retweets: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int = 0


@dataclass
class Code:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: frozenset[str]


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "type": type_, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


def invalid(message: str) -> JSONResponse:
    # docs.x.com/x-api/fundamentals/response-codes-and-errors: an invalid request is a 400
    # problem with the parameter errors listed.
    return JSONResponse(
        {
            "errors": [{"message": message, "parameters": {}}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
        status_code=400,
    )


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class XFake:
    def __init__(
        self,
        clock: Clock,
        *,
        client_id: str = "onthedot-client",
        client_secret: str | None = None,
        access_ttl: dt.timedelta = dt.timedelta(hours=2),
        processing_time: dt.timedelta = dt.timedelta(seconds=30),
        check_after_secs: int = 5,
        limits: dict[str, int] | None = None,
        user_daily_cap: int | None = None,
        app_daily_cap: int | None = APP_DAILY_POSTS,
    ) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self.processing_time = processing_time
        self.check_after_secs = check_after_secs
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.user_daily_cap = user_daily_cap
        self.app_daily_cap = app_daily_cap
        self.users: dict[str, User] = {}
        self.access: dict[str, Token] = {}
        self.refresh: dict[str, Token] = {}
        self.codes: dict[str, Code] = {}
        self.media: dict[str, Media] = {}
        self.tweets: list[Tweet] = []
        # Knobs.
        self.consenting_user: str | None = None
        self.deny_consent = False
        self.processing_failure: str | None = None
        self.rejections: list[tuple[Callable[[str], bool], int, str]] = []
        self.forced_limits: dict[str, dt.datetime] = {}
        self.calls: list[tuple[str, str]] = []
        self._windows: dict[tuple[str, str], tuple[int, dt.datetime]] = {}
        self._days: dict[str, tuple[int, dt.datetime]] = {}
        self._ids = itertools.count(1_860_000_000_000_000_001)

    # --- knobs ------------------------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_user(self, username: str, name: str | None = None) -> User:
        user = User(self.next_id(), username, name or username.title())
        self.users[user.id] = user
        self.consenting_user = self.consenting_user or user.id
        return user

    def issue(
        self, user: User, scopes: frozenset[str] = ALL_SCOPES
    ) -> tuple[str, str | None, dt.datetime]:
        """A fresh access token (and refresh token, with offline.access) for `user`."""
        access = secrets.token_urlsafe(24)
        expires = self.clock.now() + self.access_ttl
        self.access[access] = Token(user.id, scopes, expires)
        refresh = None
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(24)
            self.refresh[refresh] = Token(user.id, scopes, None)
        return access, refresh, expires

    def expire(self, access_token: str) -> None:
        self.access[access_token].expires_at = self.clock.now() - dt.timedelta(seconds=1)

    def revoke_user(self, user: User) -> None:
        """The user revoked onthedot's access in their X settings."""
        for token in [*self.access.values(), *self.refresh.values()]:
            if token.user_id == user.id:
                token.revoked = True

    def limit(self, user: User, until: dt.datetime) -> None:
        """Exhaust `user`'s 15-minute window on every endpoint until `until`."""
        self.forced_limits[user.id] = until

    def reject(self, when: Callable[[str], bool], detail: str, status: int = 403) -> None:
        self.rejections.append((when, status, detail))

    def posts_by(self, user: User) -> list[Tweet]:
        return [t for t in self.tweets if t.author_id == user.id]

    # --- plumbing ---------------------------------------------------------------------------

    def bearer(self, request: Request) -> Token | None:
        header = request.headers.get("authorization", "")
        token = self.access.get(header.removeprefix("Bearer ").strip())
        now = self.clock.now()
        if token is None or token.revoked:
            return None
        if token.expires_at is not None and token.expires_at <= now:
            return None
        return token

    def window(self, user_id: str, key: str) -> tuple[dict[str, str], bool]:
        """Count one call on the user's 15-minute window: its headers, and whether it is over."""
        now = self.clock.now()
        count, reset = self._windows.get((user_id, key), (0, now + WINDOW))
        if reset <= now:
            count, reset = 0, now + WINDOW
        forced = self.forced_limits.get(user_id)
        limit = self.limits[key]
        if forced is not None and forced > now:
            count, reset = limit, forced
        over = count >= limit
        if not over:
            count += 1
            self._windows[(user_id, key)] = (count, reset)
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - count)),
            "x-rate-limit-reset": str(int(reset.timestamp())),
        }
        return headers, over

    def day(self, key: str, cap: int | None, prefix: str) -> tuple[dict[str, str], bool]:
        if cap is None:
            return {}, False
        now = self.clock.now()
        count, reset = self._days.get(key, (0, now + DAY))
        if reset <= now:
            count, reset = 0, now + DAY
        over = count >= cap
        if not over:
            count += 1
            self._days[key] = (count, reset)
        return {
            f"{prefix}-limit": str(cap),
            f"{prefix}-remaining": str(max(0, cap - count)),
            f"{prefix}-reset": str(int(reset.timestamp())),
        }, over

    def authorised(
        self, request: Request, key: str
    ) -> tuple[Token | None, dict[str, str], Response | None]:
        self.calls.append((request.method, request.url.path))
        token = self.bearer(request)
        if token is None:
            return None, {}, problem(401, "Unauthorized", "Unauthorized")
        headers, over = self.window(token.user_id, key)
        if over:
            response = problem(429, "Too Many Requests", "Too Many Requests")
            response.headers.update(headers)
            return token, headers, response
        return token, headers, None

    def media_state(self, media: Media) -> str:
        if media.finalized_at is None:
            return "pending"
        if not media.processing:
            return "succeeded"
        elapsed = self.clock.now() - media.finalized_at
        if elapsed < self.processing_time / 3:
            return "pending"
        if elapsed < self.processing_time:
            return "in_progress"
        return "failed" if media.failure else "succeeded"

    def media_ready(self, media: Media) -> bool:
        return self.media_state(media) == "succeeded"
