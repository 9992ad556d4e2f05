"""The fake's Posts API (create, find by author) and Social Metadata API
(learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api,
.../multiimage-post-api, .../social-metadata-api)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from onthedot.sandbox.fakes.linkedin.state import (
    MAX_COMMENTARY,
    FakeMember,
    FakePost,
    FakeState,
    error_response,
    json_response,
    millis,
)


class PostEndpoints(FakeState):
    async def create_post(self, request: Request) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        body = await self._body(request)
        author = body.get("author")
        if author != member.urn:
            return self._denied(f"posts.CREATE as {author}")
        if "w_member_social" not in member.scopes:
            return self._denied("posts.CREATE")
        text = body.get("commentary")
        if not isinstance(text, str) or body.get("lifecycleState") != "PUBLISHED":
            return error_response(
                400, "commentary and lifecycleState are required", code="INVALID_INPUT"
            )
        if len(text) > MAX_COMMENTARY:
            return error_response(
                422, "commentary is longer than 3000 characters", code="INVALID_INPUT"
            )
        for fragment, (status, message) in self.rejected.items():
            if fragment in text:
                return error_response(status, message)
        content = body.get("content")
        refused = self._check_content(content, member)
        if refused is not None:
            return refused
        for post in self.posts:
            if post.author == author and post.commentary == text and post.content == content:
                body = {
                    "errorDetailType": "com.linkedin.common.error.BadRequest",
                    "message": f"Content is a duplicate of {post.urn}",
                    "errorDetails": {
                        "inputErrors": [
                            {"description": "Duplicate post is detected", "code": "DUPLICATE_POST"}
                        ]
                    },
                    "status": 422,
                }
                return json_response(body, 422)
        video = isinstance(content, dict) and "video" in str(content.get("media", {}).get("id"))
        urn = f"urn:li:{'ugcPost' if video else 'share'}:{next(self._ids)}"
        self.posts.append(FakePost(urn, author, text, content, self.clock.now()))
        return Response(status_code=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    def _check_content(self, content: Any, member: FakeMember) -> Response | None:
        if content is None:
            return None
        ids: list[Any] = []
        if isinstance(content, dict) and isinstance(content.get("media"), dict):
            ids = [content["media"].get("id")]
        elif isinstance(content, dict) and isinstance(content.get("multiImage"), dict):
            images = content["multiImage"].get("images") or []
            ids = [i.get("id") for i in images if isinstance(i, dict)]
            if not 2 <= len(ids) <= 20 or any(":image:" not in str(i) for i in ids):
                return error_response(400, "multiImage takes 2 to 20 images", code="INVALID_INPUT")
        else:
            return error_response(400, "unsupported content", code="INVALID_INPUT")
        for urn in ids:
            media = self.media.get(str(urn).rsplit(":", 1)[-1])
            if media is None or media.owner != member.urn:
                return error_response(400, f"{urn} does not exist", code="INVALID_INPUT")
            if self._status(media) != "AVAILABLE":
                return error_response(400, f"{urn} is not AVAILABLE", code="INVALID_INPUT")
        return None

    async def find_posts(self, request: Request) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        q = request.query_params
        if q.get("q") != "author":
            return error_response(400, "Unsupported finder")
        if q.get("author") != member.urn or "r_member_social" not in member.scopes:
            return self._denied("posts.FINDER-author")
        count, start = int(q.get("count", "10")), int(q.get("start", "0"))
        posts = sorted(
            (p for p in self.posts if p.author == member.urn),
            key=lambda p: p.created_at,
            reverse=True,
        )
        elements = [
            {
                "id": p.urn,
                "author": p.author,
                "commentary": p.commentary,
                "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED",
                "createdAt": millis(p.created_at),
                "publishedAt": millis(p.created_at),
                "lastModifiedAt": millis(p.created_at),
                **({"content": p.content} if p.content else {}),
            }
            for p in posts[start : start + count]
        ]
        paging = {"start": start, "count": count, "links": [], "total": len(posts)}
        return json_response({"elements": elements, "paging": paging})

    async def social_metadata(self, request: Request) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        if "r_member_social" not in member.scopes:
            return self._denied("socialMetadata.GET")
        urn = request.path_params["urn"]
        post = next((p for p in self.posts if p.urn == urn), None)
        if post is None:
            return error_response(404, f"{urn} not found")
        reactions = {k: {"reactionType": k, "count": n} for k, n in post.reactions.items()}
        return json_response(
            {
                "entity": urn,
                "reactionSummaries": reactions,
                "commentSummary": {"count": post.comments, "topLevelCount": post.comments},
                "commentsState": "OPEN",
            }
        )
