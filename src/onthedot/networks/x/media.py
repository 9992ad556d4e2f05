"""Media uploads to X through the v2 media endpoints, done at preparation time.

The v1.1 endpoints on upload.twitter.com are being retired; these are the v2 ones
(docs.x.com/x-api/media/quickstart/media-upload-chunked and the API reference under
docs.x.com/x-api/media):

- an image goes up in one multipart `POST /2/media/upload` (`media`, `media_category`
  tweet_image) and is ready at once;
- a video or an animated GIF goes up in chunks: `POST /2/media/upload/initialize` (JSON:
  media_type, total_bytes, media_category tweet_video / tweet_gif), then
  `POST /2/media/upload/{id}/append` per chunk (multipart: segment_index, media; at most
  5 MB each), then `POST /2/media/upload/{id}/finalize`. When the finalize answer carries
  `processing_info`, X is still processing: `GET /2/media/upload?command=STATUS&media_id=`
  says pending → in_progress → succeeded | failed, and `check_after_secs` says when to ask
  again. A media id cannot be posted before it succeeded.

The waiting is done on the injected clock, so preparation sleeps and tests advance time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx

from onthedot.clock import Clock
from onthedot.networks.base import MediaFile, Permanent, Transient
from onthedot.networks.http import json_body
from onthedot.networks.x.client import XClient

__all__ = ["Call", "Uploader", "media_category"]

# Under X's 5 MB per APPEND (docs.x.com/x-api/media/quickstart/best-practices).
CHUNK_BYTES: Final = 4 * 1024 * 1024
# A video still processing after this long fails its preparation; the broadcaster retries.
PROCESSING_DEADLINE: Final = dt.timedelta(minutes=10)
DEFAULT_CHECK_AFTER: Final = 5

# An authorised call on the account (refreshing its token once when X says it expired).
Call = Callable[..., Awaitable[httpx.Response]]


def media_category(media: MediaFile) -> str:
    if media.content_type.startswith("video/"):
        return "tweet_video"
    if media.content_type == "image/gif":
        return "tweet_gif"
    return "tweet_image"


def _media_id(response: httpx.Response) -> str | None:
    data = json_body(response).get("data")
    media_id = data.get("id") if isinstance(data, dict) else None
    return media_id if isinstance(media_id, str) and media_id else None


def _processing(response: httpx.Response) -> dict[str, Any] | None:
    data = json_body(response).get("data")
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else None


class Uploader:
    def __init__(self, client: XClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock

    async def upload(self, call: Call, handle: str, media: MediaFile) -> str:
        """Upload one file and wait until X can post it; its media id."""
        content = await media.read()
        category = media_category(media)
        if category == "tweet_image":
            response = await call(
                "POST",
                "/2/media/upload",
                data={"media_category": category, "media_type": media.content_type},
                files={"media": (media.filename, content, media.content_type)},
            )
            return self._id(response, handle, media)
        return await self._chunked(call, handle, media, content, category)

    async def _chunked(
        self, call: Call, handle: str, media: MediaFile, content: bytes, category: str
    ) -> str:
        response = await call(
            "POST",
            "/2/media/upload/initialize",
            json={
                "media_type": media.content_type,
                "total_bytes": len(content),
                "media_category": category,
            },
        )
        media_id = self._id(response, handle, media)
        for index, start in enumerate(range(0, len(content), CHUNK_BYTES)):
            response = await call(
                "POST",
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={
                    "media": (
                        media.filename,
                        content[start : start + CHUNK_BYTES],
                        "application/octet-stream",
                    )
                },
            )
            if not response.is_success:
                raise self._client.refusal(
                    response, handle, subject=media.filename, publishing=False
                )
        response = await call("POST", f"/2/media/upload/{media_id}/finalize")
        self._id(response, handle, media)
        info = _processing(response)
        deadline = self._clock.now() + PROCESSING_DEADLINE
        while info is not None and info.get("state") != "succeeded":
            if info.get("state") == "failed":
                error = info.get("error")
                said = error.get("message") if isinstance(error, dict) else None
                raise Permanent(
                    f"X could not process {media.filename}"
                    + (f": {said}" if isinstance(said, str) else "")
                    + "; check the file is a video X takes (MP4 or MOV, H.264 and AAC)",
                    code="media_processing_failed",
                )
            wait = info.get("check_after_secs")
            seconds = wait if isinstance(wait, int) and wait > 0 else DEFAULT_CHECK_AFTER
            then = self._clock.now() + dt.timedelta(seconds=seconds)
            if then > deadline:
                raise Transient(
                    f"X was still processing {media.filename} after "
                    f"{int(PROCESSING_DEADLINE.total_seconds() // 60)} minutes; onthedot "
                    "tries again",
                    maybe_sent=False,
                )
            await self._clock.sleep_until(then)
            response = await call(
                "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
            )
            self._id(response, handle, media)
            info = _processing(response)
        return media_id

    def _id(self, response: httpx.Response, handle: str, media: MediaFile) -> str:
        if not response.is_success:
            raise self._client.refusal(response, handle, subject=media.filename, publishing=False)
        media_id = _media_id(response)
        if media_id is None:
            raise Transient(
                f"X accepted {media.filename} but gave no media id; onthedot uploads it again",
                status=response.status_code,
                maybe_sent=False,
            )
        return media_id
