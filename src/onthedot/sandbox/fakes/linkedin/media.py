"""The fake's Images and Videos APIs: initializeUpload, the uploads, finalizeUpload, status
(learn.microsoft.com/linkedin/marketing/community-management/shares/images-api, .../videos-api)."""

from __future__ import annotations

import datetime as dt
import secrets

from starlette.requests import Request
from starlette.responses import Response

from onthedot.sandbox.fakes.linkedin.state import (
    VIDEO_MIN_BYTES,
    FakeMedia,
    FakeState,
    error_response,
    json_response,
    millis,
)


class MediaEndpoints(FakeState):
    async def images_action(self, request: Request) -> Response:
        return await self._initialize(request, "image")

    async def videos_action(self, request: Request) -> Response:
        if request.query_params.get("action") == "finalizeUpload":
            return await self._finalize(request)
        return await self._initialize(request, "video")

    async def _initialize(self, request: Request, kind: str) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        if request.query_params.get("action") != "initializeUpload":
            return error_response(400, "Unsupported action")
        init = (await self._body(request)).get("initializeUploadRequest") or {}
        if init.get("owner") != member.urn:
            return self._denied(f"{kind}s.initializeUpload for owner {init.get('owner')}")
        if "w_member_social" not in member.scopes:
            return self._denied(f"{kind}s.initializeUpload")
        media_id = f"C4{next(self._ids)}"
        media = FakeMedia(f"urn:li:{kind}:{media_id}", member.urn, kind)
        base = str(request.base_url).rstrip("/")
        expires = millis(self.clock.now() + dt.timedelta(days=1))
        if kind == "image":
            media.parts = [(0, -1)]
            self.media[media_id] = media
            value = {
                "uploadUrlExpiresAt": expires,
                "uploadUrl": f"{base}/dms-uploads/{media_id}/0",
                "image": media.urn,
            }
            return json_response({"value": value})
        size = init.get("fileSizeBytes")
        if not isinstance(size, int) or size < VIDEO_MIN_BYTES:
            return error_response(400, "fileSizeBytes must be between 75 KB and 500 MB")
        media.size = size
        media.parts = [
            (first, min(first + self.part_size, size) - 1)
            for first in range(0, size, self.part_size)
        ]
        media.upload_token = secrets.token_urlsafe(8) if len(media.parts) > 1 else ""
        self.media[media_id] = media
        instructions = [
            {"uploadUrl": f"{base}/dms-uploads/{media_id}/{i}", "firstByte": a, "lastByte": b}
            for i, (a, b) in enumerate(media.parts)
        ]
        value = {
            "uploadUrlsExpireAt": expires,
            "video": media.urn,
            "uploadInstructions": instructions,
            "uploadToken": media.upload_token,
        }
        return json_response({"value": value})

    async def upload(self, request: Request) -> Response:
        media = self.media.get(request.path_params["media_id"])
        part = request.path_params["part"]
        if media is None or part >= len(media.parts):
            return error_response(404, "Upload URL not found")
        data = await request.body()
        first, last = media.parts[part]
        if media.kind == "video" and len(data) != last - first + 1:
            return error_response(400, f"Part {part} must be bytes {first} to {last}")
        media.received[part] = data
        if media.kind == "image":
            media.ready_at = self.clock.now() + self.image_processing
            return Response(status_code=201)
        etag = f"/ambry-video/signedId/{media.urn}-{part}"
        if len(media.etags) <= part:
            media.etags.extend([""] * (part + 1 - len(media.etags)))
        media.etags[part] = etag
        return Response(status_code=200, headers={"ETag": etag})

    async def _finalize(self, request: Request) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        final = (await self._body(request)).get("finalizeUploadRequest") or {}
        urn = final.get("video")
        media = self.media.get(str(urn).rsplit(":", 1)[-1])
        if media is None or media.owner != member.urn:
            return error_response(404, f"Video {urn} not found")
        if final.get("uploadToken", "") != media.upload_token:
            return error_response(400, "Upload token does not match")
        if final.get("uploadedPartIds") != media.etags or len(media.etags) != len(media.parts):
            return error_response(400, "uploadedPartIds do not match the uploaded parts")
        media.ready_at = self.clock.now() + self.video_processing
        return Response(status_code=200)

    async def get_media(self, request: Request) -> Response:
        member = self._caller(request)
        if isinstance(member, Response):
            return member
        urn = request.path_params["urn"]
        media = self.media.get(urn.rsplit(":", 1)[-1])
        if media is None or media.urn != urn:
            return error_response(404, f"{urn} not found")
        return json_response({"id": media.urn, "owner": media.owner, "status": self._status(media)})
