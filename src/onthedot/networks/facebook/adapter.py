"""The Facebook Pages adapter (Graph API, graph.facebook.com).

developers.facebook.com/docs/pages-api/posts: a Page post is `POST /{page-id}/feed` with a
`message`; photos are uploaded ahead as unpublished photos (`POST /{page-id}/photos`,
published=false; .../graph-api/reference/page/photos) and attached with
`attached_media[n]={"media_fbid": …}`; a video goes through the resumable upload of
.../video-api/guides/publishing (`upload_phase` start, transfer…, finish). `prepare` does the
uploads (start and every transfer of a video); `commit` is the one call that makes the post
public: the feed post, or the video's `finish` with its description.

Facebook has no threads for Pages: a post with more than one item is refused at `prepare`.
Facebook has no idempotency key either: after a lost answer, `find` looks through the Page's
published posts since the due time for the message (`GET /{page-id}/published_posts`).
The Page token does not expire (see `meta.login`); a refused token means reconnecting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from onthedot.networks import Network
from onthedot.networks.base import (
    Account,
    Engagement,
    Item,
    Job,
    MediaFile,
    Permanent,
    Prepared,
    Published,
    Transient,
)
from onthedot.networks.meta.adapter import GraphAdapter
from onthedot.networks.meta.caller import Caller, required_id
from onthedot.networks.meta.find import Listing, find_post
from onthedot.networks.meta.insights import optional_insight
from onthedot.networks.meta.publishing import permalink, published_id

__all__ = ["FacebookAdapter"]

PAGE_SIZE: Final = 100


class FacebookAdapter(GraphAdapter):
    network = Network.FACEBOOK
    no_access = "the channel has no Facebook Page token: reconnect the channel"

    def _name(self, handle: str) -> str:
        return f"the Page {handle}"

    async def prepare(self, job: Job) -> Prepared:
        if len(job.items) > 1:
            raise Permanent(
                "Facebook Pages have no threads: publish each part as its own post, or join "
                "them into one",
                code="no_threads",
            )
        (item,) = job.items
        caller = self._caller(job.credentials, job.handle)
        videos = [m for m in item.media if m.content_type.startswith("video/")]
        if videos and len(item.media) > 1:
            raise Permanent(
                "a Facebook post takes photos or one video, not both; split the post",
                code="video_alone",
            )
        if videos:
            return Prepared(
                items={item.position: {"video": await _upload_video(caller, videos[0])}}
            )
        photos = [await _upload_photo(caller, m) for m in item.media]
        return Prepared(items={item.position: {"photos": photos}})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        entry = prepared.items.get(item.position)
        if entry is None or reply_to is not None:
            prepared = await self.prepare(job)
            entry = prepared.items[item.position]
        caller = self._caller(job.credentials, job.handle)
        page = _page(job.credentials)
        video = entry.get("video")
        if isinstance(video, dict):
            await caller.post(
                f"{page}/videos",
                doing="publishing the video",
                publishing=True,
                data={
                    "upload_phase": "finish",
                    "upload_session_id": video["session"],
                    "description": item.text,
                },
            )
            video_id = str(video["video_id"])
            return Published(
                network_id=video_id, url=f"https://www.facebook.com/{page}/videos/{video_id}/"
            )
        data: dict[str, Any] = {"message": item.text}
        for index, photo in enumerate(entry.get("photos") or []):
            data[f"attached_media[{index}]"] = orjson.dumps({"media_fbid": photo}).decode()
        body = await caller.post(
            f"{page}/feed", doing="publishing the post", publishing=True, data=data
        )
        post_id = published_id(body, service="Facebook", noun="post id")
        url = await permalink(
            caller, post_id, field="permalink_url", default=f"https://www.facebook.com/{post_id}"
        )
        return Published(network_id=post_id, url=url)

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        return await find_post(
            self._caller(job.credentials, job.handle),
            Listing(
                f"{_page(job.credentials)}/published_posts",
                text="message",
                time="created_time",
                link="permalink_url",
                page_size=PAGE_SIZE,
            ),
            text=item.text,
            since=job.search_from,
            too_many=f"{self._name(job.handle)} has published more since the due time than "
            "onthedot looks through; check the Page on Facebook",
        )

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        """Reactions, comments and shares of the post (.../graph-api/reference/post), and its
        post_clicks insight (.../graph-api/reference/insights) where the token may read it."""
        caller = self._caller(account.credentials, account.handle)
        body = await caller.get(
            network_id,
            doing="reading the post's engagement",
            params={
                "fields": "reactions.summary(total_count).limit(0),"
                "comments.summary(total_count).limit(0),shares"
            },
        )
        clicks = await optional_insight(caller, network_id, "post_clicks")
        shares = body.get("shares")
        return Engagement(
            likes=_summary(body.get("reactions")),
            replies=_summary(body.get("comments")),
            # `shares` is absent until the post is first shared.
            reposts=shares.get("count", 0) if isinstance(shares, dict) else 0,
            clicks=clicks,
        )


# --- the uploads ----------------------------------------------------------------------------


async def _upload_photo(caller: Caller, media: MediaFile) -> str:
    data = await media.read()
    body = await caller.post(
        f"{_page(caller.creds)}/photos",
        doing=f"uploading {media.filename}",
        data={"published": "false"},
        files={"source": (media.filename, data, media.content_type)},
    )
    photo = body.get("id")
    if not isinstance(photo, str):
        raise Transient(
            f"Facebook took {media.filename} but gave no id; onthedot tries again",
            maybe_sent=False,
        )
    return photo


async def _upload_video(caller: Caller, media: MediaFile) -> dict[str, str]:
    """Start and transfer a resumable upload; `finish` (which publishes) waits for commit."""
    path = f"{_page(caller.creds)}/videos"
    doing = f"uploading {media.filename}"
    data = await media.read()
    started = await caller.post(
        path, doing=doing, data={"upload_phase": "start", "file_size": str(len(data))}
    )
    session, video_id = started.get("upload_session_id"), started.get("video_id")
    if not isinstance(session, str) or not isinstance(video_id, str):
        raise Transient(
            "Facebook did not open the video upload; onthedot tries again", maybe_sent=False
        )
    start, end = int(started.get("start_offset", 0)), int(started.get("end_offset", 0))
    while start < end:
        moved = await caller.post(
            path,
            doing=doing,
            data={
                "upload_phase": "transfer",
                "upload_session_id": session,
                "start_offset": str(start),
            },
            files={"video_file_chunk": (media.filename, data[start:end], media.content_type)},
        )
        next_start = int(moved.get("start_offset", end))
        if next_start <= start:
            raise Transient(
                "Facebook's video upload made no progress; onthedot tries again",
                maybe_sent=False,
            )
        start, end = next_start, int(moved.get("end_offset", next_start))
    return {"session": session, "video_id": video_id}


def _summary(edge: Any) -> int | None:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    total = summary.get("total_count") if isinstance(summary, dict) else None
    return total if isinstance(total, int) else None


def _page(creds: Mapping[str, Any]) -> str:
    return required_id(
        creds, "page_id", "the channel names no Facebook Page: reconnect the channel"
    )
