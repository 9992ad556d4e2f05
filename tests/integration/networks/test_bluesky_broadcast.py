"""The real broadcaster publishing to a Bluesky channel, through the Bluesky adapter, over the
contract fake: a post ends `sent` with its record's address, a thread goes out in order, each
item replying to the one before, and a post whose answer was lost is found by its record key
instead of being sent twice."""

from __future__ import annotations

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.bluesky import BlueskyAdapter, BlueskyConnector
from onthedot.networks.http import HttpClient
from onthedot.networks.registry import NetworkContext
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.bluesky import BlueskyFake
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

HANDLE = "alice.bsky.test"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


def adapter(context: NetworkContext) -> BlueskyAdapter:
    return BlueskyAdapter(
        http=context.http,
        clock=context.clock,
        store=context.store,
        video_service="https://video.bsky.test",
    )


def creates_record(request: httpx.Request) -> bool:
    return request.url.path.endswith("/com.atproto.repo.createRecord")


@pytest.fixture
async def world(open_stage: OpenStage, clock: FrozenClock) -> Stage[BlueskyFake]:
    fake = BlueskyFake(clock)
    fake.add_account(HANDLE, APP_PASSWORD)
    http = HttpClient(transport=httpx.ASGITransport(app=fake.app))
    try:
        connector = BlueskyConnector(http=http, clock=clock, entryway="https://bsky.test")
        connected = await connector.login(
            options={"identifier": HANDLE, "app_password": APP_PASSWORD}
        )
    finally:
        await http.aclose()
    return await open_stage(
        Setup(
            Network.BLUESKY,
            fake,
            fake.app,
            connected.handle,
            connected.credentials,
            adapter,
            publishes=creates_record,
        )
    )


@pytest.fixture
async def lossy(world: Stage[BlueskyFake]) -> Stage[BlueskyFake]:
    world.lose_answers(1)
    return world


async def test_a_post_goes_out_on_the_dot(world: Stage[BlueskyFake]) -> None:
    due = world.clock.now() + 30 * S
    post_id = await world.post(due, "Hello from onthedot #onthedot")
    await world.run_until(due)
    assert (await world.get(post_id)).status == PostStatus.SENT
    ((rkey, record),) = world.fake.posts(HANDLE)
    assert record["text"] == "Hello from onthedot #onthedot"
    assert record["createdAt"] == "2026-11-26T06:00:30.000Z"
    did = world.fake.handles[HANDLE]
    (item,) = await world.items(post_id)
    assert item.network_id == f"at://{did}/app.bsky.feed.post/{rkey}"
    assert item.network_url == f"https://bsky.app/profile/{did}/post/{rkey}"


async def test_a_thread_goes_out_in_order(world: Stage[BlueskyFake]) -> None:
    due = world.clock.now() + 30 * S
    post_id = await world.post(due, "1/3", "2/3", "3/3")
    await world.run_until(due)
    assert (await world.get(post_id)).status == PostStatus.SENT
    (k1, r1), (k2, r2), (k3, r3) = world.fake.posts(HANDLE)
    assert [r1["text"], r2["text"], r3["text"]] == ["1/3", "2/3", "3/3"]
    items = await world.items(post_id)
    uris = [i.network_id for i in items]
    assert [u.rsplit("/", 1)[1] for u in uris if u] == [k1, k2, k3]
    assert "reply" not in r1
    assert r2["reply"]["parent"]["uri"] == uris[0] and r2["reply"]["root"]["uri"] == uris[0]
    assert r3["reply"]["parent"]["uri"] == uris[1] and r3["reply"]["root"]["uri"] == uris[0]


async def test_a_lost_answer_is_found_not_sent_twice(lossy: Stage[BlueskyFake]) -> None:
    due = lossy.clock.now() + 30 * S
    post_id = await lossy.post(due, "exactly once")
    await lossy.run_until(due)
    post = await lossy.get(post_id)
    if post.status == PostStatus.RETRY_WAIT:
        assert post.retry_at is not None and post.needs_check
        await lossy.tick(post.retry_at)
        post = await lossy.get(post_id)
    assert post.status == PostStatus.SENT
    assert len(lossy.fake.posts(HANDLE)) == 1
    assert await lossy.outcomes(post_id) == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]
    (item,) = await lossy.items(post_id)
    assert item.network_id is not None and item.network_id.startswith("at://")
