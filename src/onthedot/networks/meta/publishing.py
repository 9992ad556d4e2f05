"""What publishing looks like on every Meta network: the daily quota read ahead, the id the
publish call answers, and the post's address read after it.

Threads and Instagram fetch media from a public address; `MediaUrl` makes one for a file,
good until the given time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from onthedot.networks.base import MediaFile, NetworkError, RateLimited, Transient
from onthedot.networks.meta.caller import Caller

__all__ = [
    "MEDIA_URL_LIFETIME",
    "MediaUrl",
    "check_quota",
    "permalink",
    "published_id",
]

MediaUrl = Callable[[MediaFile, dt.datetime], str]
# Containers expire after 24 hours (developers.facebook.com/docs/threads/troubleshooting): the
# media must stay reachable while the network processes it, never longer.
MEDIA_URL_LIFETIME: Final = dt.timedelta(hours=24)
# No documented reset for the rolling 24-hour quota: look again in an hour.
QUOTA_RETRY: Final = dt.timedelta(hours=1)


async def check_quota(
    caller: Caller, path: str, *, fields: str, needs: Sequence[tuple[str, int, str]]
) -> None:
    """Refuse, as rate-limited, what would go past the network's 24-hour publishing quota.

    `needs` holds, per quota, the prefix of its usage fields ("" for `quota_usage` and
    `config`, "reply_" for Threads' replies), how many posts are about to count against it,
    and what they are ("posts"). The quota's edge (`path`'s last part) is the error's code.
    """
    body = await caller.get(path, doing="reading the publishing quota", params={"fields": fields})
    data = body.get("data")
    usage = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    for prefix, needed, what in needs:
        used = usage.get(f"{prefix}quota_usage")
        config = usage.get(f"{prefix}config")
        total = config.get("quota_total") if isinstance(config, dict) else None
        if isinstance(used, int) and isinstance(total, int) and used + needed > total:
            reset_at = caller.graph.clock.now() + QUOTA_RETRY
            raise RateLimited(
                f"{caller.account} has published {used} {what} through the API in the last 24 "
                f"hours, and {caller.graph.service} allows {total}; onthedot tries again at "
                f"{reset_at:%H:%M} UTC",
                code=path.rsplit("/", 1)[-1],
                reset_at=reset_at,
                scope="account",
            )


def published_id(body: Mapping[str, Any], *, service: str, noun: str) -> str:
    """The id a publish call answered; without one, the post may be out all the same."""
    network_id = body.get("id")
    if not isinstance(network_id, str) or not network_id:
        raise Transient(
            f"{service} answered the publish call without a {noun}; the post may have been "
            "published, so onthedot checks before it tries again",
            maybe_sent=True,
        )
    return network_id


async def permalink(
    caller: Caller, node: str, *, field: str = "permalink", default: str | None = None
) -> str | None:
    """The post's address, if the network says it at once: the post is out either way."""
    try:
        body = await caller.get(node, doing="reading the post's address", params={"fields": field})
    except NetworkError:
        return default
    link = body.get(field)
    return link if isinstance(link, str) else default
