"""The Threads adapter: two-step publishing through media containers (graph.threads.net).

A post is a container created with `POST /{user-id}/threads` and published with
`POST /{user-id}/threads_publish?creation_id=` (developers.facebook.com/docs/threads/posts).
Threads fetches images and videos itself from a public URL, so each file is offered at a
signed, expiring onthedot address (`public_media`). `prepare` creates the first item's
container (and every carousel's children) and waits on the clock until Threads has processed
them; `commit` is then the one publish call at the due time.

A reply names its parent at container creation (`reply_to_id`), and the parent exists only once
it is published: so for a thread, the items after the first get their container at commit time
(carousel children are still prepared ahead). A text reply is ready at once; a reply with a
video waits for Threads' processing and goes out that much later.

Idempotency: a container can be published only once, but onthedot keeps no container across
attempts (a new attempt prepares again), so a lost answer cannot be retried blindly: the
adapter says `idempotent = False` and `find` looks through the account's recent threads (or
replies) since the due time for the item's text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from onthedot.networks import Network
from onthedot.networks.base import (
    Account,
    AuthRevoked,
    Engagement,
    Item,
    Job,
    MediaFile,
    Permanent,
    Prepared,
    Published,
    Transient,
)
from onthedot.networks.credentials import CredentialStore, TokenKeeper
from onthedot.networks.meta.adapter import GraphAdapter
from onthedot.networks.meta.caller import Caller
from onthedot.networks.meta.containers import Containers
from onthedot.networks.meta.errors import TokenExpired
from onthedot.networks.meta.find import Listing, find_post
from onthedot.networks.meta.graph import Graph
from onthedot.networks.meta.insights import values_of
from onthedot.networks.meta.publishing import MEDIA_URL_LIFETIME, MediaUrl, check_quota

__all__ = ["ThreadsAdapter"]

VERSION: Final = "v1.0"
# Long-lived tokens last 60 days and refresh once at least 24 hours old
# (developers.facebook.com/docs/threads/get-started/long-lived-tokens): refresh a week ahead.
REFRESH_MARGIN: Final = dt.timedelta(days=7)

T = TypeVar("T")


class ThreadsAdapter(GraphAdapter):
    network = Network.THREADS
    version = VERSION
    no_access = "the channel has no Threads access token: reconnect the channel"

    def __init__(self, graph: Graph, store: CredentialStore, *, media_url: MediaUrl) -> None:
        super().__init__(graph)
        self._media_url = media_url
        self._keeper = TokenKeeper(
            store, clock=graph.clock, refresh=self.refresh, margin=REFRESH_MARGIN
        )

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        prepared = Prepared()

        async def run(creds: Mapping[str, Any]) -> None:
            caller = self._caller(creds, job.handle)
            # 250 posts, 1,000 replies per 24 hours (developers.facebook.com/docs/threads/
            # troubleshooting#retrieve-publishing-quota-limit).
            replies = len(job.items) - 1
            await check_quota(
                caller,
                f"{_user(creds)}/threads_publishing_limit",
                fields="quota_usage,config,reply_quota_usage,reply_config",
                needs=[("", 1, "posts")] + ([("reply_", replies, "replies")] if replies else []),
            )
            containers = self._containers(caller)
            for index, item in enumerate(job.items):
                if index == 0:
                    container = await self._container(containers, item, reply_to=None)
                    prepared.items[item.position] = {"container": container}
                elif len(item.media) > 1:
                    children = await self._children(containers, item)
                    prepared.items[item.position] = {"children": children}

        await self._with_token(job.account, run)
        return prepared

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        entry = prepared.items.get(item.position) or {}

        async def run(creds: Mapping[str, Any]) -> Published:
            containers = self._containers(self._caller(creds, job.handle))
            container = entry.get("container") if reply_to is None else None
            if not isinstance(container, str):
                container = await self._container(
                    containers, item, reply_to=reply_to, children=entry.get("children")
                )
            return await containers.publish(container, noun="post id")

        return await self._with_token(job.account, run)

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        """Look through the account's threads (or replies, for a thread's later items) made
        since just before the due time."""
        name = self._name(job.handle)

        def belongs(post: Mapping[str, Any]) -> bool:
            if reply_to is None:
                return True
            parent = post.get("replied_to")
            return isinstance(parent, dict) and parent.get("id") == reply_to.network_id

        async def run(creds: Mapping[str, Any]) -> Published | None:
            edge = "replies" if reply_to is not None else "threads"
            return await find_post(
                self._caller(creds, job.handle),
                Listing(
                    f"{_user(creds)}/{edge}",
                    text="text",
                    time="timestamp",
                    link="permalink",
                    extra=("replied_to",),
                ),
                text=item.text,
                since=job.search_from,
                too_many=f"{name} has published more threads since the due time than onthedot "
                f"looks through; check {name}'s profile on Threads",
                belongs=belongs,
            )

        return await self._with_token(job.account, run)

    async def refresh(self, account: Account) -> dict[str, Any]:
        """A new long-lived token for the old one (GET /refresh_access_token)."""
        token = account.credentials.get("access_token")
        if not isinstance(token, str):
            raise AuthRevoked("the channel has no Threads token: reconnect the channel")
        try:
            body = await self._graph.call(
                "GET",
                "refresh_access_token",
                token=None,
                account=self._name(account.handle),
                doing="refreshing the access token",
                params={"grant_type": "th_refresh_token", "access_token": token},
            )
        except Permanent as exc:
            raise AuthRevoked(
                f"Threads would not refresh onthedot's access to {self._name(account.handle)} "
                f"({exc.message}): reconnect the channel",
                status=exc.status,
                code=exc.code,
            ) from None
        fresh = body.get("access_token")
        if not isinstance(fresh, str):
            raise Transient(
                "Threads refreshed the token but sent none back; onthedot tries again",
                maybe_sent=False,
            )
        now = self._clock.now()
        expires_in = body.get("expires_in")
        seconds = expires_in if isinstance(expires_in, int | float) else 60 * 24 * 3600
        return {
            **account.credentials,
            "access_token": fresh,
            "issued_at": now.isoformat(),
            "expires_at": (now + dt.timedelta(seconds=seconds)).isoformat(),
        }

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        """GET /{media-id}/insights (developers.facebook.com/docs/threads/insights)."""

        async def run(creds: Mapping[str, Any]) -> Engagement:
            body = await self._caller(creds, account.handle).get(
                f"{network_id}/insights",
                doing="reading the post's insights",
                params={"metric": "views,likes,replies,reposts,quotes"},
            )
            values = values_of(body)
            return Engagement(
                likes=values.get("likes"),
                reposts=values.get("reposts"),
                replies=values.get("replies"),
                quotes=values.get("quotes"),
                impressions=values.get("views"),
            )

        return await self._with_token(account, run)

    # --- the calls --------------------------------------------------------------------------

    async def _with_token(
        self, account: Account, run: Callable[[Mapping[str, Any]], Awaitable[T]]
    ) -> T:
        """Run with fresh credentials; when Threads says the token expired, refresh once."""
        creds = await self._keeper.current(account)
        try:
            return await run(creds)
        except TokenExpired:
            return await run(await self._keeper.refreshed(account, stale=creds))

    @staticmethod
    def _containers(caller: Caller) -> Containers:
        return Containers(
            caller,
            _user(caller.creds),
            create_edge="threads",
            publish_edge="threads_publish",
            status_field="status",
        )

    async def _children(self, containers: Containers, item: Item) -> list[str]:
        return await containers.carousel(
            [
                ({**self._media_params(media), "is_carousel_item": "true"}, media.filename)
                for media in item.media
            ]
        )

    async def _container(
        self,
        containers: Containers,
        item: Item,
        *,
        reply_to: Published | None,
        children: Any = None,
    ) -> str:
        """A container for `item`, created and processed, ready to publish."""
        params: dict[str, Any] = {"text": item.text} if item.text else {}
        if reply_to is not None:
            params["reply_to_id"] = reply_to.network_id
        if len(item.media) > 1:
            kids = (
                children if isinstance(children, list) else await self._children(containers, item)
            )
            params |= {"media_type": "CAROUSEL", "children": ",".join(kids)}
        elif item.media:
            params |= self._media_params(item.media[0])
        else:
            params["media_type"] = "TEXT"
        what = "the post" if reply_to is None else "the reply"
        container = await containers.create(params, what=what)
        await containers.wait(container, what=f"{what}'s media" if item.media else what)
        return container

    def _media_params(self, media: MediaFile) -> dict[str, str]:
        url = self._media_url(media, self._clock.now() + MEDIA_URL_LIFETIME)
        if media.content_type.startswith("video/"):
            return {"media_type": "VIDEO", "video_url": url}
        return {"media_type": "IMAGE", "image_url": url}


def _user(creds: Mapping[str, Any]) -> str:
    user = creds.get("user_id")
    return str(user) if user else "me"
