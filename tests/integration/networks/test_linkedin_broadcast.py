"""The real broadcaster publishing to LinkedIn's contract fake through the LinkedIn adapter:
a post goes out on the dot and ends `sent` with LinkedIn's URN and address; a lost answer is
found again before anything is retried; a thread is refused, since LinkedIn has none."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import InvalidInput
from onthedot.networks import Network
from onthedot.networks.linkedin import create_adapter
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.linkedin import LinkedInFake
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

pytestmark = pytest.mark.timeout(30)

SUB = "abc123"


def creates_post(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path == "/rest/posts"


@pytest.fixture
async def stage(open_stage: OpenStage, clock: FrozenClock) -> Stage[LinkedInFake]:
    fake = LinkedInFake(clock)
    fake.add_member(SUB, "Ada Lovelace")
    settings = Settings(
        linkedin_client_id=fake.client_id,
        linkedin_client_secret=SecretStr(fake.client_secret),
    )
    return await open_stage(
        Setup(
            Network.LINKEDIN,
            fake,
            fake.app,
            "Ada Lovelace",
            fake.credentials(SUB),
            create_adapter,
            publishes=creates_post,
            settings=settings,
        )
    )


async def test_a_post_goes_out_on_the_dot(stage: Stage[LinkedInFake]) -> None:
    due = stage.clock.now() + 30 * S
    post_id = await stage.post(due, "On the dot, on LinkedIn")
    await stage.tick(stage.clock.now())
    assert stage.fake.posts == []  # prepared, not published early
    await stage.tick(due)
    post, (item,), (attempt,) = await stage.read(post_id)
    (published,) = stage.fake.posts
    assert post.status == PostStatus.SENT
    assert published.created_at == due
    assert item.network_id == published.urn
    assert item.network_url == f"https://www.linkedin.com/feed/update/{published.urn}/"
    assert attempt.outcome == AttemptOutcome.SENT and attempt.lateness_s == 0.0


async def test_a_lost_answer_is_found_and_not_sent_twice(stage: Stage[LinkedInFake]) -> None:
    due = stage.clock.now() + 5 * S
    post_id = await stage.post(due, "Did this reach LinkedIn?")
    await stage.tick(stage.clock.now())
    stage.lose_answers()
    await stage.tick(due)
    post, _, _ = await stage.read(post_id)
    # Waiting to retry, or already claimed again for it: either way, to be looked for first.
    assert post.status in (PostStatus.RETRY_WAIT, PostStatus.PREPARED) and post.needs_check
    assert len(stage.lossy.lost) == 1 and len(stage.fake.posts) == 1
    stage.keep_answers()
    # The first retry comes one to two seconds later.
    await stage.tick(due + 5 * S)
    post, (item,), attempts = await stage.read(post_id)
    assert post.status == PostStatus.SENT
    assert item.network_id == stage.fake.posts[0].urn and len(stage.fake.posts) == 1
    assert [a.outcome for a in attempts] == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]


async def test_a_thread_is_refused_with_the_reason(stage: Stage[LinkedInFake]) -> None:
    # Refused when it is created; the adapter refuses too, should one get through.
    due = stage.clock.now() + 5 * S
    with pytest.raises(InvalidInput, match="linkedin has no threads"):
        await stage.post(due, "first part", "second part")
    await stage.tick(stage.clock.now())
    await stage.tick(due)
    assert stage.fake.posts == []
