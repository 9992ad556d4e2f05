"""What the Meta contract fakes share: Graph API error bodies, usage headers, access tokens.

Written from developers.facebook.com/docs/graph-api/guides/error-handling (the error body) and
developers.facebook.com/docs/graph-api/overview/rate-limiting (X-App-Usage, X-Page-Usage and
X-Business-Use-Case-Usage, whose `estimated_time_to_regain_access` is in minutes).
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onthedot.clock import Clock

__all__ = [
    "GraphFake",
    "Throttle",
    "TokenInfo",
    "container_status",
    "graph_error",
    "insights",
    "newest_first",
    "no_such_object",
    "paged",
    "shown",
    "timestamp",
    "token_answer",
]

# What a fake keeps about a post for itself, never shown.
PRIVATE = ("owner", "created_at")
CONTAINER_LIFETIME = dt.timedelta(hours=24)


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    type: str = "OAuthException",
    status: int = 400,
    user_msg: str | None = None,
    is_transient: bool = False,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": type,
        "code": code,
        "is_transient": is_transient,
        "fbtrace_id": "A" + secrets.token_hex(5),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    return JSONResponse({"error": error}, status_code=status, headers=dict(headers or {}))


def no_such_object(method: str, node: str) -> JSONResponse:
    return graph_error(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot "
        "be loaded due to missing permissions, or does not support this operation",
        subcode=33,
        type="GraphMethodException",
    )


def token_answer(token: str, lifetime: dt.timedelta) -> JSONResponse:
    return JSONResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": int(lifetime.total_seconds())}
    )


@dataclass
class TokenInfo:
    user_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool = False
    kind: str = "user"  # "user" or "page"
    page_id: str | None = None


@dataclass
class Throttle:
    code: int
    until: dt.datetime
    # Where the fake says when it lifts: "buc" (X-Business-Use-Case-Usage), "page"
    # (X-Page-Usage) or "app" (X-App-Usage, which gives no time).
    header: str = "buc"
    subcode: int | None = None


@dataclass
class GraphFake:
    """Tokens, throttles and ids, the same for each Meta fake."""

    clock: Clock
    app_id: str = "app-1"
    app_secret: str = "app-secret"  # noqa: S105 - the fake's own
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(17890001))

    def new_id(self) -> str:
        return str(next(self._ids))

    def issue(
        self,
        user_id: str,
        *,
        lifetime: dt.timedelta | None,
        kind: str = "user",
        page_id: str | None = None,
    ) -> str:
        token = f"{kind}-" + secrets.token_urlsafe(12)
        now = self.clock.now()
        self.tokens[token] = TokenInfo(
            user_id, now, now + lifetime if lifetime else None, kind=kind, page_id=page_id
        )
        return token

    def grant_code(self, user_id: str) -> str:
        code = "code-" + secrets.token_urlsafe(8)
        self.codes[code] = user_id
        return code

    # --- knobs ------------------------------------------------------------------------------

    def expire(self, token: str) -> None:
        self.tokens[token].expires_at = self.clock.now() - dt.timedelta(seconds=1)

    def revoke(self, token: str) -> None:
        self.tokens[token].revoked = True

    def throttle(
        self,
        account_id: str,
        *,
        code: int = 17,
        minutes: float = 10,
        header: str = "buc",
        subcode: int | None = None,
    ) -> None:
        self.throttles[account_id] = Throttle(
            code, self.clock.now() + dt.timedelta(minutes=minutes), header, subcode
        )

    # --- requests ---------------------------------------------------------------------------

    @staticmethod
    async def params(request: Request) -> dict[str, str]:
        """The query string and a form or JSON body, merged: Graph takes parameters in any."""
        values = dict(request.query_params)
        if request.method in ("POST", "DELETE"):
            kind = request.headers.get("content-type", "")
            if kind.startswith("application/json"):
                body = orjson.loads(await request.body() or b"{}")
                values.update(
                    {
                        k: v if isinstance(v, str) else orjson.dumps(v).decode()
                        for k, v in body.items()
                    }
                )
            elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                files: dict[str, bytes] = {}
                async with request.form() as form:
                    for key, value in form.items():
                        if isinstance(value, str):
                            values[key] = value
                        else:
                            files[key] = await value.read()
                request.state.files = files
        return values

    @staticmethod
    def files(request: Request) -> dict[str, bytes]:
        """The files of a multipart body, once `params` has read it."""
        files = getattr(request.state, "files", None)
        return files if isinstance(files, dict) else {}

    @staticmethod
    def token_of(request: Request, params: Mapping[str, str]) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith(("bearer ", "oauth ")):
            return auth.split(" ", 1)[1].strip()
        return params.get("access_token")

    def authenticate(self, token: str | None) -> TokenInfo | JSONResponse:
        info = self.tokens.get(token or "")
        if token is None:
            return graph_error(104, "An access token is required to request this resource.")
        if info is None:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if info.revoked:
            return graph_error(
                190,
                "Error validating access token: The user has not authorized application.",
                subcode=458,
            )
        if info.expires_at is not None and info.expires_at <= self.clock.now():
            return graph_error(
                190,
                "Error validating access token: Session has expired.",
                subcode=463,
            )
        return info

    def throttled(self, account_id: str) -> JSONResponse | None:
        throttle = self.throttles.get(account_id)
        now = self.clock.now()
        if throttle is None or throttle.until <= now:
            return None
        minutes = max(1, round((throttle.until - now).total_seconds() / 60))
        usage = {"call_count": 100, "total_cputime": 30, "total_time": 40}
        if throttle.header == "buc":
            headers = {
                "X-Business-Use-Case-Usage": orjson.dumps(
                    {
                        account_id: [
                            {"type": "pages", **usage, "estimated_time_to_regain_access": minutes}
                        ]
                    }
                ).decode()
            }
        elif throttle.header == "page":
            headers = {
                "X-Page-Usage": orjson.dumps(
                    {**usage, "estimated_time_to_regain_access": minutes}
                ).decode()
            }
        else:
            headers = {"X-App-Usage": orjson.dumps(usage).decode()}
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
            613: "Calls to this api have exceeded the rate limit.",
        }
        return graph_error(
            throttle.code,
            messages.get(throttle.code, "There have been too many calls for this account."),
            subcode=throttle.subcode,
            headers=headers,
        )


def timestamp(instant: dt.datetime) -> str:
    """Meta's way of writing an instant: 2026-11-26T08:00:00+0000."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def paged(items: list[dict[str, Any]], params: Mapping[str, str], base: str) -> dict[str, Any]:
    """One page of an edge with cursor paging (the cursor is the offset, base64 in Meta's)."""
    limit = min(int(params.get("limit") or 25), 100)
    start = int(params.get("after") or 0)
    page = items[start : start + limit]
    body: dict[str, Any] = {"data": page}
    if page:
        cursors = {"before": str(start), "after": str(start + len(page))}
        body["paging"] = {"cursors": cursors}
        if start + limit < len(items):
            body["paging"]["next"] = f"{base}?after={start + len(page)}&limit={limit}"
    return body


def shown(post: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The asked-for fields a post has, without what the fake keeps for itself."""
    return {f: post[f] for f in fields if f in post and f not in PRIVATE}


def newest_first(
    posts: Iterable[dict[str, Any]],
    params: Mapping[str, str],
    mine: Callable[[dict[str, Any]], bool],
) -> list[dict[str, Any]]:
    """An edge's posts, newest first, made between `since` and `until` where they are given."""
    since, until = params.get("since"), params.get("until")
    return [
        p
        for p in reversed(list(posts))
        if mine(p)
        and (since is None or p["created_at"].timestamp() >= float(since))
        and (until is None or p["created_at"].timestamp() <= float(until))
    ]


def insights(
    node: str, counts: Mapping[str, int], params: Mapping[str, str], *, titled: bool = False
) -> Response:
    """GET /{id}/insights?metric=…: each metric's lifetime value (0 where none is set)."""
    data = [
        {
            "name": metric,
            "period": "lifetime",
            "values": [{"value": counts.get(metric, 0)}],
            **({"title": metric.title()} if titled else {}),
            "id": f"{node}/insights/{metric}/lifetime",
        }
        for metric in params.get("metric", "").split(",")
        if metric
    ]
    return JSONResponse({"data": data})


def container_status(
    now: dt.datetime,
    *,
    published: bool,
    error: str | None,
    created_at: dt.datetime,
    ready_at: dt.datetime,
    children: Iterable[str],
) -> str:
    """A Threads or Instagram container's status; `children` are the children's statuses,
    asked for only when the container itself is ready."""
    if published:
        return "PUBLISHED"
    if error is not None:
        return "ERROR"
    if now - created_at >= CONTAINER_LIFETIME:
        return "EXPIRED"
    if now < ready_at or any(state == "IN_PROGRESS" for state in children):
        return "IN_PROGRESS"
    return "FINISHED"
