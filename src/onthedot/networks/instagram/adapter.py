"""The Instagram adapter: content publishing through media containers (Instagram API with
Facebook Login, graph.facebook.com).

developers.facebook.com/docs/instagram-platform/content-publishing: a post is a container
(`POST /{ig-user-id}/media`: image_url, or media_type=REELS with video_url, or a CAROUSEL of
up to 10 children created with is_carousel_item) published with `POST
/{ig-user-id}/media_publish?creation_id=`. Instagram fetches the media from a public URL, so
each file is offered at a signed, expiring onthedot address (`public_media`). `prepare`
checks the 24-hour publishing quota, creates the containers and waits on the clock until
Instagram has processed them (`status_code` FINISHED); `commit` is the one publish call.

Instagram has no threads: a post with more than one item is refused at `prepare`, before
anything is created. It has no text-only posts either (onthedot's limits refuse them when the
post is written). The Page token the channel holds does not expire, so there is nothing to
refresh; a token Instagram refuses means reconnecting.

As on Threads, a container is published once, but onthedot does not keep containers across
attempts: `idempotent = False`, and `find` looks through the account's media since the due
time for the caption.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

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
)
from onthedot.networks.meta.adapter import GraphAdapter
from onthedot.networks.meta.caller import Caller, required_id
from onthedot.networks.meta.containers import Containers
from onthedot.networks.meta.find import Listing, find_post
from onthedot.networks.meta.graph import Graph
from onthedot.networks.meta.insights import optional_insight
from onthedot.networks.meta.publishing import MEDIA_URL_LIFETIME, MediaUrl, check_quota

__all__ = ["InstagramAdapter"]

PAGE_SIZE: Final = 50


class InstagramAdapter(GraphAdapter):
    network = Network.INSTAGRAM
    no_access = "the channel has no Instagram access token: reconnect the channel"

    def __init__(self, graph: Graph, *, media_url: MediaUrl) -> None:
        super().__init__(graph)
        self._media_url = media_url

    async def prepare(self, job: Job) -> Prepared:
        if len(job.items) > 1:
            raise Permanent(
                "Instagram has no threads: publish each part as its own post, or join them "
                "into one caption",
                code="no_threads",
            )
        (item,) = job.items
        if not item.media:
            raise Permanent(
                "an Instagram post needs at least one image or video; attach one",
                code="media_required",
            )
        caller = self._caller(job.credentials, job.handle)
        # developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
        # ig-user/content_publishing_limit
        await check_quota(
            caller,
            f"{_ig_user(job.credentials)}/content_publishing_limit",
            fields="quota_usage,config",
            needs=[("", 1, "posts")],
        )
        containers = _containers(caller)
        params: dict[str, Any] = {"caption": item.text} if item.text else {}
        if len(item.media) > 1:
            children = await containers.carousel(
                [(self._media_params(m, carousel=True), m.filename) for m in item.media]
            )
            params |= {"media_type": "CAROUSEL", "children": ",".join(children)}
        else:
            params |= self._media_params(item.media[0], carousel=False)
        container = await containers.create(params, what="the post")
        await containers.wait(container, what="the post's media")
        return Prepared(items={item.position: {"container": container}})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        entry = prepared.items.get(item.position) or {}
        container = entry.get("container")
        if reply_to is not None or not isinstance(container, str):
            # Only a post that `prepare` refused or never ran for gets here.
            prepared = await self.prepare(job)
            container = prepared.items[item.position]["container"]
        containers = _containers(self._caller(job.credentials, job.handle))
        return await containers.publish(container, noun="media id")

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        """Look through the account's media published since just before the due time."""
        name = self._name(job.handle)
        return await find_post(
            self._caller(job.credentials, job.handle),
            Listing(
                f"{_ig_user(job.credentials)}/media",
                text="caption",
                time="timestamp",
                link="permalink",
                page_size=PAGE_SIZE,
                newest_first=True,
            ),
            text=item.text,
            since=job.search_from,
            too_many=f"{name} has published more on Instagram since the due time than onthedot "
            f"looks through; check {name}'s profile",
        )

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        """IG Media like_count and comments_count, and its `views` insight where offered."""
        caller = self._caller(account.credentials, account.handle)
        body = await caller.get(
            network_id,
            doing="reading the post's engagement",
            params={"fields": "like_count,comments_count"},
        )
        views = await optional_insight(caller, network_id, "views")
        likes, comments = body.get("like_count"), body.get("comments_count")
        return Engagement(
            likes=likes if isinstance(likes, int) else None,
            replies=comments if isinstance(comments, int) else None,
            impressions=views,
        )

    # --- the calls --------------------------------------------------------------------------

    def _media_params(self, media: MediaFile, *, carousel: bool) -> dict[str, str]:
        url = self._media_url(media, self._clock.now() + MEDIA_URL_LIFETIME)
        if media.content_type.startswith("video/"):
            # A single video is a reel; a carousel's video item is VIDEO.
            kind = "VIDEO" if carousel else "REELS"
            params = {"media_type": kind, "video_url": url}
        else:
            params = {"image_url": url}
        if carousel:
            params["is_carousel_item"] = "true"
        return params


def _containers(caller: Caller) -> Containers:
    return Containers(
        caller,
        _ig_user(caller.creds),
        create_edge="media",
        publish_edge="media_publish",
        status_field="status_code",
    )


def _ig_user(creds: Mapping[str, Any]) -> str:
    return required_id(
        creds, "ig_user_id", "the channel names no Instagram account: reconnect the channel"
    )
