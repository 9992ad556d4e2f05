"""The real broadcaster publishing to Instagram through the adapter and contract fake, with
the post's image offered to Instagram at onthedot's signed public media address."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import InvalidInput
from onthedot.media import service as media_service
from onthedot.networks import Network
from onthedot.networks.instagram import create_adapter
from onthedot.networks.public_media import resolve_token
from onthedot.posts.models import AttemptOutcome, PostStatus
from onthedot.sandbox.fakes.instagram import InstagramFake, create_app
from tests.integration.networks.stage import OpenStage, S, Setup, Stage

pytestmark = pytest.mark.timeout(60)
IG = "17841400000000001"
PUBLIC = "https://onthedot.example"


def publishes(request: httpx.Request) -> bool:
    return request.url.path.endswith("/media_publish")


@pytest.fixture
async def ig(open_stage: OpenStage, clock: FrozenClock, tmp_path: Path) -> Stage[InstagramFake]:
    app, fake = create_app(clock)
    fake.facebook.add_user("u1", "Alice")
    token = fake.add_account("u1", IG, "alice.bakery", "p1")
    settings = Settings(
        public_url=PUBLIC,
        media_dir=tmp_path / "media",
        network_urls={"instagram": "https://graph.facebook.test"},
    )
    return await open_stage(
        Setup(
            Network.INSTAGRAM,
            fake,
            app,
            "@alice.bakery",
            {"access_token": token, "ig_user_id": IG, "page_id": "p1"},
            create_adapter,
            publishes=publishes,
            settings=settings,
        )
    )


async def post_with_image(ig: Stage[InstagramFake], at: dt.datetime, *texts: str) -> int:
    """A post whose every item carries an image: Instagram has no text-only posts."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"\xff\xd8\xff\xe0 a tiny jpeg"

    ledger = ig.ledger
    async with ledger.maker() as s, s.begin():
        stored = await media_service.store(
            s,
            member=ledger.team.owner.member,
            filename="bread.jpg",
            content_type="image/jpeg",
            chunks=chunks(),
            media_dir=ig.setup.settings.media_dir,
            max_bytes=10_000_000,
            now=ledger.clock.now(),
        )
    return await ig.post(at, *texts, media_ids=(stored.id,))


async def test_a_post_goes_out_with_its_image_at_a_public_address(
    ig: Stage[InstagramFake],
) -> None:
    due = ig.clock.now() + 30 * S
    post_id = await post_with_image(ig, due, "fresh bread #bakery")
    await ig.tick()
    # Prepared ahead: the container exists and is processed; nothing is published.
    assert ig.fake.published() == []
    (container,) = ig.fake.containers.values()
    url = container["url"]
    assert url.startswith(f"{PUBLIC}/media/public/")
    path, kind = resolve_token(
        url.rsplit("/", 1)[1], box=ig.box, media_dir=ig.setup.settings.media_dir, now=ig.clock.now()
    )
    assert kind == "image/jpeg" and path.read_bytes().startswith(b"\xff\xd8")
    ig.clock.set(due)
    await ig.broadcaster.settle()
    post, (item,), _ = await ig.read(post_id)
    (published,) = ig.fake.published()
    assert post.status == PostStatus.SENT
    assert item.network_id == published["id"] and published["created_at"] == due
    assert item.network_url == published["permalink"]


async def test_a_thread_is_refused_with_a_reason(ig: Stage[InstagramFake]) -> None:
    # Refused when it is created; the adapter refuses too, should one get through.
    due = ig.clock.now() + 10 * S
    with pytest.raises(InvalidInput, match="instagram has no threads"):
        await post_with_image(ig, due, "1/2", "2/2")
    await ig.broadcaster.pump()
    ig.clock.set(due)
    await ig.broadcaster.settle()
    assert ig.fake.published() == [] and ig.fake.containers == {}


async def test_a_lost_answer_is_found_not_posted_twice(ig: Stage[InstagramFake]) -> None:
    due = ig.clock.now() + 10 * S
    post_id = await post_with_image(ig, due, "said once")
    ig.lose_answers()
    await ig.broadcaster.pump()
    ig.clock.set(due)
    await ig.broadcaster.settle()
    ig.keep_answers()
    post, _, _ = await ig.read(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check
    assert post.retry_at is not None
    await ig.tick(post.retry_at)
    post, (item,), attempts = await ig.read(post_id)
    (published,) = ig.fake.published()
    assert post.status == PostStatus.SENT and item.network_id == published["id"]
    assert [a.outcome for a in attempts] == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]
