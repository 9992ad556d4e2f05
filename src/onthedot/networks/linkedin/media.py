"""Uploading images and videos to LinkedIn ahead of the due time, and waiting until LinkedIn
has processed them, so the publish call only names them.

Images: learn.microsoft.com/linkedin/marketing/community-management/shares/images-api
(initializeUpload → uploadUrl and an image URN; PUT the bytes; the image's status goes
WAITING_UPLOAD → PROCESSING → AVAILABLE, or PROCESSING_FAILED).
Videos: learn.microsoft.com/linkedin/marketing/community-management/shares/videos-api
(initializeUpload with the file's size → one upload instruction per byte range; PUT each part
and keep its ETag; finalizeUpload with the ETags in order; then the same statuses).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import httpx

from onthedot.clock import Clock
from onthedot.networks.base import MediaFile, Permanent, Transient
from onthedot.networks.http import json_body
from onthedot.networks.linkedin.client import LinkedInApi, refusal, urn_path

__all__ = ["MediaUploader"]

POLL_EVERY: Final = dt.timedelta(seconds=5)
# How long prepare waits for LinkedIn to process one file before trying again later.
PROCESSING_WAIT: Final = dt.timedelta(minutes=15)


class MediaUploader:
    def __init__(self, api: LinkedInApi, clock: Clock, *, who: str) -> None:
        self._api = api
        self._clock = clock
        self._who = who

    async def upload(self, owner: str, token: str, media: Sequence[MediaFile]) -> list[str]:
        """The URNs of `media`, uploaded and processed, in order."""
        urns: list[str] = []
        for file in media:
            data = await file.read()
            if file.content_type.startswith("video/"):
                urn = await self._video(owner, token, file, data)
                await self._until_available("videos", urn, token, file)
            else:
                urn = await self._image(owner, token, file, data)
                await self._until_available("images", urn, token, file)
            urns.append(urn)
        return urns

    async def _image(self, owner: str, token: str, file: MediaFile, data: bytes) -> str:
        response = await self._api.call(
            "POST",
            "/rest/images",
            token,
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": owner}},
        )
        self._check(response, file, "registering")
        value = _value(response)
        url, urn = value.get("uploadUrl"), value.get("image")
        if not isinstance(url, str) or not isinstance(urn, str):
            raise self._garbled(file)
        self._check(await self._api.put_bytes(url, token, data), file, "uploading")
        return urn

    async def _video(self, owner: str, token: str, file: MediaFile, data: bytes) -> str:
        response = await self._api.call(
            "POST",
            "/rest/videos",
            token,
            params={"action": "initializeUpload"},
            json={
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": len(data),
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
        )
        self._check(response, file, "registering")
        value = _value(response)
        urn, instructions = value.get("video"), value.get("uploadInstructions")
        upload_token = value.get("uploadToken", "")
        if not isinstance(urn, str) or not isinstance(instructions, list) or not instructions:
            raise self._garbled(file)
        etags: list[str] = []
        for part in instructions:
            url = part.get("uploadUrl") if isinstance(part, dict) else None
            first, last = (part.get("firstByte"), part.get("lastByte")) if url else (None, None)
            if not isinstance(url, str) or not isinstance(first, int) or not isinstance(last, int):
                raise self._garbled(file)
            answer = await self._api.put_bytes(url, token, data[first : last + 1])
            self._check(answer, file, "uploading")
            etag = answer.headers.get("etag")
            if not etag:
                raise self._garbled(file)
            etags.append(etag)
        response = await self._api.call(
            "POST",
            "/rest/videos",
            token,
            params={"action": "finalizeUpload"},
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": upload_token if isinstance(upload_token, str) else "",
                    "uploadedPartIds": etags,
                }
            },
        )
        self._check(response, file, "finishing the upload of")
        return urn

    async def _until_available(self, kind: str, urn: str, token: str, file: MediaFile) -> None:
        deadline = self._clock.now() + PROCESSING_WAIT
        while True:
            response = await self._api.call("GET", f"/rest/{kind}/{urn_path(urn)}", token)
            self._check(response, file, "checking")
            status = json_body(response).get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Permanent(
                    f"LinkedIn could not process {file.filename}; check that it is a valid "
                    "file LinkedIn accepts (JPG, PNG or GIF images; MP4 videos of 3 s to 30 min)",
                    code="PROCESSING_FAILED",
                )
            if self._clock.now() >= deadline:
                raise Transient(
                    f"LinkedIn is still processing {file.filename} after "
                    f"{PROCESSING_WAIT.total_seconds() / 60:g} minutes; onthedot tries again",
                    maybe_sent=False,
                )
            await self._clock.sleep_until(self._clock.now() + POLL_EVERY)

    def _check(self, response: httpx.Response, file: MediaFile, doing: str) -> None:
        if response.is_success:
            return
        raise refusal(
            response,
            who=self._who,
            subject=f"the media file {file.filename}",
            action=f"{doing} {file.filename}",
            publishing=False,
            now=self._clock.now(),
        )

    def _garbled(self, file: MediaFile) -> Transient:
        return Transient(
            f"LinkedIn answered the upload of {file.filename} without what onthedot needs "
            "to go on; onthedot uploads it again",
            maybe_sent=False,
        )


def _value(response: httpx.Response) -> dict[str, Any]:
    value = json_body(response).get("value")
    return value if isinstance(value, dict) else {}
