"""The queue: floating posts fill a channel's schedule slots in queue order.

Every change to a queue ends with `reflow`, inside the transaction that made the change and
under the channel's lock (channels.service.lock_channel), so due times are never seen half
re-flowed and two editors never hand out one slot twice.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from onthedot.channels.models import Channel
from onthedot.channels.schedule import Schedule, slots, zone
from onthedot.errors import ScheduleEmpty
from onthedot.posts import queries
from onthedot.posts.models import Post


def assign_slots(
    schedule: Schedule,
    tz_name: str,
    *,
    now: dt.datetime,
    count: int,
    occupied: set[dt.datetime],
) -> list[dt.datetime]:
    """The first `count` free slots after `now`, skipping slots held by settled posts."""
    if count == 0:
        return []
    free: list[dt.datetime] = []
    for slot in slots(schedule, zone(tz_name), now):
        if slot in occupied:
            continue
        free.append(slot)
        if len(free) == count:
            break
    return free


async def reflow(session: AsyncSession, *, channel: Channel, now: dt.datetime) -> int:
    """Give the channel's floating posts the first free slots, in queue order.

    Returns how many posts changed time. Raises ScheduleEmpty when floating posts wait but
    the schedule has no posting times left.
    """
    floating = list(
        (await session.scalars(queries.reflowable(channel_id=channel.id, now=now))).all()
    )
    if not floating:
        return 0
    schedule = Schedule.from_json(channel.schedule)
    if schedule.is_empty:
        raise ScheduleEmpty(
            f"channel {channel.id} has no posting times, and {len(floating)} post(s) wait in "
            "its queue; add posting times, or give those posts a custom time or make them drafts"
        )
    occupied = {
        t
        for t in (await session.scalars(queries.occupied_slots(channel_id=channel.id, now=now)))
        if t is not None
    }
    new_times = assign_slots(
        schedule, channel.timezone, now=now, count=len(floating), occupied=occupied
    )
    changed = [(p, t) for p, t in zip(floating, new_times, strict=True) if p.due_at != t]
    if not changed:
        return 0
    ids = [p.id for p, _ in changed]
    # Two steps, because the unique slot index is checked row by row: free the slots of
    # every post that moves, then hand out the new ones.
    await session.execute(
        update(Post)
        .where(Post.id.in_(ids))
        .values(due_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Post),
        [{"id": p.id, "due_at": t, "updated_at": now} for p, t in changed],
    )
    for post, when in changed:
        set_committed_value(post, "due_at", when)
        set_committed_value(post, "updated_at", now)
    return len(changed)


async def next_position(session: AsyncSession, *, channel_id: int, at_top: bool) -> int:
    low, high = (await session.execute(queries.queue_position_bounds(channel_id=channel_id))).one()
    if at_top:
        return (low if low is not None else 1) - 1
    return (high if high is not None else 0) + 1


async def renumber(session: AsyncSession, ordered: Sequence[Post], *, now: dt.datetime) -> None:
    """Store the given queue order as positions 1..n."""
    if not ordered:
        return
    await session.execute(
        update(Post),
        [{"id": p.id, "queue_position": i, "updated_at": now} for i, p in enumerate(ordered, 1)],
    )
    for i, post in enumerate(ordered, 1):
        set_committed_value(post, "queue_position", i)
        set_committed_value(post, "updated_at", now)


async def floating_posts(
    session: AsyncSession, *, channel: Channel, now: dt.datetime
) -> list[Post]:
    return list((await session.scalars(queries.reflowable(channel_id=channel.id, now=now))).all())


def shuffled(posts: Sequence[Post], rng: random.Random) -> list[Post]:
    out = list(posts)
    rng.shuffle(out)
    return out
