"""Helpers for the Meta adapters' tests: jobs, media files, and a FrozenClock driver."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.base import Item, Job, MediaFile

T = TypeVar("T")
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def media(tmp: Path, name: str, content_type: str, size: int = 2048) -> MediaFile:
    path = tmp / name
    path.write_bytes(b"\x00" * size)
    return MediaFile(path=path, content_type=content_type, size=size, filename=name)


def job(
    network: Network,
    credentials: dict[str, Any],
    *items: Item,
    handle: str = "@alice",
    due_at: dt.datetime = T0,
    post_id: int = 7,
) -> Job:
    return Job(
        post_id=post_id,
        channel_id=1,
        workspace_id=1,
        network=network,
        handle=handle,
        credentials=credentials,
        items=items,
        due_at=due_at,
    )


def item(text: str, *files: MediaFile, position: int = 0) -> Item:
    return Item(item_id=100 + position, position=position, text=text, media=files)


async def drive(clock: FrozenClock, work: Coroutine[Any, Any, T]) -> T:
    """Run `work`, moving the frozen clock to each instant it sleeps until."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await asyncio.sleep(0)
        wakeup = clock.next_wakeup()
        if wakeup is not None and not task.done():
            clock.set(wakeup)
    return task.result()
