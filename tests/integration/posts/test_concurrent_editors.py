"""Two (and more) editors changing one queue at the same moment.

Each editor has its own connection and transaction. Whatever interleaving the database
allows, the queue must end with every post present once, in one slot each, with no slot
skipped: exactly the first N slots of the schedule, in queue order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.accounts.service import Member
from onthedot.channels import service as channels
from onthedot.channels.schedule import Schedule, next_slots, zone
from onthedot.clock import FrozenClock
from onthedot.db.engine import create_sessionmaker
from onthedot.errors import NotFound
from onthedot.networks import Network
from onthedot.posts import service as posts
from onthedot.posts.models import Post, PostStatus
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team

SCHEDULE = "daily 08:00, 12:00, 18:00"
EDITORS = 8
OPERATIONS_EACH = 6


async def test_concurrent_editors_never_share_lose_or_skip_a_slot(
    engine: AsyncEngine, team: Team, clock: FrozenClock
) -> None:
    maker = create_sessionmaker(engine)
    async with maker() as s, s.begin():
        channel = await channels.create_channel(
            s,
            member=team.owner.member,
            network=Network.SANDBOX,
            handle="@q",
            timezone="Europe/Paris",
            schedule=SCHEDULE,
            now=clock.now(),
        )
        seeded = await posts.create_posts(
            s,
            member=team.owner.member,
            channel_ids=[channel.id],
            items=[ItemInput("seed")],
            mode=Mode.QUEUE,
            at=None,
            now=clock.now(),
        )
    added: list[int] = [seeded[0].id]
    deleted: set[int] = set()
    start = asyncio.Event()

    async def editor(n: int) -> None:
        rng = random.Random(n)
        member = team.editor.member if n % 2 else team.owner.member
        await start.wait()
        for i in range(OPERATIONS_EACH):
            op = rng.choice(["queue", "queue", "next", "move", "delete", "shuffle"])
            # NotFound: another editor deleted the target first; a 404, nothing changed.
            with contextlib.suppress(NotFound):
                await one(op, member, rng, n, i)

    async def one(op: str, member: Member, rng: random.Random, n: int, i: int) -> None:
        target = None
        async with maker() as s, s.begin():
            if op in ("queue", "next"):
                mode = Mode.QUEUE if op == "queue" else Mode.NEXT
                (p,) = await posts.create_posts(
                    s,
                    member=member,
                    channel_ids=[channel.id],
                    items=[ItemInput(f"e{n}-{i}")],
                    mode=mode,
                    at=None,
                    now=clock.now(),
                )
                added.append(p.id)
            elif op == "shuffle":
                await posts.shuffle(
                    s, member=member, channel_id=channel.id, rng=rng, now=clock.now()
                )
            else:
                target = rng.choice([p for p in added if p not in deleted])
                if op == "move":
                    await posts.move(s, member=member, post_id=target, position=1, now=clock.now())
                else:
                    await posts.delete_post(s, member=member, post_id=target, now=clock.now())
        if op == "delete" and target is not None:
            deleted.add(target)  # only once committed

    tasks = [asyncio.create_task(editor(n), name=f"editor-{n}") for n in range(EDITORS)]
    start.set()
    await asyncio.gather(*tasks)

    async with maker() as s:
        rows = (
            await s.scalars(
                select(Post)
                .where(Post.channel_id == channel.id)
                .order_by(Post.queue_position, Post.id)
            )
        ).all()
    remaining = [p for p in added if p not in deleted]
    assert sorted(p.id for p in rows) == sorted(remaining), (
        f"a post was lost or duplicated: {sorted(p.id for p in rows)} vs {sorted(remaining)}"
    )
    assert all(p.status is PostStatus.SCHEDULED and not p.pinned for p in rows)
    positions = [p.queue_position for p in rows]
    assert len(set(positions)) == len(positions), "two posts share a queue position"
    expected = next_slots(Schedule.parse(SCHEDULE), zone("Europe/Paris"), clock.now(), len(rows))
    assert [p.due_at for p in rows] == expected, "slots shared, skipped, or out of queue order"
