"""What the network adapters' unit tests share: a job as the broadcaster hands it over, and a
driver that runs adapter work on a frozen clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.base import Item, Job, MediaFile

T = TypeVar("T")
CHANNEL = 7


def make_job(
    network: Network,
    handle: str,
    credentials: Mapping[str, Any],
    texts: tuple[str, ...],
    *,
    due_at: dt.datetime,
    media: tuple[MediaFile, ...] = (),
    post_id: int = 41,
) -> Job:
    """A post to `network` with one item per text; the media go with the first item."""
    items = tuple(
        Item(item_id=100 + i, position=i, text=text, media=media if i == 0 else ())
        for i, text in enumerate(texts)
    )
    return Job(
        post_id=post_id,
        channel_id=CHANNEL,
        workspace_id=1,
        network=network,
        handle=handle,
        credentials=credentials,
        items=items,
        due_at=due_at,
    )


async def drive(clock: FrozenClock, work: Awaitable[T], *, timeout_s: float = 60.0) -> T:
    """Run `work`, moving the frozen clock to each instant it sleeps until.

    When nothing waits on the clock, the work waits on something real (a thread reading a
    media file): that is awaited, not counted in loop turns, so a loaded machine is no
    different from an idle one. `timeout_s` only catches work that never finishes.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        await asyncio.sleep(0)
        if task.done():
            return task.result()
        wake = clock.next_wakeup()
        if wake is not None:
            clock.set(wake)
        else:
            await asyncio.wait({task}, timeout=0.005)
    task.cancel()
    raise AssertionError("the work never finished")
