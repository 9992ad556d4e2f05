"""A contract fake of the Threads API (graph.threads.net), written from Meta's documentation:

- developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions: the
  authorization code (with a trailing "#_"), POST /oauth/access_token → a short-lived token.
- .../threads/get-started/long-lived-tokens: GET /access_token?grant_type=th_exchange_token
  (60 days) and GET /refresh_access_token?grant_type=th_refresh_token (only for a token at
  least 24 hours old and not expired).
- .../threads/posts and .../threads/reference/publishing: POST /{user-id}/threads creates a
  container (TEXT, IMAGE, VIDEO, CAROUSEL; is_carousel_item, children, reply_to_id), POST
  /{user-id}/threads_publish?creation_id= publishes it, once.
- .../threads/troubleshooting: container status IN_PROGRESS, FINISHED, ERROR (with
  error_message), EXPIRED (not published within 24 hours), PUBLISHED; GET
  /{user-id}/threads_publishing_limit (250 posts and 1,000 replies per 24 hours).
- .../threads/retrieve-and-discover-posts and .../threads/reply-management: the user's
  threads and replies edges, with since/until and cursor paging.
- .../threads/insights: GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes.

Media processing runs on the injected clock: a container is IN_PROGRESS until
`processing[media_type]` seconds after its creation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onthedot.clock import Clock
from onthedot.sandbox.fakes.meta import (
    GraphFake,
    TokenInfo,
    container_status,
    graph_error,
    insights,
    newest_first,
    no_such_object,
    paged,
    shown,
    timestamp,
    token_answer,
)

__all__ = ["ThreadsFake", "create_app"]

SHORT_LIVED = dt.timedelta(hours=1)
LONG_LIVED = dt.timedelta(days=60)
VERSION = "v1.0"


@dataclass
class Container:
    id: str
    owner: str
    media_type: str
    text: str
    created_at: dt.datetime
    ready_at: dt.datetime
    image_url: str | None = None
    video_url: str | None = None
    children: list[str] = field(default_factory=list)
    reply_to_id: str | None = None
    is_carousel_item: bool = False
    error: str | None = None
    published_id: str | None = None


@dataclass
class ThreadsFake(GraphFake):
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    # Seconds of processing per media type, on the clock.
    processing: dict[str, float] = field(
        default_factory=lambda: {"TEXT": 0, "IMAGE": 0, "VIDEO": 30, "CAROUSEL": 0}
    )
    quota_total: int = 250
    reply_quota_total: int = 1000
    # Texts containing one of these are refused with the given message (code 100).
    rejected: dict[str, str] = field(default_factory=dict)
    # Media URLs containing one of these end in ERROR with the given error_message.
    failing_media: dict[str, str] = field(default_factory=dict)
    insights: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_user(self, user_id: str, username: str, name: str = "") -> str:
        """A Threads user with a long-lived token; returns the token."""
        self.users[user_id] = {"id": user_id, "username": username, "name": name or username}
        return self.issue(user_id, lifetime=LONG_LIVED)

    def published(self, owner: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.posts if owner is None or p["owner"] == owner]

    # --- routing ----------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        path = request.url.path.strip("/")
        params = await self.params(request)
        self.calls.append((request.method, path))
        if path == "oauth/access_token" and request.method == "POST":
            return self.exchange_code(params)
        if path == "access_token":
            return self.long_lived(params)
        if path == "refresh_access_token":
            return self.refresh(params)
        parts = path.split("/")
        if parts[0] != VERSION or len(parts) not in (2, 3):
            return graph_error(
                100, "Unsupported request - method type: get", type="GraphMethodException"
            )
        info = self.authenticate(self.token_of(request, params))
        if isinstance(info, JSONResponse):
            return info
        throttled = self.throttled(info.user_id)
        if throttled is not None:
            return throttled
        node = info.user_id if parts[1] == "me" else parts[1]
        edge = parts[2] if len(parts) == 3 else None
        if edge is None and request.method == "GET":
            return self.read(node, params)
        if node != info.user_id and edge not in ("insights",):
            return no_such_object(request.method, node)
        if edge == "threads" and request.method == "POST":
            return self.create(info, params)
        if edge == "threads_publish" and request.method == "POST":
            return self.publish(info, params)
        if edge in ("threads", "replies") and request.method == "GET":
            return self.list(info, edge, params, str(request.url.path))
        if edge == "threads_publishing_limit":
            return self.limit(info)
        if edge == "insights":
            return self.read_insights(node, params)
        return graph_error(100, "Unsupported request", type="GraphMethodException")

    # --- tokens -----------------------------------------------------------------------------

    def exchange_code(self, params: dict[str, str]) -> Response:
        if params.get("client_id") != self.app_id or params.get("client_secret") != self.app_secret:
            return graph_error(101, "Error validating application. Invalid application ID.")
        user_id = self.codes.pop(params.get("code", ""), None)
        if user_id is None or params.get("grant_type") != "authorization_code":
            return graph_error(100, "Invalid verification code format.", subcode=36008)
        token = self.issue(user_id, lifetime=SHORT_LIVED)
        return JSONResponse({"access_token": token, "user_id": int(user_id)})

    def long_lived(self, params: dict[str, str]) -> Response:
        if params.get("grant_type") != "th_exchange_token":
            return graph_error(100, "Invalid grant_type")
        if params.get("client_secret") != self.app_secret:
            return graph_error(101, "Error validating client secret.")
        info = self.authenticate(params.get("access_token"))
        if isinstance(info, JSONResponse):
            return info
        return token_answer(self.issue(info.user_id, lifetime=LONG_LIVED), LONG_LIVED)

    def refresh(self, params: dict[str, str]) -> Response:
        if params.get("grant_type") != "th_refresh_token":
            return graph_error(100, "Invalid grant_type")
        old = params.get("access_token")
        info = self.authenticate(old)
        if isinstance(info, JSONResponse):
            return info
        if self.clock.now() - info.issued_at < dt.timedelta(hours=24):
            return graph_error(
                190,
                "Error validating access token: the token must be at least 24 hours old "
                "to be refreshed.",
            )
        return token_answer(self.issue(info.user_id, lifetime=LONG_LIVED), LONG_LIVED)

    # --- publishing -------------------------------------------------------------------------

    def create(self, info: TokenInfo, params: dict[str, str]) -> Response:
        media_type = params.get("media_type", "")
        text = params.get("text", "")
        now = self.clock.now()
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return graph_error(100, "The parameter media_type is required.", type="THApiException")
        if media_type == "TEXT" and not text:
            return graph_error(100, "The parameter text is required.", type="THApiException")
        for needle, why in self.rejected.items():
            if needle in text:
                return graph_error(
                    100,
                    "Invalid parameter",
                    user_msg=why,
                    type="THApiException",
                    subcode=4279002,
                )
        url = params.get("image_url") if media_type == "IMAGE" else params.get("video_url")
        if media_type in ("IMAGE", "VIDEO"):
            scheme = urlsplit(url or "").scheme
            if scheme not in ("http", "https"):
                return graph_error(
                    100,
                    f"The parameter {media_type.lower()}_url is required and must be a URL.",
                    type="THApiException",
                )
        children = [c for c in params.get("children", "").split(",") if c]
        if media_type == "CAROUSEL":
            if not 2 <= len(children) <= 20:
                return graph_error(
                    100, "A carousel needs between 2 and 20 children.", type="THApiException"
                )
            for child in children:
                known = self.containers.get(child)
                if known is None or not known.is_carousel_item or known.owner != info.user_id:
                    return graph_error(100, f"Invalid child {child}", type="THApiException")
        reply_to = params.get("reply_to_id")
        if reply_to is not None and not any(p["id"] == reply_to for p in self.posts):
            return graph_error(100, "The reply_to_id does not exist.", type="THApiException")
        error = next(
            (why for needle, why in self.failing_media.items() if url and needle in url), None
        )
        container = Container(
            id=self.new_id(),
            owner=info.user_id,
            media_type=media_type,
            text=text,
            created_at=now,
            ready_at=now + dt.timedelta(seconds=self.processing.get(media_type, 0)),
            image_url=params.get("image_url"),
            video_url=params.get("video_url"),
            children=children,
            reply_to_id=reply_to,
            is_carousel_item=params.get("is_carousel_item") == "true",
            error=error,
        )
        self.containers[container.id] = container
        return JSONResponse({"id": container.id})

    def status(self, container: Container) -> str:
        return container_status(
            self.clock.now(),
            published=container.published_id is not None,
            error=container.error,
            created_at=container.created_at,
            ready_at=container.ready_at,
            children=(self.status(self.containers[c]) for c in container.children),
        )

    def publish(self, info: TokenInfo, params: dict[str, str]) -> Response:
        container = self.containers.get(params.get("creation_id", ""))
        if container is None or container.owner != info.user_id or container.is_carousel_item:
            return graph_error(
                24,
                "The requested resource does not exist",
                subcode=4279009,
                type="THApiException",
                user_msg="Media Not Found",
            )
        state = self.status(container)
        if state == "PUBLISHED":
            return graph_error(100, "The media has already been published", type="THApiException")
        if state == "IN_PROGRESS":
            return graph_error(
                9007,
                "Media ID is not available",
                subcode=4279009,
                type="THApiException",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        if state in ("ERROR", "EXPIRED"):
            return graph_error(
                24, f"The container is {state.lower()}", subcode=4279009, type="THApiException"
            )
        # Threads documents the quota (threads_publishing_limit) but not the error past it;
        # this fake answers as Instagram documents for its own quota (code 9, 2207042).
        used, used_replies = self.usage(info.user_id)
        over = (
            used >= self.quota_total
            if container.reply_to_id is None
            else used_replies >= self.reply_quota_total
        )
        if over:
            return graph_error(
                9,
                "You reached maximum number of posts that is allowed to be published",
                subcode=2207042,
                type="THApiException",
            )
        media_id = self.new_id()
        container.published_id = media_id
        username = self.users.get(info.user_id, {}).get("username", info.user_id)
        self.posts.append(
            {
                "id": media_id,
                "owner": info.user_id,
                "media_product_type": "THREADS",
                "media_type": "TEXT_POST"
                if container.media_type == "TEXT"
                else f"{container.media_type}_ALBUM"
                if container.media_type == "CAROUSEL"
                else container.media_type,
                "text": container.text,
                "timestamp": timestamp(self.clock.now()),
                "created_at": self.clock.now(),
                "permalink": f"https://www.threads.net/@{username}/post/P{media_id}",
                "username": username,
                "is_reply": container.reply_to_id is not None,
                "replied_to": {"id": container.reply_to_id} if container.reply_to_id else None,
                "children": list(container.children),
            }
        )
        return JSONResponse({"id": media_id})

    def usage(self, owner: str) -> tuple[int, int]:
        since = self.clock.now() - dt.timedelta(hours=24)
        mine = [p for p in self.posts if p["owner"] == owner and p["created_at"] > since]
        return (
            sum(1 for p in mine if not p["is_reply"]),
            sum(1 for p in mine if p["is_reply"]),
        )

    def limit(self, info: TokenInfo) -> Response:
        used, used_replies = self.usage(info.user_id)
        return JSONResponse(
            {
                "data": [
                    {
                        "quota_usage": used,
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                        "reply_quota_usage": used_replies,
                        "reply_config": {
                            "quota_total": self.reply_quota_total,
                            "quota_duration": 86400,
                        },
                    }
                ]
            }
        )

    # --- reading ----------------------------------------------------------------------------

    def read(self, node: str, params: dict[str, str]) -> Response:
        fields = [f for f in params.get("fields", "id").split(",") if f]
        if node in self.users:
            return JSONResponse(
                {f: self.users[node].get(f) for f in fields if f in ("id", "username", "name")}
                | {"id": node}
            )
        container = self.containers.get(node)
        if container is not None:
            body: dict[str, Any] = {"id": node}
            if "status" in fields:
                body["status"] = self.status(container)
            if "error_message" in fields and container.error is not None:
                body["error_message"] = container.error
            return JSONResponse(body)
        post = next((p for p in self.posts if p["id"] == node), None)
        if post is None:
            return graph_error(
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist",
                subcode=33,
                type="GraphMethodException",
            )
        return JSONResponse(self.fields(post, fields))

    @staticmethod
    def fields(post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out = shown(post, fields)
        out["id"] = post["id"]
        return {k: v for k, v in out.items() if v is not None}

    def list(self, info: TokenInfo, edge: str, params: dict[str, str], base: str) -> Response:
        fields = [f for f in params.get("fields", "id").split(",") if f]
        chosen = newest_first(
            self.posts,
            params,
            lambda p: p["owner"] == info.user_id and p["is_reply"] == (edge == "replies"),
        )
        return JSONResponse(paged([self.fields(p, fields) for p in chosen], params, base))

    def read_insights(self, node: str, params: dict[str, str]) -> Response:
        if not any(p["id"] == node for p in self.posts):
            return graph_error(100, f"Object with ID '{node}' does not exist", subcode=33)
        return insights(node, self.insights.get(node, {}), params, titled=True)


def create_app(clock: Clock, **options: Any) -> tuple[Starlette, ThreadsFake]:
    fake = ThreadsFake(clock=clock, **options)
    app = Starlette(routes=[Route("/{path:path}", fake.handle, methods=["GET", "POST", "DELETE"])])
    return app, fake
