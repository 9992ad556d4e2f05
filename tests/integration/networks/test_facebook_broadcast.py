"""The real broadcaster publishing to a Facebook Page through the adapter and contract fake."""

from __future__ import annotations

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import InvalidInput
from onthedot.networks import Network
from onthedot.networks.facebook import create_adapter
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.facebook import FacebookFake, create_app
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

pytestmark = pytest.mark.timeout(60)
PAGE = "104000000000001"


def feed_posts(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/feed")


@pytest.fixture
async def fb(open_stage: OpenStage, clock: FrozenClock) -> Stage[FacebookFake]:
    app, fake = create_app(clock)
    fake.add_user("u1", "Alice")
    credentials = {"access_token": fake.add_page("u1", PAGE, "Alice's Bakery"), "page_id": PAGE}
    settings = Settings(network_urls={"facebook": "https://graph.facebook.test"})
    return await open_stage(
        Setup(
            Network.FACEBOOK,
            fake,
            app,
            "Alice's Bakery",
            credentials,
            create_adapter,
            publishes=feed_posts,
            settings=settings,
        )
    )


async def test_a_post_goes_out_on_the_page(fb: Stage[FacebookFake]) -> None:
    due = fb.clock.now() + 30 * S
    post_id = await fb.post(due, "on the dot, on Facebook")
    await fb.tick()
    assert fb.fake.published() == []
    fb.clock.set(due)
    await fb.broadcaster.settle()
    post, (item,), _ = await fb.read(post_id)
    (published,) = fb.fake.published()
    assert post.status == PostStatus.SENT
    assert item.network_id == published["id"] and published["created_at"] == due
    assert item.network_url == published["permalink_url"]


async def test_a_thread_is_refused_with_a_reason(fb: Stage[FacebookFake]) -> None:
    # Refused when it is created; the adapter refuses too, should one get through.
    due = fb.clock.now() + 10 * S
    with pytest.raises(InvalidInput, match="facebook has no threads"):
        await fb.post(due, "1/2", "2/2")
    await fb.broadcaster.pump()
    fb.clock.set(due)
    await fb.broadcaster.settle()
    assert fb.fake.published() == []


async def test_a_lost_answer_is_found_not_posted_twice(fb: Stage[FacebookFake]) -> None:
    due = fb.clock.now() + 10 * S
    post_id = await fb.post(due, "said once")
    fb.lose_answers()
    await fb.broadcaster.pump()
    fb.clock.set(due)
    await fb.broadcaster.settle()
    fb.keep_answers()
    post, _, _ = await fb.read(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check
    assert post.retry_at is not None
    await fb.tick(post.retry_at)
    post, (item,), attempts = await fb.read(post_id)
    (published,) = fb.fake.published()
    assert post.status == PostStatus.SENT and item.network_id == published["id"]
    assert [a.outcome for a in attempts] == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]
