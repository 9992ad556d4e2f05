"""After a lost answer: is the post on the account?

No Meta network takes an idempotency key, and onthedot keeps no container across attempts, so
`find` pages through the account's posts made since just before the due time, looking for the
item's text. Having seen them all proves the item is not there; more than onthedot pages
through, and it cannot tell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from onthedot.networks.base import CannotTell, Published
from onthedot.networks.meta.caller import Caller
from onthedot.networks.meta.graph import parse_time

__all__ = ["Listing", "find_post"]


@dataclass(frozen=True, slots=True)
class Listing:
    """An edge that lists an account's posts, and what it calls their fields."""

    path: str
    text: str  # "text" on Threads, "caption" on Instagram, "message" on Facebook
    time: str
    link: str
    page_size: int = 100
    extra: tuple[str, ...] = ()
    # The edge lists newest first: a post older than the window ends the search.
    newest_first: bool = False


async def find_post(
    caller: Caller,
    listing: Listing,
    *,
    text: str,
    since: dt.datetime,
    too_many: str,
    belongs: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Published | None:
    """The post with `text` made since `since` (and that `belongs`, where the text alone is not
    enough), None when there provably is none; `too_many` is what to say when onthedot cannot
    tell."""
    seen_all = False
    async for page in caller.pages(
        listing.path,
        doing="looking for the post",
        params={
            "fields": ",".join(("id", listing.text, listing.time, listing.link, *listing.extra)),
            "since": int(since.timestamp()),
            "limit": listing.page_size,
        },
    ):
        for post in page:
            created = parse_time(post.get(listing.time))
            if (
                (post.get(listing.text) or "") == text
                and "id" in post
                and (created is None or created >= since)
                and (belongs is None or belongs(post))
            ):
                link = post.get(listing.link)
                return Published(
                    network_id=str(post["id"]), url=link if isinstance(link, str) else None
                )
            if listing.newest_first and created is not None and created < since:
                return None
        if len(page) < listing.page_size:
            seen_all = True
    if seen_all:
        return None
    raise CannotTell(too_many)
