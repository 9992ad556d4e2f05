"""Threads' and Instagram's media containers: created, then waited for, then published.

Both networks fetch the media themselves from a public URL and process it after the container
is created; publishing before the container is FINISHED fails. Meta's advice is to wait about
30 seconds and to check the status no more than once a minute for five minutes
(developers.facebook.com/docs/threads/troubleshooting, "Publishing Does Not Return a Media
ID"; developers.facebook.com/docs/instagram-platform/content-publishing, "Troubleshooting").
onthedot does that waiting in `prepare`, on the injected clock, so a post with a video is no
later at its due time than a text post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from onthedot.networks.base import Permanent, Published, Transient
from onthedot.networks.meta.caller import Caller
from onthedot.networks.meta.publishing import permalink, published_id

__all__ = ["Containers", "wait_until_finished"]

# The first checks come soon (a text or an image is usually ready at once), then Meta's
# once-a-minute, for five minutes in all.
POLL_AFTER_S: Final = (0, 5, 15, 30, 60, 60, 60, 60)
GIVE_UP_AFTER: Final = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Containers:
    """One account's containers: `user` is its id in paths, the edges are the network's."""

    caller: Caller
    user: str
    create_edge: str  # "threads" / "media"
    publish_edge: str  # "threads_publish" / "media_publish"
    # The status field: `status` on Threads, `status_code` on Instagram (whose `status`
    # carries the error detail).
    status_field: str

    async def create(self, params: Mapping[str, Any], *, what: str) -> str:
        body = await self.caller.post(
            f"{self.user}/{self.create_edge}",
            doing=f"creating the container for {what}",
            data=params,
        )
        container = body.get("id")
        if not isinstance(container, str) or not container:
            raise Transient(
                f"{self.caller.graph.service} created a container but gave no id; onthedot "
                "tries again",
                maybe_sent=False,
            )
        return container

    async def wait(self, container: str, *, what: str) -> None:
        await wait_until_finished(self.caller, container, field=self.status_field, what=what)

    async def carousel(self, children: Sequence[tuple[Mapping[str, Any], str]]) -> list[str]:
        """Each child (its parameters, its file's name) created, then each waited for: Meta
        processes them meanwhile."""
        ids = [await self.create(params, what=filename) for params, filename in children]
        for child, (_, filename) in zip(ids, children, strict=True):
            await self.wait(child, what=filename)
        return ids

    async def publish(self, container: str, *, noun: str) -> Published:
        """The one call at the due time; `noun` names the id it answers ("post id")."""
        body = await self.caller.post(
            f"{self.user}/{self.publish_edge}",
            doing="publishing the post",
            publishing=True,
            data={"creation_id": container},
        )
        media_id = published_id(body, service=self.caller.graph.service, noun=noun)
        return Published(network_id=media_id, url=await permalink(self.caller, media_id))


async def wait_until_finished(caller: Caller, container: str, *, field: str, what: str) -> None:
    """Return once the container is FINISHED (or already PUBLISHED); raise otherwise."""
    graph = caller.graph
    clock = graph.clock
    started = clock.now()
    for delay in POLL_AFTER_S:
        if delay:
            await clock.sleep_until(clock.now() + dt.timedelta(seconds=delay))
        body = await caller.get(
            container,
            doing=f"checking {what}",
            params={"fields": "status,error_message" if field == "status" else f"{field},status"},
        )
        state = str(body.get(field) or "")
        if state in ("FINISHED", "PUBLISHED"):
            return
        detail = body.get("error_message") or (body.get("status") if field != "status" else "")
        if state == "ERROR":
            raise Permanent(
                f"{graph.service} could not process {what} ({detail or 'no reason given'}); "
                "check that the media meets its specifications and that onthedot's public "
                "address (ONTHEDOT_PUBLIC_URL) is reachable from the internet",
                code=str(detail) if detail else "ERROR",
            )
        if state == "EXPIRED":
            raise Transient(
                f"{graph.service} let {what} expire before it was published; onthedot "
                "prepares it again",
                maybe_sent=False,
            )
        if clock.now() - started >= GIVE_UP_AFTER:
            break
    raise Transient(
        f"{graph.service} was still processing {what} after "
        f"{int(GIVE_UP_AFTER.total_seconds() // 60)} minutes; onthedot tries again",
        maybe_sent=False,
    )
