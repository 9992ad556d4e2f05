"""Everything a post embeds, done ahead of the due time: images, video, link cards.

- Images go up with com.atproto.repo.uploadBlob and are embedded as app.bsky.embed.images
  (at most 4, each with alt text and, when its header tells, an aspect ratio).
- Video goes to Bluesky's video service, as its documentation recommends
  (https://docs.bsky.app/docs/tutorials/video): a service token from
  com.atproto.server.getServiceAuth (audience the account's PDS, method uploadBlob), then
  app.bsky.video.uploadVideo, then app.bsky.video.getJobStatus until the job is done and
  hands back the blob. The service processes the video before the post exists, so the post
  plays at once -- and all of it happens in `prepare`.
- A link card (app.bsky.embed.external) is made for the first link of a post without media:
  the page's title, description and image, fetched through the guarded `fetch`, and the
  image uploaded as a blob. A card is a nicety: when the page cannot be read, the post goes
  out without one.
"""

from __future__ import annotations

import datetime as dt
import html.parser
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from onthedot.clock import Clock
from onthedot.networks.base import AuthRevoked, MediaFile, NetworkError, Permanent, Transient
from onthedot.networks.bluesky.records import image_size
from onthedot.networks.bluesky.session import Session
from onthedot.networks.http import HttpClient, json_body

__all__ = ["embed_images", "embed_link_card", "embed_video"]

# Lexicon app.bsky.embed.images / external: each image and a card's thumb at most 1,000,000 B.
MAX_IMAGE_BYTES: Final = 1_000_000
MAX_PAGE_BYTES: Final = 2_000_000
# The service token lives this long (the tutorial recommends 30 minutes).
SERVICE_TOKEN_S: Final = 30 * 60
POLL_S: Final = 1.0
# How long onthedot waits for the video service before trying the whole upload again later.
MAX_PROCESSING: Final = dt.timedelta(minutes=10)
# app.bsky.video.defs#jobStatus: every state but these two means "still processing".
JOB_COMPLETED: Final = "JOB_STATE_COMPLETED"
JOB_FAILED: Final = "JOB_STATE_FAILED"
_TEXT_MAX: Final = {"title": 300, "description": 1000}


async def _upload_blob(session: Session, data: bytes, mime: str, name: str) -> dict[str, Any]:
    response = await session.call(
        "POST",
        "com.atproto.repo.uploadBlob",
        subject=name,
        action=f"uploading {name}",
        content=data,
        content_type=mime,
    )
    blob = json_body(response).get("blob")
    if not isinstance(blob, dict):
        raise Transient(
            f"Bluesky accepted {name} but returned no blob; onthedot uploads it again",
            maybe_sent=False,
        )
    return blob


async def embed_images(session: Session, media: tuple[MediaFile, ...]) -> dict[str, Any]:
    images = []
    for file in media:
        data = await file.read()
        blob = await _upload_blob(session, data, file.content_type, file.filename)
        # The post model carries no alt text yet: the lexicon requires the field, empty is
        # allowed.
        image: dict[str, Any] = {"alt": "", "image": blob}
        size = image_size(data)
        if size is not None and all(size):
            image["aspectRatio"] = {"width": size[0], "height": size[1]}
        images.append(image)
    return {"$type": "app.bsky.embed.images", "images": images}


async def embed_video(
    session: Session, media: MediaFile, *, video_service: str, clock: Clock
) -> dict[str, Any]:
    data = await media.read()
    token = await _service_token(session, clock)
    name = media.filename
    try:
        return await _process_video(session, data, name, token, video_service, clock)
    except AuthRevoked:
        # The account's session was good a moment ago (getServiceAuth); a refused upload
        # token is one that ran out during a long upload: a new one is asked for next time.
        raise Transient(
            f"Bluesky's video service refused the upload token for {name}; onthedot tries "
            "again with a new one",
            maybe_sent=False,
        ) from None


async def _process_video(
    session: Session, data: bytes, name: str, token: str, video_service: str, clock: Clock
) -> dict[str, Any]:
    response = await session.call(
        "POST",
        "app.bsky.video.uploadVideo",
        subject=f"the video {name}",
        action=f"uploading the video {name}",
        base=video_service,
        token=token,
        params={"did": session.did, "name": name},
        content=data,
        content_type="video/mp4",
        # A video that was processed before answers 409 with its job and blob.
        accept=("already_exists",),
        timeout_s=600.0,
    )
    body = json_body(response)
    # The service answers the job itself; the lexicon wraps it in "jobStatus"
    # (github.com/bluesky-social/atproto issues 3026 and 3097): take either.
    wrapped = body.get("jobStatus")
    status: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
    deadline = clock.now() + MAX_PROCESSING
    while True:
        blob = status.get("blob")
        if isinstance(blob, dict):
            return {"$type": "app.bsky.embed.video", "video": blob}
        state, error = status.get("state"), status.get("error")
        if error == "unconfirmed_email":
            raise Permanent(
                f"Bluesky takes videos only from accounts with a confirmed email: confirm "
                f"{session.handle}'s email on bsky.app, then schedule {name} again",
                code=error,
            )
        if state == JOB_FAILED or (error and error != "already_exists" and not status.get("jobId")):
            reason = status.get("message") or error or "no reason given"
            raise Permanent(
                f"Bluesky's video service could not process {name} ({reason}); check that it "
                "is an MP4 video within Bluesky's limits (see docs/networks/bluesky.md)",
                code=str(status.get("failureCode") or status.get("error") or "") or None,
            )
        job_id = status.get("jobId")
        if not isinstance(job_id, str) or not job_id:
            raise Transient(
                f"Bluesky's video service accepted {name} without a job id; onthedot uploads "
                "it again",
                maybe_sent=False,
            )
        if clock.now() >= deadline:
            raise Transient(
                f"Bluesky's video service is still processing {name} after "
                f"{MAX_PROCESSING.seconds // 60} minutes; onthedot tries again",
                maybe_sent=False,
            )
        await clock.sleep_until(clock.now() + dt.timedelta(seconds=POLL_S))
        response = await session.call(
            "GET",
            "app.bsky.video.getJobStatus",
            subject=f"the video {name}",
            action=f"waiting for the video {name}",
            base=video_service,
            token=token,
            params={"jobId": job_id},
        )
        polled = json_body(response).get("jobStatus")
        status = polled if isinstance(polled, dict) else {}


async def _service_token(session: Session, clock: Clock) -> str:
    """A token the video service may use to store the processed video on the account's PDS
    (com.atproto.server.getServiceAuth: aud is the PDS's did:web, lxm the method allowed)."""
    host = urlsplit(session.service).hostname or ""
    response = await session.call(
        "GET",
        "com.atproto.server.getServiceAuth",
        subject="the video upload",
        action="asking for a video upload token",
        params={
            "aud": f"did:web:{host}",
            "lxm": "com.atproto.repo.uploadBlob",
            "exp": int(clock.now().timestamp()) + SERVICE_TOKEN_S,
        },
    )
    token = json_body(response).get("token")
    if not isinstance(token, str) or not token:
        raise Transient(
            "Bluesky gave no video upload token; onthedot tries again", maybe_sent=False
        )
    return token


class _Meta(html.parser.HTMLParser):
    """The page's Open Graph title, description and image, and its <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in ("og:title", "og:description", "og:image", "description"):
                self.meta.setdefault(key, values.get("content", "").strip())
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = data.strip()


async def embed_link_card(session: Session, http: HttpClient, url: str) -> dict[str, Any] | None:
    try:
        page = await http.fetch(
            url, service="the linked page", max_bytes=MAX_PAGE_BYTES, accept="text/html"
        )
        if not page.is_success or "html" not in page.headers.get("content-type", ""):
            return None
        meta = _Meta()
        meta.feed(page.text)
    except (NetworkError, ValueError):
        return None  # a card is a nicety: no page, no card, the post still goes out
    external: dict[str, Any] = {
        "uri": url,
        "title": (meta.meta.get("og:title") or meta.title)[: _TEXT_MAX["title"]],
        "description": (meta.meta.get("og:description") or meta.meta.get("description") or "")[
            : _TEXT_MAX["description"]
        ],
    }
    image_url = meta.meta.get("og:image")
    if image_url:
        thumb = await _thumb(session, http, urljoin(str(page.url), image_url))
        if thumb is not None:
            external["thumb"] = thumb
    return {"$type": "app.bsky.embed.external", "external": external}


async def _thumb(session: Session, http: HttpClient, url: str) -> dict[str, Any] | None:
    try:
        image = await http.fetch(url, service="the linked page", max_bytes=MAX_IMAGE_BYTES)
    except NetworkError:
        return None
    mime = image.headers.get("content-type", "").split(";")[0].strip()
    if not image.is_success or not mime.startswith("image/") or not image.content:
        return None
    # The thumb's upload is the account's own call: its failures are real ones.
    return await _upload_blob(session, image.content, mime, "the link card's image")
