"""Making channels and posts for the queue's tests, through the services as the API does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.posts import service as posts
from onthedot.posts.models import Post
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team

Maker = async_sessionmaker[AsyncSession]
SCHEDULE = "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"


async def make_channel(maker: Maker, team: Team, clock: FrozenClock, **kw: object) -> int:
    args: dict[str, object] = {
        "network": Network.MASTODON,
        "handle": "@a@example.social",
        "timezone": "Europe/Berlin",
        "schedule": SCHEDULE,
    }
    args.update(kw)
    async with maker() as s, s.begin():
        ch = await channels.create_channel(s, member=team.owner.member, now=clock.now(), **args)  # type: ignore[arg-type]
        return ch.id


async def add_post(
    maker: Maker,
    team: Team,
    clock: FrozenClock,
    channel_id: int,
    text: str,
    mode: Mode = Mode.QUEUE,
    at: dt.datetime | None = None,
) -> Post:
    async with maker() as s, s.begin():
        (post,) = await posts.create_posts(
            s,
            member=team.owner.member,
            channel_ids=[channel_id],
            items=[ItemInput(text)],
            mode=mode,
            at=at,
            now=clock.now(),
        )
        return post
