"""The real broadcaster publishing to X through the X adapter and the X contract fake."""

from __future__ import annotations

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.networks import Network
from onthedot.networks.x import create_adapter
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.x import XFake, app_for
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

pytestmark = pytest.mark.timeout(60)


def tweets(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path == "/2/tweets"


@pytest.fixture
async def xb(open_stage: OpenStage, clock: FrozenClock) -> Stage[XFake]:
    fake = XFake(clock)
    user = fake.add_user("alice", "Alice")
    access, refresh, expires = fake.issue(user)
    credentials = {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": expires.isoformat(),
        "user_id": user.id,
    }
    settings = Settings(x_client_id=fake.client_id, network_urls={"x": "https://api.x.test"})
    return await open_stage(
        Setup(
            Network.X,
            fake,
            app_for(fake),
            "@alice",
            credentials,
            create_adapter,
            publishes=tweets,
            settings=settings,
        )
    )


async def test_a_post_goes_out_on_x(xb: Stage[XFake]) -> None:
    due = xb.clock.now() + 30 * S
    post_id = await xb.post(due, "on the dot, on X")
    await xb.tick()
    assert xb.fake.tweets == []
    xb.clock.set(due)
    await xb.broadcaster.settle()
    post, (item,), _ = await xb.read(post_id)
    (tweet,) = xb.fake.tweets
    assert post.status == PostStatus.SENT
    assert item.network_id == tweet.id and tweet.created_at == due
    assert item.network_url == f"https://x.com/alice/status/{tweet.id}"


async def test_a_thread_goes_out_in_order(xb: Stage[XFake]) -> None:
    due = xb.clock.now() + 10 * S
    post_id = await xb.post(due, "1/3", "2/3", "3/3")
    await xb.broadcaster.pump()
    xb.clock.set(due)
    await xb.broadcaster.settle()
    post, items, _ = await xb.read(post_id)
    assert post.status == PostStatus.SENT
    tweets = xb.fake.tweets
    assert [t.text for t in tweets] == ["1/3", "2/3", "3/3"]
    assert [i.network_id for i in items] == [t.id for t in tweets]
    assert tweets[0].reply_to is None
    assert tweets[1].reply_to == tweets[0].id and tweets[2].reply_to == tweets[1].id


async def test_a_lost_answer_is_found_not_posted_twice(xb: Stage[XFake]) -> None:
    due = xb.clock.now() + 10 * S
    post_id = await xb.post(due, "said once")
    xb.lose_answers()
    await xb.broadcaster.pump()
    xb.clock.set(due)
    await xb.broadcaster.settle()
    xb.keep_answers()
    post, _, _ = await xb.read(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check
    assert post.retry_at is not None
    await xb.tick(post.retry_at)
    post, (item,), attempts = await xb.read(post_id)
    (tweet,) = xb.fake.tweets
    assert post.status == PostStatus.SENT and item.network_id == tweet.id
    assert [a.outcome for a in attempts] == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]
