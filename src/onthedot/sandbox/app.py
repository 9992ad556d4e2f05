"""The sandbox network: a small, fast, in-memory social network that onthedot publishes to.

It behaves like a real network where onthedot needs it to (bearer tokens, media uploads,
threads, idempotency keys, rate limits, 5xx answers, lost answers) and records every post
request with its arrival time, so tests and benchmarks can count duplicates and lateness.

The post path is the hot one: a spike benchmark sends it tens of thousands of requests within
seconds. It therefore parses with orjson, validates by hand, keeps everything in dicts, and
decides each request without awaiting anything, so concurrent requests cannot interleave
between reading and changing the state.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import math
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from onthedot.clock import Clock, SystemClock
from onthedot.observability.lateness import summary
from onthedot.sandbox.config import SandboxConfig, describe_errors, sample_latency_s

__all__ = ["Sandbox", "create_sandbox_app"]

FLUSH_S: Final = 0.5  # the longest a recorded request waits in memory before reaching the file
FLUSH_LINES: Final = 10_000  # or sooner, when this many are waiting
TIMELINE_MAX: Final = 200  # the page shows the newest posts; older ones are only counted
PAGE_DEFAULT: Final = 20
PAGE_MAX: Final = 100
_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"error": code, "message": message}, status, headers)


def _base36(n: int) -> str:
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
        if n == 0:
            return out


@dataclass(slots=True)
class Post:
    n: int  # the order of creation, never reused (not even after a reset)
    id: str
    account: str
    text: str
    reply_to: str | None
    media_ids: list[str]
    due_at: dt.datetime | None
    created_at: dt.datetime
    idempotency_key: str | None
    ref: str | None
    status: int  # what the creating request was answered: 201, or 502 when the answer was lost

    @property
    def url(self) -> str:
        return f"sandbox://{self.account}/{self.id}"

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "created_at": self.created_at,
            "account": self.account,
        }

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "account": self.account,
            "text": self.text,
            "reply_to": self.reply_to,
            "media_ids": self.media_ids,
            "due_at": self.due_at,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Media:
    id: str
    account: str
    content_type: str
    size: int  # the bytes themselves are not kept: nothing reads them back


class Recorder:
    """Appends each post request to a JSON-lines file, in batches, so writing never slows the
    post path: a line reaches the file within `FLUSH_S` of the request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        with path.open("ab"):  # fail now, not at the first post, if it cannot be written
            pass

    def add(self, record: dict[str, Any]) -> None:
        self._lines.append(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines.clear()
        with self.path.open("ab") as file:
            file.write(data)


class Sandbox:
    """The network's state and its request handlers."""

    def __init__(self, config: SandboxConfig, clock: Clock, record_path: Path | None) -> None:
        self.clock = clock
        self.recorder = Recorder(record_path) if record_path is not None else None
        # Ids carry a per-process prefix, so ids from an earlier run of the sandbox (still in
        # onthedot's database) never name a post of this run.
        self._prefix = _base36(secrets.randbelow(36**3)).rjust(3, "0")
        self._post_n = 0
        self._media_n = 0
        self._seq = 0
        self.epoch = 0
        self._config = config
        self._revoked = frozenset(config.revoked_tokens)
        self._reseed()
        self._clear()

    # --- state ------------------------------------------------------------------------------

    @property
    def config(self) -> SandboxConfig:
        return self._config

    @config.setter
    def config(self, config: SandboxConfig) -> None:
        reseed = config.seed != self._config.seed
        self._config = config
        self._revoked = frozenset(config.revoked_tokens)
        if reseed:
            self._reseed()

    def _reseed(self) -> None:
        seed = self._config.seed
        # Two streams: the outcome of each request does not depend on the latency settings.
        self._rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self._latency_rng = random.Random(None if seed is None else seed + 1)  # noqa: S311

    def _clear(self) -> None:
        self.posts: dict[str, Post] = {}
        self._by_account: dict[str, list[Post]] = {}
        self._by_key: dict[tuple[str, str], Post] = {}
        self._timeline: list[Post] = []
        self.media: dict[str, Media] = {}
        self.records: list[dict[str, Any]] = []
        self._windows: dict[str, list[int]] = {}  # account -> [window index, requests in it]
        self._created = 0
        self._errors = 0  # requests answered with an error (a lost answer too)
        self._refs: dict[str, int] = {}  # ref -> how many posts were created for it
        self._duplicates = 0
        self._early = 0
        self._lateness: list[float] = []

    def reset(self) -> None:
        """Forget posts, media and records; sequence numbers and ids keep counting up."""
        self._clear()
        self.epoch += 1
        self._reseed()

    async def aclose(self) -> None:
        """Write the records still buffered. The sandbox's lifespan calls this at shutdown; an
        app that mounts a recording sandbox calls it from its own (mounts get no lifespan)."""
        if self.recorder is not None:
            self.recorder.flush()

    def _new_post_id(self) -> str:
        self._post_n += 1
        return f"{self._prefix}{_base36(self._post_n)}"

    # --- the network's API ------------------------------------------------------------------

    def _auth_error(self, request: Request, headers: dict[str, str]) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _error(
                401,
                "unauthorized",
                "this request needs an 'Authorization: Bearer <token>' header",
                {**headers, "WWW-Authenticate": "Bearer"},
            )
        if token in self._revoked:
            return _error(
                401,
                "token_revoked",
                "this token was revoked; the account must be connected again",
                {**headers, "WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return None

    async def _wait(self) -> None:
        latency = self._config.latency
        if latency.kind != "none":
            await asyncio.sleep(sample_latency_s(latency, self._latency_rng))

    async def upload_media(self, request: Request) -> Response:
        account = request.path_params["account"]
        config = self._config
        refused = self._auth_error(request, {})
        body = b"" if refused is not None else await request.body()
        if refused is None:
            if len(body) > config.max_media_bytes:
                refused = _error(
                    413,
                    "media_too_large",
                    f"the file is {len(body)} bytes; this sandbox takes at most "
                    f"{config.max_media_bytes} bytes",
                )
            elif not body:
                refused = _error(422, "empty_media", "the upload is empty; send the file's bytes")
        await self._wait()
        if refused is not None:
            return refused
        self._media_n += 1
        media = Media(
            id=f"{self._prefix}m{_base36(self._media_n)}",
            account=account,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            size=len(body),
        )
        self.media[media.id] = media
        body_out = {"id": media.id, "size": media.size, "content_type": media.content_type}
        return _json(body_out, 201)

    async def create_post(self, request: Request) -> Response:
        arrived = self.clock.now()
        account: str = request.path_params["account"]
        raw = await request.body()
        # From here to the record nothing awaits: each request is decided atomically.
        key = request.headers.get("idempotency-key") or None
        ref = request.headers.get("x-onthedot-ref") or None
        record: dict[str, Any] = {
            "seq": 0,
            "arrived_at": arrived,
            "account": account,
            "status": 0,
            "idempotency_key": key,
            "ref": ref,
            "due_at": None,
            "post_id": None,
            "created": False,
        }
        response = self._decide_post(request, account, arrived, raw, key, ref, record)
        self._seq += 1
        record["seq"] = self._seq
        record["status"] = response.status_code
        self.records.append(record)
        if response.status_code >= 400:
            self._errors += 1
        if self.recorder is not None:
            self.recorder.add(record)
        await self._wait()
        return response

    def _decide_post(
        self,
        request: Request,
        account: str,
        arrived: dt.datetime,
        raw: bytes,
        key: str | None,
        ref: str | None,
        record: dict[str, Any],
    ) -> Response:
        config = self._config
        draw = self._rng.random()  # one draw per request, whatever happens to it
        headers: dict[str, str] = {}

        limit = config.rate_limit
        if limit is not None:
            now_s = arrived.timestamp()
            index = math.floor(now_s / limit.window_s)
            window = self._windows.get(account)
            if window is None or window[0] != index:
                window = self._windows[account] = [index, 0]
            reset = str(max(1, math.ceil((index + 1) * limit.window_s - now_s)))
            if window[1] >= limit.requests:
                headers = {
                    "RateLimit-Limit": str(limit.requests),
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": reset,
                    "Retry-After": reset,
                }
                return _error(
                    429,
                    "rate_limited",
                    f"@{account} may make {limit.requests} post requests every "
                    f"{limit.window_s:g} s; try again in {reset} s",
                    headers,
                )
            window[1] += 1
            headers = {
                "RateLimit-Limit": str(limit.requests),
                "RateLimit-Remaining": str(limit.requests - window[1]),
                "RateLimit-Reset": reset,
            }

        refused = self._auth_error(request, headers)
        if refused is not None:
            return refused

        if draw < config.throttle_rate:
            return _error(
                429,
                "throttled",
                "too many requests right now (simulated); try again in a second",
                {**headers, "Retry-After": "1"},
            )
        if draw < config.throttle_rate + config.error_rate:
            return _error(
                503,
                "unavailable",
                "the sandbox is briefly unavailable (simulated); nothing was created",
                headers,
            )
        ghost = draw < config.throttle_rate + config.error_rate + config.ghost_rate

        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(422, "invalid_json", "the body is not JSON", headers)
        if not isinstance(body, dict):
            return _error(422, "invalid_request", "the body must be a JSON object", headers)
        text = body.get("text", "")
        reply_to = body.get("reply_to")
        media_ids = body.get("media_ids") or []
        due_raw = body.get("due_at")
        if not isinstance(text, str):
            return _error(422, "invalid_request", "text must be a string", headers)
        if reply_to is not None and not isinstance(reply_to, str):
            return _error(422, "invalid_request", "reply_to must be a post id or null", headers)
        if not isinstance(media_ids, list) or not all(isinstance(m, str) for m in media_ids):
            return _error(422, "invalid_request", "media_ids must be a list of media ids", headers)
        due_at: dt.datetime | None = None
        if due_raw is not None:
            try:
                due_at = dt.datetime.fromisoformat(due_raw)
            except (TypeError, ValueError):
                due_at = None
            if due_at is None or due_at.tzinfo is None:
                return _error(
                    422,
                    "invalid_request",
                    "due_at must be an ISO 8601 time with a UTC offset, or null",
                    headers,
                )
            due_at = due_at.astimezone(dt.UTC)
            record["due_at"] = due_at

        if len(text) > config.max_chars:
            return _error(
                422,
                "text_too_long",
                f"the text is {len(text)} characters long; the sandbox takes at most "
                f"{config.max_chars}",
                headers,
            )
        if not text and not media_ids:
            return _error(422, "empty_post", "a post needs text or media", headers)
        if reply_to is not None and reply_to not in self.posts:
            return _error(
                422, "unknown_reply_to", f"there is no post {reply_to!r} to reply to", headers
            )
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.account != account:
                return _error(
                    422,
                    "unknown_media",
                    f"@{account} has uploaded no media {media_id!r}; upload it first",
                    headers,
                )

        if key is not None and config.idempotency == "key":
            first = self._by_key.get((account, key))
            if first is not None:
                record["post_id"] = first.id
                return _json(first.answer(), 200, headers)

        post = Post(
            n=0,
            id=self._new_post_id(),
            account=account,
            text=text,
            reply_to=reply_to,
            media_ids=media_ids,
            due_at=due_at,
            created_at=arrived,
            idempotency_key=key,
            ref=ref,
            status=502 if ghost else 201,
        )
        post.n = self._post_n
        self._store(post)
        record["post_id"] = post.id
        record["created"] = True
        if ghost:
            return _error(502, "bad_gateway", "the gateway lost the answer (simulated)", headers)
        return _json(post.answer(), 201, headers)

    def _store(self, post: Post) -> None:
        self.posts[post.id] = post
        self._by_account.setdefault(post.account, []).append(post)
        if post.idempotency_key is not None:
            # Kept in every mode, so switching to "key" at run time finds earlier posts too.
            self._by_key.setdefault((post.account, post.idempotency_key), post)
        self._timeline.append(post)
        self._created += 1
        first = True
        if post.ref is not None:
            seen = self._refs.get(post.ref, 0)
            self._refs[post.ref] = seen + 1
            first = seen == 0
            if seen == 1:
                self._duplicates += 1
        if post.due_at is not None:
            if post.created_at < post.due_at:
                self._early += 1
            if first:
                self._lateness.append((post.created_at - post.due_at).total_seconds())

    async def list_posts(self, request: Request) -> Response:
        account = request.path_params["account"]
        mode = self._config.idempotency
        params = request.query_params
        key = params.get("idempotency_key")
        await self._wait()
        if mode == "blind":
            return _error(
                501,
                "lookup_unsupported",
                "this network cannot list or look up posts (idempotency mode 'blind')",
            )
        if key is not None:
            if mode != "key":
                return _error(
                    501,
                    "lookup_unsupported",
                    "this network keeps no idempotency keys (idempotency mode 'none'); "
                    "page through the account's recent posts instead",
                )
            post = self._by_key.get((account, key))
            return _json({"posts": [post.public()] if post is not None else []})

        try:
            limit = int(params.get("limit", PAGE_DEFAULT))
        except ValueError:
            limit = 0
        if not 1 <= limit <= PAGE_MAX:
            return _error(422, "invalid_request", f"limit must be a whole number 1–{PAGE_MAX}")
        posts = self._by_account.get(account, [])
        end = len(posts)
        before = params.get("before")
        if before is not None:
            anchor = self.posts.get(before)
            if anchor is None or anchor.account != account:
                return _error(422, "unknown_post", f"@{account} has no post {before!r}")
            end = bisect.bisect_left(posts, anchor.n, key=lambda p: p.n)
        page = posts[max(0, end - limit) : end]
        return _json({"posts": [p.public() for p in reversed(page)]})

    async def get_post(self, request: Request) -> Response:
        post = self.posts.get(request.path_params["post_id"])
        await self._wait()
        if post is None:
            return _error(404, "not_found", "there is no such post")
        return _json(post.public())

    # --- for tests, benchmarks and people watching ------------------------------------------

    async def list_requests(self, request: Request) -> Response:
        params = request.query_params
        try:
            after = int(params.get("after", 0))
            limit = int(params["limit"]) if "limit" in params else None
        except ValueError:
            return _error(422, "invalid_request", "after and limit must be whole numbers")
        start = bisect.bisect_right(self.records, after, key=lambda r: int(r["seq"]))
        chosen = self.records[start:] if limit is None else self.records[start : start + limit]
        following = chosen[-1]["seq"] if chosen else max(after, 0)
        return _json({"requests": chosen, "next": following})

    def stats(self) -> dict[str, Any]:
        lateness = summary(self._lateness)
        return {
            "requests": len(self.records),
            "created": self._created,
            "distinct_refs": len(self._refs),
            "duplicates": self._duplicates,
            "early": self._early,
            "lateness_s": lateness,
        }

    async def get_stats(self, _request: Request) -> Response:
        return _json(self.stats())

    async def get_config(self, _request: Request) -> Response:
        return _json(self._config.model_dump(mode="json"))

    async def put_config(self, request: Request) -> Response:
        try:
            changes = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(422, "invalid_config", "the body is not JSON")
        if not isinstance(changes, dict):
            return _error(422, "invalid_config", "send a JSON object of config fields")
        try:
            config = self._config.merged(changes)
        except ValidationError as exc:
            return _json(
                {
                    "error": "invalid_config",
                    "message": describe_errors(exc),
                    "errors": [
                        {
                            "loc": [str(p) for p in e["loc"]],
                            "msg": e["msg"].removeprefix("Value error, "),
                        }
                        for e in exc.errors()
                    ],
                },
                422,
            )
        self.config = config
        if "seed" in changes:  # asking for a seed again restarts its stream
            self._reseed()
        return _json(config.model_dump(mode="json"))

    async def post_reset(self, _request: Request) -> Response:
        self.reset()
        return _json({"reset": True, "epoch": self.epoch})

    async def get_timeline(self, request: Request) -> Response:
        try:
            after = int(request.query_params.get("after", 0))
        except ValueError:
            return _error(422, "invalid_request", "after must be a whole number")
        start = bisect.bisect_right(self._timeline, after, key=lambda p: p.n)
        chosen = self._timeline[max(start, len(self._timeline) - TIMELINE_MAX) :]
        posts = [
            {
                "seq": p.n,
                "id": p.id,
                "account": p.account,
                "text": p.text,
                "reply_to": p.reply_to,
                "media": len(p.media_ids),
                "status": p.status,
                "arrived_at": p.created_at,
                "due_at": p.due_at,
                "lateness_ms": (
                    None if p.due_at is None else (p.created_at - p.due_at).total_seconds() * 1000
                ),
            }
            for p in chosen
        ]
        counts = {
            "requests": len(self.records),
            "created": self._created,
            "errors": self._errors,
            "duplicates": self._duplicates,
            "early": self._early,
        }
        following = chosen[-1].n if chosen else after
        body = {"posts": posts, "next": following, "epoch": self.epoch, "counts": counts}
        return _json(body)

    async def page(self, request: Request) -> Response:
        return HTMLResponse(timeline_page(request.scope.get("root_path", "")))


async def _not_found(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


def create_sandbox_app(
    config: SandboxConfig | None = None,
    *,
    clock: Clock | None = None,
    record_path: Path | None = None,
) -> Starlette:
    """The sandbox as an ASGI app; its `Sandbox` is at `app.state.sandbox`."""
    sandbox = Sandbox(config or SandboxConfig(), clock or SystemClock(), record_path)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await sandbox.aclose()

    routes = [
        # The hot route first: the router tries routes in order.
        Route("/api/v1/accounts/{account}/posts", sandbox.create_post, methods=["POST"]),
        Route("/", sandbox.page, methods=["GET"]),
        Route("/api/v1/accounts/{account}/media", sandbox.upload_media, methods=["POST"]),
        Route("/api/v1/accounts/{account}/posts", sandbox.list_posts, methods=["GET"]),
        Route("/api/v1/posts/{post_id}", sandbox.get_post, methods=["GET"]),
        Route("/api/v1/requests", sandbox.list_requests, methods=["GET"]),
        Route("/api/v1/stats", sandbox.get_stats, methods=["GET"]),
        Route("/api/v1/config", sandbox.get_config, methods=["GET"]),
        Route("/api/v1/config", sandbox.put_config, methods=["PUT"]),
        Route("/api/v1/reset", sandbox.post_reset, methods=["POST"]),
        Route("/api/v1/timeline", sandbox.get_timeline, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _not_found}
    )
    app.state.sandbox = sandbox
    return app


def timeline_page(base_path: str) -> str:
    """The page, told the path it is mounted under ("" at the root, "/sandbox" in onthedot)."""
    # JSON is a valid JS literal; escaping "<" keeps "</script>" out of the document.
    literal = orjson.dumps(base_path.rstrip("/")).decode().replace("<", "\\u003c")
    return _PAGE.replace("__BASE__", literal)


# The timeline page: one self-contained document (no external assets), so it works offline and
# under any mount point. It polls the timeline next to it every second, newest post on top.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>onthedot sandbox</title>
<style>
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b26b00; --bad: #c62828;
  --muted: #6b7280; --line: rgba(127, 127, 127, .22); }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { position: sticky; top: 0; background: Canvas; border-bottom: 1px solid var(--line);
  padding: 12px 20px; display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
h1 { margin: 0; font-size: 17px; }
h1 span { color: var(--muted); font-weight: 400; }
#counts { display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--muted);
  font-variant-numeric: tabular-nums; font-size: 14px; }
#counts b { color: CanvasText; }
main { max-width: 760px; margin: 0 auto; padding: 4px 20px 40px; }
.post { display: grid; grid-template-columns: 1fr auto; gap: 2px 12px; padding: 10px 0;
  border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
.meta b { color: CanvasText; font-weight: 600; }
.text { grid-column: 1 / -1; white-space: pre-wrap; overflow-wrap: anywhere; }
.late { font-size: 13px; font-weight: 600; font-variant-numeric: tabular-nums;
  text-align: right; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
.tag { font-size: 11px; border: 1px solid currentColor; border-radius: 4px;
  padding: 0 4px; margin-left: 6px; }
.empty { color: var(--muted); text-align: center; padding: 48px 0; }
</style>
</head>
<body>
<header>
  <h1>onthedot <span>sandbox</span></h1>
  <div id="counts"></div>
</header>
<main id="posts">
  <p class="empty" id="empty">No posts yet. Each one appears here the moment it lands.</p>
</main>
<script>
"use strict";
const BASE = __BASE__;
const MAX_ROWS = 500;
const list = document.getElementById("posts");
const empty = document.getElementById("empty");
let after = 0;
let epoch = null;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function lateness(ms) {
  if (ms === null) return ["", "no due time"];
  if (ms < 0) return ["bad", Math.round(-ms).toLocaleString() + " ms early"];
  const label = "+" + Math.round(ms).toLocaleString() + " ms";
  if (ms < 1000) return ["ok", label];
  if (ms < 60000) return ["warn", label];
  return ["bad", label];
}

function row(post) {
  const node = el("article", "post");
  const meta = el("div", "meta");
  meta.append(el("b", "", "@" + post.account), " · ",
    new Date(post.arrived_at).toISOString().slice(11, 23) + " UTC");
  if (post.reply_to) meta.append(" · reply to " + post.reply_to);
  if (post.media) meta.append(" · " + post.media + " media");
  if (post.status !== 201) meta.append(el("span", "tag bad", "answer lost"));
  const [cls, label] = lateness(post.lateness_ms);
  node.append(meta, el("div", "late " + cls, label), el("div", "text", post.text));
  return node;
}

function showCounts(c) {
  const box = document.getElementById("counts");
  box.replaceChildren();
  for (const [label, value] of [["posts", c.created], ["requests", c.requests],
      ["error answers", c.errors], ["duplicates", c.duplicates], ["early", c.early]]) {
    const item = el("span");
    item.append(el("b", "", value.toLocaleString()), " " + label);
    box.append(item);
  }
}

async function poll() {
  try {
    const answer = await fetch(BASE + "/api/v1/timeline?after=" + after, {cache: "no-store"});
    if (answer.ok) {
      const data = await answer.json();
      if (epoch !== null && data.epoch !== epoch) {
        list.replaceChildren(empty);
        empty.hidden = false;
      }
      epoch = data.epoch;
      for (const post of data.posts) {
        list.prepend(row(post));
        empty.hidden = true;
      }
      while (list.children.length > MAX_ROWS + 1) list.lastElementChild.remove();
      after = data.next;
      showCounts(data.counts);
    }
  } catch (err) {
    // The sandbox restarted or the network dropped: try again on the next tick.
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
"""
