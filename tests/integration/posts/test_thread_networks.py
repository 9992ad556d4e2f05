"""A thread is refused at creation on networks without threads, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onthedot.clock import FrozenClock
from onthedot.errors import InvalidInput
from onthedot.networks import Network
from onthedot.networks.limits import takes_threads
from onthedot.posts import service as posts
from onthedot.posts.models import Post
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team
from tests.integration.posts.helpers import Maker, make_channel


@pytest.mark.parametrize("network", [Network.LINKEDIN, Network.FACEBOOK, Network.INSTAGRAM])
async def test_a_thread_on_a_network_without_threads_is_refused(
    sessionmaker: Maker, team: Team, clock: FrozenClock, network: Network
) -> None:
    assert not takes_threads(network)
    channel = await make_channel(sessionmaker, team, clock, network=network, handle="acme")
    with pytest.raises(InvalidInput, match=f"{network.value} has no threads"):
        async with sessionmaker() as s, s.begin():
            await posts.create_posts(
                s,
                member=team.owner.member,
                channel_ids=[channel],
                items=[ItemInput("one"), ItemInput("two")],
                mode=Mode.QUEUE,
                at=None,
                now=clock.now(),
            )
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Post)) == 0


@pytest.mark.parametrize("network", [Network.MASTODON, Network.BLUESKY, Network.THREADS, Network.X])
async def test_networks_with_threads_take_them(
    sessionmaker: Maker, team: Team, clock: FrozenClock, network: Network
) -> None:
    channel = await make_channel(sessionmaker, team, clock, network=network, handle="@acme")
    async with sessionmaker() as s, s.begin():
        (post,) = await posts.create_posts(
            s,
            member=team.owner.member,
            channel_ids=[channel],
            items=[ItemInput("one"), ItemInput("two")],
            mode=Mode.QUEUE,
            at=None,
            now=clock.now(),
        )
    assert post.id
