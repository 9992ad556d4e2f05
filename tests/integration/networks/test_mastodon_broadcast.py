"""The real broadcaster publishing to a Mastodon channel, through the Mastodon adapter, over
the contract fake: a post ends `sent` with the status's id and address, a thread goes out in
order, and a post whose answer was lost is found on the account instead of sent twice."""

from __future__ import annotations

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.mastodon import MastodonAdapter
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.mastodon import FakeMastodon, create_app
from tests.integration.networks.stage import OpenStage, S, Setup, Stage


def statuses(request: httpx.Request) -> bool:
    return request.url.path == "/api/v1/statuses"


@pytest.fixture
async def world(open_stage: OpenStage, clock: FrozenClock) -> Stage[FakeMastodon]:
    fake = create_app(clock)
    credentials = {
        "instance": "https://mastodon.example",
        "access_token": fake.issue_token("alice", "read write"),
        "account_id": fake.accounts["alice"].id,
    }
    return await open_stage(
        Setup(
            Network.MASTODON,
            fake,
            fake.app,
            "@alice@mastodon.example",
            credentials,
            MastodonAdapter,
            publishes=statuses,
        )
    )


@pytest.fixture
async def lossy(world: Stage[FakeMastodon]) -> Stage[FakeMastodon]:
    # The first status is created, its answer lost: the crash between `publishing` and the
    # answer, seen from the instance.
    world.lose_answers(1)
    return world


async def test_a_post_goes_out_on_the_dot(world: Stage[FakeMastodon]) -> None:
    due = world.clock.now() + 30 * S
    post_id = await world.post(due, "Hello from onthedot")
    await world.run_until(due)
    post = await world.get(post_id)
    assert post.status == PostStatus.SENT
    (status,) = world.fake.posted()
    assert status.text == "Hello from onthedot" and status.created_at == due
    (item,) = await world.items(post_id)
    assert item.network_id == status.id
    assert item.network_url == f"https://mastodon.example/@alice/{status.id}"


async def test_a_thread_goes_out_in_order(world: Stage[FakeMastodon]) -> None:
    due = world.clock.now() + 30 * S
    post_id = await world.post(due, "1/3", "2/3", "3/3")
    await world.run_until(due)
    assert (await world.get(post_id)).status == PostStatus.SENT
    first, second, third = sorted(world.fake.posted(), key=lambda s: int(s.id))
    assert [first.text, second.text, third.text] == ["1/3", "2/3", "3/3"]
    assert first.in_reply_to_id is None
    assert second.in_reply_to_id == first.id and third.in_reply_to_id == second.id
    items = await world.items(post_id)
    assert [i.network_id for i in items] == [first.id, second.id, third.id]


async def test_a_lost_answer_is_not_sent_twice(lossy: Stage[FakeMastodon]) -> None:
    due = lossy.clock.now() + 30 * S
    post_id = await lossy.post(due, "exactly once")
    await lossy.run_until(due)
    post = await lossy.get(post_id)
    if post.status == PostStatus.RETRY_WAIT:
        assert post.retry_at is not None
        await lossy.tick(post.retry_at)
        post = await lossy.get(post_id)
    assert post.status == PostStatus.SENT
    (status,) = lossy.fake.posted()
    (item,) = await lossy.items(post_id)
    assert item.network_id == status.id
    assert (await lossy.outcomes(post_id))[0] == AttemptOutcome.RETRY


async def test_a_post_a_dead_broadcaster_sent_is_found_not_sent_again(
    world: Stage[FakeMastodon],
) -> None:
    due = world.clock.now() + 5 * S
    sent_id = await world.post(due, "went out")
    lost_id = await world.post(due + S, "never left")
    for post_id in (sent_id, lost_id):
        await world.force(
            post_id,
            status=PostStatus.PUBLISHING,
            attempt=1,
            claimed_by="dead",
            lease_until=due + 10 * S,
        )
    # The dead broadcaster's first call reached the instance; its answer never came back.
    world.clock.set(due)
    answer = await world.http.request(
        "POST",
        "https://mastodon.example/api/v1/statuses",
        service="mastodon.example",
        headers={"Authorization": f"Bearer {world.setup.credentials['access_token']}"},
        json={"status": "went out"},
    )
    assert answer.status_code == 200
    await world.tick(due + 11 * S)
    sent, lost = await world.get(sent_id), await world.get(lost_id)
    assert sent.status == lost.status == PostStatus.SENT
    assert sorted(s.text for s in world.fake.posted()) == ["never left", "went out"]
    assert (await world.items(sent_id))[0].network_id == answer.json()["id"]
    assert await world.outcomes(sent_id) == [AttemptOutcome.FOUND]
    assert await world.outcomes(lost_id) == [AttemptOutcome.NOT_FOUND, AttemptOutcome.SENT]
