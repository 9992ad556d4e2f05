"""A contract fake of Instagram's content publishing (Instagram API with Facebook Login, on
graph.facebook.com), served next to the Facebook fake that owns the tokens and Pages.

Written from developers.facebook.com/docs/instagram-platform/content-publishing and the
reference pages it links: POST /{ig-user-id}/media creates a container (image_url; media_type
REELS with video_url; is_carousel_item children with media_type VIDEO for videos; media_type
CAROUSEL with up to 10 children; caption); GET /{container-id}?fields=status_code gives
IN_PROGRESS, FINISHED, ERROR, EXPIRED (not published within 24 hours) or PUBLISHED; POST
/{ig-user-id}/media_publish?creation_id= publishes; GET /{ig-user-id}/content_publishing_limit
reports the 24-hour quota; GET /{ig-user-id}/media lists the account's media, newest first;
IG Media has like_count, comments_count, permalink and /insights. Errors follow
.../instagram-graph-api/reference/error-codes (9007/2207027 not ready, 9/2207042 over the
publishing limit, 100/2207010 caption too long).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onthedot.clock import Clock
from onthedot.sandbox.fakes.facebook import FacebookFake
from onthedot.sandbox.fakes.meta import (
    TokenInfo,
    container_status,
    graph_error,
    insights,
    newest_first,
    paged,
    shown,
    timestamp,
)

__all__ = ["InstagramFake", "create_app"]


@dataclass
class InstagramFake:
    clock: Clock
    facebook: FacebookFake
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    processing: dict[str, float] = field(
        default_factory=lambda: {"IMAGE": 0, "VIDEO": 45, "REELS": 45, "CAROUSEL": 0}
    )
    quota_total: int = 50
    rejected: dict[str, str] = field(default_factory=dict)
    failing_media: dict[str, str] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_account(self, user_id: str, ig_id: str, username: str, page_id: str) -> str:
        """An Instagram professional account linked to a Page of `user_id`; the Page token."""
        self.accounts[ig_id] = {"id": ig_id, "username": username, "page_id": page_id}
        return self.facebook.add_page(
            user_id,
            page_id,
            f"{username}'s Page",
            instagram={"id": ig_id, "username": username},
        )

    def published(self, ig_id: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.media if ig_id is None or m["owner"] == ig_id]

    async def answer(
        self, method: str, node: str, edge: str | None, info: TokenInfo, params: dict[str, str]
    ) -> Response | None:
        if node in self.accounts:
            if self.accounts[node]["page_id"] != info.page_id:
                return graph_error(
                    10,
                    "(#10) Application does not have permission for this action",
                    type="OAuthException",
                )
            if edge == "media" and method == "POST":
                return self.create(node, params)
            if edge == "media_publish" and method == "POST":
                return self.publish(node, params)
            if edge == "media" and method == "GET":
                return self.list(node, params)
            if edge == "content_publishing_limit":
                return self.limit(node)
            return None
        if node in self.containers and edge is None:
            return self.container(node, params)
        post = next((m for m in self.media if m["id"] == node), None)
        if post is not None:
            if edge is None:
                return self.read(post, params)
            return insights(post["id"], self.counts.get(post["id"], {}), params)
        return None

    # --- publishing -------------------------------------------------------------------------

    def create(self, owner: str, params: dict[str, str]) -> Response:
        caption = params.get("caption", "")
        if len(caption) > 2200:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2207010,
                user_msg="The caption is longer than 2,200 characters.",
            )
        if caption.count("#") > 30:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2207010,
                user_msg="The caption has more than 30 hashtags.",
            )
        for needle, why in self.rejected.items():
            if needle in caption:
                return graph_error(100, "Invalid parameter", user_msg=why, subcode=2207051)
        media_type = params.get("media_type") or "IMAGE"
        url = params.get("image_url") if media_type == "IMAGE" else params.get("video_url")
        children = [c for c in params.get("children", "").split(",") if c]
        if media_type == "CAROUSEL":
            if not 2 <= len(children) <= 10:
                return graph_error(
                    100,
                    "Invalid parameter",
                    subcode=2207010,
                    user_msg="A carousel takes 2 to 10 items.",
                )
            if any(
                c not in self.containers or not self.containers[c]["carousel_item"]
                for c in children
            ):
                return graph_error(100, "Invalid parameter", user_msg="Unknown carousel item.")
        elif media_type in ("IMAGE", "VIDEO", "REELS"):
            if not url or not url.startswith(("http://", "https://")):
                return graph_error(
                    9004, "Only photo or video can be accepted as media type.", subcode=2207052
                )
            if media_type == "VIDEO" and params.get("is_carousel_item") != "true":
                return graph_error(
                    100, "The VIDEO media type is no longer supported; use REELS", subcode=2207023
                )
        else:
            return graph_error(100, f"Invalid media_type {media_type}")
        now = self.clock.now()
        container_id = self.facebook.new_id()
        self.containers[container_id] = {
            "owner": owner,
            "media_type": media_type,
            "caption": caption,
            "url": url,
            "children": children,
            "carousel_item": params.get("is_carousel_item") == "true",
            "created_at": now,
            "ready_at": now + dt.timedelta(seconds=self.processing.get(media_type, 0)),
            "error": next((w for n, w in self.failing_media.items() if url and n in url), None),
            "published": None,
        }
        return JSONResponse({"id": container_id})

    def status(self, container: dict[str, Any]) -> str:
        return container_status(
            self.clock.now(),
            published=container["published"] is not None,
            error=container["error"],
            created_at=container["created_at"],
            ready_at=container["ready_at"],
            children=(self.status(self.containers[c]) for c in container["children"]),
        )

    def container(self, node: str, params: dict[str, str]) -> Response:
        container = self.containers[node]
        state = self.status(container)
        body: dict[str, Any] = {"id": node, "status_code": state}
        if "status" in params.get("fields", ""):
            body["status"] = f"Error: {container['error']}" if state == "ERROR" else state.title()
        return JSONResponse(body)

    def used(self, owner: str) -> int:
        since = self.clock.now() - dt.timedelta(hours=24)
        return sum(1 for m in self.media if m["owner"] == owner and m["created_at"] > since)

    def publish(self, owner: str, params: dict[str, str]) -> Response:
        container_id = params.get("creation_id", "")
        container = self.containers.get(container_id)
        if container is None or container["owner"] != owner or container["carousel_item"]:
            return graph_error(
                24,
                "The requested resource does not exist",
                subcode=2207006,
                user_msg="The media was not found.",
            )
        state = self.status(container)
        if state == "IN_PROGRESS":
            return graph_error(
                9007,
                "Media ID is not available",
                subcode=2207027,
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        if state == "PUBLISHED":
            return graph_error(100, "The media has already been published.")
        if state in ("ERROR", "EXPIRED"):
            return graph_error(
                -2, "The media you are trying to access has expired.", subcode=2207020
            )
        if self.used(owner) >= self.quota_total:
            return graph_error(
                9,
                "Application request limit reached",
                subcode=2207042,
                user_msg="You reached maximum number of posts that is allowed "
                "to be published by Content Publishing API.",
            )
        media_id = self.facebook.new_id()
        container["published"] = media_id
        now = self.clock.now()
        kind = {"REELS": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}.get(
            container["media_type"], container["media_type"]
        )
        self.media.append(
            {
                "id": media_id,
                "owner": owner,
                "caption": container["caption"],
                "media_type": kind,
                "media_product_type": "REELS" if container["media_type"] == "REELS" else "FEED",
                "timestamp": timestamp(now),
                "created_at": now,
                "permalink": f"https://www.instagram.com/p/C{media_id}/",
                "children": container["children"],
            }
        )
        return JSONResponse({"id": media_id})

    def limit(self, owner: str) -> Response:
        return JSONResponse(
            {
                "data": [
                    {
                        "quota_usage": self.used(owner),
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                    }
                ]
            }
        )

    # --- reading ----------------------------------------------------------------------------

    def list(self, owner: str, params: dict[str, str]) -> Response:
        fields = params.get("fields", "id").split(",")
        chosen = newest_first(self.media, params, lambda m: m["owner"] == owner)
        return JSONResponse(
            paged([shown(m, fields) for m in chosen], params, f"/v23.0/{owner}/media")
        )

    def read(self, post: dict[str, Any], params: dict[str, str]) -> Response:
        counts = self.counts.get(post["id"], {})
        body: dict[str, Any] = {"id": post["id"]}
        for name in params.get("fields", "").split(","):
            if name in ("like_count", "comments_count"):
                body[name] = counts.get(name, 0)
            elif name in post and name not in ("owner", "created_at"):
                body[name] = post[name]
        return JSONResponse(body)


def create_app(clock: Clock, **options: Any) -> tuple[Starlette, InstagramFake]:
    """graph.facebook.com with Instagram's endpoints; the Facebook fake is `fake.facebook`."""
    facebook = FacebookFake(clock=clock)
    fake = InstagramFake(clock=clock, facebook=facebook, **options)
    facebook.delegate = fake
    app = Starlette(
        routes=[Route("/{path:path}", facebook.handle, methods=["GET", "POST", "DELETE"])]
    )
    return app, fake
