"""A contract fake of the Graph API at graph.facebook.com, for Facebook Pages and (with
`sandbox.fakes.instagram`) Instagram, written from Meta's documentation:

- developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow and
  .../access-tokens/get-long-lived: the code exchange, fb_exchange_token (60-day user token)
  and GET /me/accounts (Page tokens that do not expire).
- developers.facebook.com/docs/pages-api/posts and .../graph-api/reference/page/feed: POST
  /{page-id}/feed (message, link, attached_media[n]={"media_fbid": …}) → {"id":
  "{page-id}_{post-id}"}; GET /{page-id}/published_posts with since/until and cursors.
- .../graph-api/reference/page/photos: POST /{page-id}/photos (source, published=false) →
  an unpublished photo to attach to a post.
- .../video-api/guides/publishing: resumable upload on POST /{page-id}/videos with
  upload_phase=start (file_size) → upload_session_id, video_id, start/end offsets; transfer
  (video_file_chunk) → the next offsets; finish (description) → {"success": true}.
- .../graph-api/reference/post: reactions.summary(total_count), comments.summary, shares;
  .../insights: post_clicks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onthedot.clock import Clock
from onthedot.sandbox.fakes.meta import (
    GraphFake,
    TokenInfo,
    graph_error,
    insights,
    newest_first,
    no_such_object,
    paged,
    shown,
    timestamp,
    token_answer,
)

__all__ = ["FacebookFake", "create_app"]

VERSION = "v23.0"
SHORT_LIVED = dt.timedelta(hours=2)
LONG_LIVED = dt.timedelta(days=60)
CHUNK = 1024


@dataclass
class FacebookFake(GraphFake):
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Which pages each user manages.
    manages: dict[str, list[str]] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    engagement: dict[str, dict[str, int]] = field(default_factory=dict)
    # Other fakes (Instagram) answer some paths first; None means "not mine".
    delegate: Any = None

    def add_user(self, user_id: str, name: str) -> None:
        self.users[user_id] = {"id": user_id, "name": name}
        self.manages.setdefault(user_id, [])

    def add_page(self, user_id: str, page_id: str, name: str, **extra: Any) -> str:
        """A Page `user_id` manages; returns its (never-expiring) Page token."""
        token = self.issue(user_id, lifetime=None, kind="page", page_id=page_id)
        self.pages[page_id] = {"id": page_id, "name": name, "token": token, **extra}
        self.manages.setdefault(user_id, []).append(page_id)
        return token

    def published(self, page_id: str | None = None) -> list[dict[str, Any]]:
        return [p for p in self.posts if page_id is None or p["page_id"] == page_id]

    # --- routing ----------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        path = request.url.path.strip("/")
        params = await self.params(request)
        files = self.files(request)
        self.calls.append((request.method, path))
        parts = path.split("/")
        if parts[0] != VERSION or len(parts) not in (2, 3):
            return graph_error(100, "Unknown path components", type="OAuthException")
        if path == f"{VERSION}/oauth/access_token":
            return self.oauth(params)
        info = self.authenticate(self.token_of(request, params))
        if isinstance(info, JSONResponse):
            return info
        node = parts[1]
        edge = parts[2] if len(parts) == 3 else None
        throttled = self.throttled(info.page_id or info.user_id)
        if throttled is not None:
            return throttled
        if node == "me" and edge == "accounts":
            return self.accounts(info, params, request.url.path)
        if self.delegate is not None:
            answer = await self.delegate.answer(request.method, node, edge, info, params)
            if isinstance(answer, Response):
                return answer
        if node in self.pages:
            if info.page_id != node:
                return graph_error(
                    200,
                    "(#200) The user hasn't authorized the application to perform this action",
                    type="OAuthException",
                )
            if edge == "feed" and request.method == "POST":
                return self.feed(node, params)
            if edge == "photos" and request.method == "POST":
                return self.photo(node, params, files)
            if edge == "videos" and request.method == "POST":
                return self.video(node, params, files)
            if edge in ("published_posts", "feed") and request.method == "GET":
                return self.list(node, params, request.url.path)
        if edge is None and request.method == "GET":
            return self.read(node, params)
        if edge == "insights":
            return insights(node, self.engagement.get(node, {}), params)
        return no_such_object(request.method, node)

    # --- tokens -----------------------------------------------------------------------------

    def oauth(self, params: dict[str, str]) -> Response:
        if params.get("client_id") != self.app_id or params.get("client_secret") != self.app_secret:
            return graph_error(101, "Error validating application. Invalid application ID.")
        if params.get("grant_type") == "fb_exchange_token":
            info = self.authenticate(params.get("fb_exchange_token"))
            if isinstance(info, JSONResponse):
                return info
            return token_answer(self.issue(info.user_id, lifetime=LONG_LIVED), LONG_LIVED)
        user_id = self.codes.pop(params.get("code", ""), None)
        if user_id is None:
            return graph_error(
                100,
                "This authorization code has been used.",
                subcode=36009,
            )
        return token_answer(self.issue(user_id, lifetime=SHORT_LIVED), SHORT_LIVED)

    def accounts(self, info: TokenInfo, params: dict[str, str], base: str) -> Response:
        fields = params.get("fields", "id,name,access_token")
        pages = []
        for page_id in self.manages.get(info.user_id, []):
            page = self.pages[page_id]
            # A Page token read with a long-lived user token does not expire.
            entry: dict[str, Any] = {"id": page_id, "name": page["name"]}
            if "access_token" in fields:
                entry["access_token"] = page["token"]
            if "instagram_business_account" in fields and page.get("instagram"):
                entry["instagram_business_account"] = page["instagram"]
            pages.append(entry)
        return JSONResponse(paged(pages, params, base))

    # --- publishing -------------------------------------------------------------------------

    def refused(self, text: str) -> Response | None:
        for needle, why in self.rejected.items():
            if needle in text:
                return graph_error(
                    368,
                    "The action attempted has been deemed abusive or is otherwise disallowed",
                    user_msg=why,
                )
        return None

    def feed(self, page_id: str, params: dict[str, str]) -> Response:
        message = params.get("message", "")
        attached = []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            media = orjson.loads(params[key])
            photo = self.photos.get(str(media.get("media_fbid")))
            if photo is None or photo["page_id"] != page_id or photo["used"]:
                return graph_error(100, "(#100) Invalid media_fbid", type="OAuthException")
            attached.append(media["media_fbid"])
        if not message and not attached and not params.get("link"):
            return graph_error(100, "(#100) The post is empty.")
        refused = self.refused(message)
        if refused is not None:
            return refused
        for photo_id in attached:
            self.photos[photo_id]["used"] = True
        return JSONResponse({"id": self.add_post(page_id, message, photos=attached)})

    def add_post(self, page_id: str, message: str, **extra: Any) -> str:
        post_id = f"{page_id}_{self.new_id()}"
        now = self.clock.now()
        self.posts.append(
            {
                "id": post_id,
                "page_id": page_id,
                "message": message,
                "created_time": timestamp(now),
                "created_at": now,
                "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_id.split('_')[1]}",
                **extra,
            }
        )
        return post_id

    def photo(self, page_id: str, params: dict[str, str], files: dict[str, bytes]) -> Response:
        if "source" not in files and "url" not in params:
            return graph_error(324, "(#324) Requires upload file")
        if params.get("published") != "false":
            return graph_error(100, "this fake only takes unpublished photos for posts")
        photo_id = self.new_id()
        self.photos[photo_id] = {
            "page_id": page_id,
            "size": len(files.get("source", b"")),
            "used": False,
        }
        return JSONResponse({"id": photo_id})

    def video(self, page_id: str, params: dict[str, str], files: dict[str, bytes]) -> Response:
        phase = params.get("upload_phase")
        if phase == "start":
            size = int(params.get("file_size") or 0)
            if size <= 0:
                return graph_error(100, "(#100) file_size is required")
            video_id = self.new_id()
            session = self.new_id()
            self.videos[video_id] = {
                "page_id": page_id,
                "size": size,
                "session": session,
                "received": b"",
                "done": False,
            }
            return JSONResponse(
                {
                    "video_id": video_id,
                    "upload_session_id": session,
                    "start_offset": "0",
                    "end_offset": str(min(size, CHUNK)),
                }
            )
        found = [
            (k, v)
            for k, v in self.videos.items()
            if v["session"] == params.get("upload_session_id")
        ]
        if not found:
            return graph_error(
                6001, "There was a problem uploading your video file.", subcode=1363030
            )
        video_id, video = found[0]
        if phase == "transfer":
            chunk = files.get("video_file_chunk", b"")
            if int(params.get("start_offset") or -1) != len(video["received"]):
                return graph_error(6001, "Upload offsets do not match.", subcode=1363037)
            video["received"] += chunk
            got = len(video["received"])
            return JSONResponse(
                {"start_offset": str(got), "end_offset": str(min(video["size"], got + CHUNK))}
            )
        if phase == "finish":
            if len(video["received"]) != video["size"]:
                return graph_error(6001, "The video file is incomplete.", subcode=1363019)
            message = params.get("description", "")
            refused = self.refused(message)
            if refused is not None:
                return refused
            video["done"] = True
            self.add_post(page_id, message, video_id=video_id)
            return JSONResponse({"success": True})
        return graph_error(100, "(#100) upload_phase must be start, transfer or finish")

    # --- reading ----------------------------------------------------------------------------

    def list(self, page_id: str, params: dict[str, str], base: str) -> Response:
        fields = params.get("fields", "id").split(",")
        chosen = newest_first(self.posts, params, lambda p: p["page_id"] == page_id)
        return JSONResponse(paged([shown(p, fields) for p in chosen], params, base))

    def read(self, node: str, params: dict[str, str]) -> Response:
        post = next((p for p in self.posts if p["id"] == node), None)
        if post is None:
            return graph_error(
                100,
                f"Object with ID '{node}' does not exist",
                subcode=33,
                type="GraphMethodException",
            )
        counts = self.engagement.get(node, {})
        body: dict[str, Any] = {"id": node}
        fields = params.get("fields", "")
        if "reactions" in fields:
            body["reactions"] = {"data": [], "summary": {"total_count": counts.get("reactions", 0)}}
        if "comments" in fields:
            body["comments"] = {"data": [], "summary": {"total_count": counts.get("comments", 0)}}
        if "shares" in fields and counts.get("shares"):
            body["shares"] = {"count": counts["shares"]}  # absent when never shared
        if "permalink_url" in fields:
            body["permalink_url"] = post["permalink_url"]
        return JSONResponse(body)


def create_app(clock: Clock, **options: Any) -> tuple[Starlette, FacebookFake]:
    fake = FacebookFake(clock=clock, **options)
    app = Starlette(routes=[Route("/{path:path}", fake.handle, methods=["GET", "POST", "DELETE"])])
    return app, fake
