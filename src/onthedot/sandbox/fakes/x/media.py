"""The fake's v2 media upload: one-shot images, chunked video and GIFs, processing states.
https://docs.x.com/x-api/media/quickstart/media-upload-chunked"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onthedot.sandbox.fakes.x.state import DAY, Media, Token, XFake, invalid, problem


def processing_info(fake: XFake, media: Media) -> dict[str, Any]:
    state = fake.media_state(media)
    info: dict[str, Any] = {"state": state}
    if state in ("pending", "in_progress"):
        info["check_after_secs"] = fake.check_after_secs
    if state == "failed":
        info["error"] = {"code": 1, "name": "InvalidMedia", "message": media.failure}
    return info


def media_body(fake: XFake, media: Media, *, processing: bool) -> dict[str, Any]:
    prefix = "7" if media.media_type.startswith("video/") else "3"
    data: dict[str, Any] = {
        "id": media.id,
        "media_key": f"{prefix}_{media.id}",
        "size": media.total_bytes,
        "expires_after_secs": 86400,
    }
    if processing:
        data["processing_info"] = processing_info(fake, media)
    return {"data": data}


async def upload(fake: XFake, request: Request) -> Response:
    """The one-shot upload, for images."""
    token, headers, refused = fake.authorised(request, "media.upload")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    async with request.form() as form:
        upload = form.get("media")
        if upload is None or isinstance(upload, str):
            return invalid("The `media` field is required.")
        content = await upload.read()
        media_type = str(form.get("media_type") or upload.content_type or "")
        category = str(form.get("media_category") or "tweet_image")
    media = Media(
        fake.next_id(),
        token.user_id,
        media_type,
        category,
        len(content),
        {0: content},
        finalized_at=fake.clock.now(),
    )
    fake.media[media.id] = media
    return JSONResponse(media_body(fake, media, processing=False), headers=headers)


async def initialize(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "media.chunked")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    body = await request.json()
    if not body.get("media_type") or not isinstance(body.get("total_bytes"), int):
        return invalid("media_type and total_bytes are required.")
    media = Media(
        fake.next_id(),
        token.user_id,
        body["media_type"],
        body.get("media_category") or "tweet_image",
        body["total_bytes"],
    )
    fake.media[media.id] = media
    data = media_body(fake, media, processing=False)["data"]
    del data["size"]
    return JSONResponse({"data": data}, headers=headers)


def own(fake: XFake, token: Token, media_id: str) -> Media | None:
    media = fake.media.get(media_id)
    return media if media is not None and media.owner == token.user_id else None


async def append(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "media.chunked")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    media = own(fake, token, request.path_params["id"])
    if media is None or media.finalized_at is not None:
        return invalid("The media id is invalid.")
    async with request.form() as form:
        chunk = form.get("media")
        if chunk is None or isinstance(chunk, str):
            return invalid("The `media` field is required.")
        media.chunks[int(str(form.get("segment_index") or 0))] = await chunk.read()
    expires = int((fake.clock.now() + DAY).timestamp())
    return JSONResponse({"data": {"expires_at": expires}}, headers=headers)


async def finalize(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "media.chunked")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    media = own(fake, token, request.path_params["id"])
    if media is None:
        return invalid("The media id is invalid.")
    received = sum(len(c) for c in media.chunks.values())
    if received != media.total_bytes:
        return invalid(
            f"File size mismatch: {received} bytes received, {media.total_bytes} declared."
        )
    media.finalized_at = fake.clock.now()
    # Video and animated GIFs are processed asynchronously; images are ready at once.
    media.processing = media.category in ("tweet_video", "amplify_video", "tweet_gif")
    media.failure = fake.processing_failure if media.processing else None
    return JSONResponse(media_body(fake, media, processing=media.processing), headers=headers)


async def status(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "media.status")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    if request.query_params.get("command") != "STATUS":
        return invalid("The `command` query parameter must be STATUS.")
    media = own(fake, token, request.query_params.get("media_id", ""))
    if media is None:
        return invalid("The media id is invalid.")
    return JSONResponse(media_body(fake, media, processing=True), headers=headers)
