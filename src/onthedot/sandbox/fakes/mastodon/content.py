"""The fake instance's media and statuses (methods/media, methods/statuses,
methods/accounts#statuses), with the idempotency keys and rate limits that go with them."""

from __future__ import annotations

import html
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from onthedot.sandbox.fakes.mastodon.state import (
    API_LIMIT,
    IDEMPOTENCY_TTL,
    IMAGE_TYPES,
    MAX_ATTACHMENTS,
    MEDIA_LIMIT,
    STATUS_LIMIT,
    VIDEO_TYPES,
    InstanceState,
    Media,
    Status,
    answer,
    iso,
    refuse,
)


class ContentRoutes(InstanceState):
    async def upload(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "write:media")
        if isinstance(token, Response):
            return token
        allowed, headers = self._count(
            token.account_id, [("api", API_LIMIT), ("media", MEDIA_LIMIT)]
        )
        if not allowed:
            return refuse(429, "Too many requests", headers)
        async with request.form() as form:
            file = form.get("file")
            content_type = file.content_type if isinstance(file, UploadFile) else None
            description = form.get("description")
        kind = (content_type or "").split("/")[0]
        if content_type not in IMAGE_TYPES | VIDEO_TYPES:
            return refuse(422, "Validation failed: File content type is invalid, File is invalid")
        now = self.clock.now()
        # 4.0.0: images are processed synchronously (200), video asynchronously (202).
        media = Media(
            self._id(),
            token.account_id,
            kind,
            now if kind == "image" else now + self.processing,
            description if isinstance(description, str) else None,
        )
        self.media[media.id] = media
        return answer(self._media_json(media), 200 if kind == "image" else 202, headers)

    def _media_json(self, media: Media) -> dict[str, Any]:
        ready = media.ready_at <= self.clock.now()
        base = f"https://files.{self.domain}/media_attachments/{media.id}"
        return {
            "id": media.id,
            "type": media.kind,
            "url": f"{base}/original" if ready else None,
            "preview_url": f"{base}/small",
            "remote_url": None,
            "description": media.description,
            "blurhash": None,
        }

    async def get_media(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "write:media")
        if isinstance(token, Response):
            return token
        allowed, headers = self._count(token.account_id, [("api", API_LIMIT)])
        if not allowed:
            return refuse(429, "Too many requests", headers)
        media = self.media.get(request.path_params["id"])
        if media is None or media.account_id != token.account_id:
            return refuse(404, "Record not found", headers)
        if media.ready_at > self.clock.now():
            return Response(b"", 206, headers)
        if self.fail_processing:
            return refuse(422, "Validation failed: File could not be processed", headers)
        return answer(self._media_json(media), 200, headers)

    # --- statuses -----------------------------------------------------------------------------

    async def post_status(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "write:statuses")
        if isinstance(token, Response):
            return token
        params = await self._params(request)
        text = str(params.get("status") or "")
        reply_to = params.get("in_reply_to_id")
        if reply_to and str(reply_to) not in self.statuses:
            # Api::V1::StatusesController#set_thread, before anything is created.
            return refuse(404, "The post you are trying to reply to does not appear to exist.")
        key = request.headers.get("idempotency-key")
        now = self.clock.now()
        if key:
            seen = self._keys.get((token.account_id, key))
            if seen is not None and now - seen[1] < IDEMPOTENCY_TTL:
                return answer(self._status_json(self.statuses[seen[0]]))
        media_ids = [str(m) for m in params.get("media_ids") or []]
        if len(media_ids) > MAX_ATTACHMENTS:
            return refuse(422, f"Cannot attach more than {MAX_ATTACHMENTS} files")
        attached = [self.media.get(m) for m in media_ids]
        missing = [
            m
            for m, media in zip(media_ids, attached, strict=True)
            if media is None or media.account_id != token.account_id or media.status_id
        ]
        if missing:
            return refuse(
                422,
                f"Media with IDs {', '.join(missing)} not found. Possibly "
                "already attached to another post?",
            )
        if any(m is not None and m.ready_at > now for m in attached):
            return refuse(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        if not text.strip() and not media_ids:
            return refuse(422, "Validation failed: Text can't be blank")
        if len(text) > self.max_characters:
            return refuse(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        for needle, reason in self._rejections:
            if needle in text:
                return refuse(422, f"Validation failed: {reason}")
        allowed, headers = self._count(
            token.account_id, [("api", API_LIMIT), ("statuses", STATUS_LIMIT)]
        )
        if not allowed:
            return refuse(429, "Too many requests", headers)
        app = self.apps.get(token.client_id or "")
        status = Status(
            self._id(),
            token.account_id,
            text,
            now,
            str(reply_to) if reply_to else None,
            str(params.get("visibility") or "public"),
            media_ids,
            app.name if app else None,
        )
        self.statuses[status.id] = status
        for media in attached:
            if media is not None:
                media.status_id = status.id
        if status.in_reply_to_id:
            self.statuses[status.in_reply_to_id].replies += 1
        if key:
            self._keys[(token.account_id, key)] = (status.id, now)
        return answer(self._status_json(status), 200, headers)

    def _status_json(self, status: Status) -> dict[str, Any]:
        account = self._account_by_id(status.account_id)
        assert account is not None
        parent = self.statuses.get(status.in_reply_to_id or "")
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in status.text.split("\n\n"))
        return {
            "id": status.id,
            "created_at": iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": parent.account_id if parent else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status.visibility,
            "language": "en",
            "uri": f"https://{self.domain}/users/{account.username}/statuses/{status.id}",
            "url": f"https://{self.domain}/@{account.username}/{status.id}",
            "replies_count": status.replies,
            "reblogs_count": status.reblogs,
            "favourites_count": status.favourites,
            "content": paragraphs,
            "reblog": None,
            "application": {"name": status.application, "website": None}
            if status.application
            else None,
            "account": self._account_json(account),
            "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    async def get_status(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "read:statuses")
        if isinstance(token, Response):
            return token
        status = self.statuses.get(request.path_params["id"])
        if status is None:
            return refuse(404, "Record not found")
        return answer(self._status_json(status))

    async def status_source(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "read:statuses")
        if isinstance(token, Response):
            return token
        status = self.statuses.get(request.path_params["id"])
        if status is None:
            return refuse(404, "Record not found")
        return answer({"id": status.id, "text": status.text, "spoiler_text": ""})

    async def account_statuses(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "read:statuses")
        if isinstance(token, Response):
            return token
        allowed, headers = self._count(token.account_id, [("api", API_LIMIT)])
        if not allowed:
            return refuse(429, "Too many requests", headers)
        account_id = request.path_params["id"]
        if self._account_by_id(account_id) is None:
            return refuse(404, "Record not found")
        q = request.query_params
        limit = min(int(q.get("limit") or 20), 40)  # methods/accounts: default 20, max 40
        found = sorted(
            (s for s in self.statuses.values() if s.account_id == account_id),
            key=lambda s: int(s.id),
            reverse=True,
        )
        if q.get("max_id"):
            found = [s for s in found if int(s.id) < int(q["max_id"])]
        if q.get("since_id"):
            found = [s for s in found if int(s.id) > int(q["since_id"])]
        if q.get("exclude_replies") == "true":
            found = [s for s in found if s.in_reply_to_id is None]
        page = found[:limit]
        if page:
            base = f"https://{self.domain}/api/v1/accounts/{account_id}/statuses"
            headers["Link"] = (
                f'<{base}?max_id={page[-1].id}>; rel="next", <{base}?min_id={page[0].id}>; '
                'rel="prev"'
            )
        return answer([self._status_json(s) for s in page], 200, headers)
