"""The real broadcaster publishing to Threads through the Threads adapter and contract fake."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.networks import Network
from onthedot.networks.threads import create_adapter
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.threads import ThreadsFake, create_app
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

pytestmark = pytest.mark.timeout(60)


def publishes(request: httpx.Request) -> bool:
    return request.url.path.endswith("/threads_publish")


@pytest.fixture
async def tb(open_stage: OpenStage, clock: FrozenClock) -> Stage[ThreadsFake]:
    app, fake = create_app(clock)
    credentials = {
        "access_token": fake.add_user("31337", "alice", "Alice"),
        "user_id": "31337",
        "issued_at": clock.now().isoformat(),
        "expires_at": (clock.now() + dt.timedelta(days=60)).isoformat(),
    }
    settings = Settings(network_urls={"threads": "https://graph.threads.test"})
    return await open_stage(
        Setup(
            Network.THREADS,
            fake,
            app,
            "@alice",
            credentials,
            create_adapter,
            publishes=publishes,
            settings=settings,
        )
    )


async def test_a_post_goes_out_on_threads(tb: Stage[ThreadsFake]) -> None:
    due = tb.clock.now() + 30 * S
    post_id = await tb.post(due, "on the dot, on Threads")
    await tb.tick()
    # Prepared ahead: the container exists and is ready, nothing is published yet.
    assert tb.fake.published() == []
    assert len(tb.fake.containers) == 1
    tb.clock.set(due)
    await tb.broadcaster.settle()
    post, (item,), _ = await tb.read(post_id)
    (thread,) = tb.fake.published()
    assert post.status == PostStatus.SENT
    assert item.network_id == thread["id"] and thread["created_at"] == due
    assert item.network_url == thread["permalink"]


async def test_a_thread_goes_out_in_order(tb: Stage[ThreadsFake]) -> None:
    due = tb.clock.now() + 10 * S
    post_id = await tb.post(due, "1/3", "2/3", "3/3")
    await tb.broadcaster.pump()
    tb.clock.set(due)
    await tb.broadcaster.settle()
    post, items, _ = await tb.read(post_id)
    assert post.status == PostStatus.SENT
    threads = tb.fake.published()
    assert [t["text"] for t in threads] == ["1/3", "2/3", "3/3"]
    assert [i.network_id for i in items] == [t["id"] for t in threads]
    assert threads[0]["replied_to"] is None
    assert threads[1]["replied_to"] == {"id": threads[0]["id"]}
    assert threads[2]["replied_to"] == {"id": threads[1]["id"]}


async def test_a_lost_answer_is_found_not_posted_twice(tb: Stage[ThreadsFake]) -> None:
    due = tb.clock.now() + 10 * S
    post_id = await tb.post(due, "said once")
    tb.lose_answers()
    await tb.broadcaster.pump()
    tb.clock.set(due)
    await tb.broadcaster.settle()
    tb.keep_answers()
    post, _, _ = await tb.read(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check
    assert post.retry_at is not None
    await tb.tick(post.retry_at)
    post, (item,), attempts = await tb.read(post_id)
    (thread,) = tb.fake.published()
    assert post.status == PostStatus.SENT and item.network_id == thread["id"]
    assert [a.outcome for a in attempts] == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]
