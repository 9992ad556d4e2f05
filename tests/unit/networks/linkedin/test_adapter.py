"""The LinkedIn adapter against the contract fake: publishing, media, limits, tokens, and
finding a post again after a lost answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import (
    CLOCK_SLACK,
    AuthRevoked,
    CannotTell,
    Permanent,
    Prepared,
    RateLimited,
    Transient,
    Unsupported,
)
from onthedot.networks.linkedin.text import commentary
from onthedot.sandbox.fakes.linkedin import FakePost, LinkedInFake
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.helpers import drive
from tests.unit.networks.linkedin.conftest import SUB, World, build, make_job, media_file

pytestmark = pytest.mark.timeout(10)


async def test_text_post(world: World) -> None:
    job = make_job(world.connect(), "Hello (from) onthedot #launch")
    prepared = await drive(world.clock, world.adapter.prepare(job))
    published = await world.adapter.commit(job, prepared, job.items[0], None)
    (post,) = world.fake.posts_of(SUB)
    assert published.network_id == post.urn and post.urn.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{post.urn}/"
    assert post.commentary == r"Hello \(from\) onthedot {hashtag|\#|launch}"
    assert post.content is None


async def test_post_with_images(world: World, tmp_path: Path) -> None:
    images = tuple(media_file(tmp_path, f"p{i}.png", "image/png", 2000) for i in range(3))
    job = make_job(world.connect(), "three pictures", media=images)
    prepared = await drive(world.clock, world.adapter.prepare(job))
    # prepare waited until LinkedIn had processed every image.
    assert all(world.fake._status(m) == "AVAILABLE" for m in world.fake.media.values())
    published = await world.adapter.commit(job, prepared, job.items[0], None)
    (post,) = world.fake.posts_of(SUB)
    assert post.urn == published.network_id
    assert post.content is not None
    assert [i["id"] for i in post.content["multiImage"]["images"]] == prepared.items[0]


async def test_post_with_one_image(world: World, tmp_path: Path) -> None:
    image = media_file(tmp_path, "one.jpg", "image/jpeg", 500)
    job = make_job(world.connect(), "one picture", media=(image,))
    prepared = await drive(world.clock, world.adapter.prepare(job))
    await world.adapter.commit(job, prepared, job.items[0], None)
    (post,) = world.fake.posts_of(SUB)
    assert post.content == {"media": {"id": prepared.items[0][0]}}


async def test_video_is_uploaded_in_parts_and_processed_before_the_due_time(
    world: World, tmp_path: Path
) -> None:
    world.fake.part_size = 40_000
    world.fake.video_processing = dt.timedelta(seconds=30)
    video = media_file(tmp_path, "clip.mp4", "video/mp4", 100_000)
    job = make_job(world.connect(), "watch this", media=(video,))
    start = world.clock.now()
    prepared = await drive(world.clock, world.adapter.prepare(job))
    # Processing took 30 s of the frozen clock, polled every 5 s.
    assert world.clock.now() - start >= dt.timedelta(seconds=30)
    (media,) = world.fake.media.values()
    assert len(media.parts) == 3 and b"".join(media.received[i] for i in range(3)) == (
        video.path.read_bytes()
    )
    published = await world.adapter.commit(job, prepared, job.items[0], None)
    assert published.network_id.startswith("urn:li:ugcPost:")
    (post,) = world.fake.posts_of(SUB)
    assert post.content == {"media": {"id": media.urn}}


async def test_media_that_fails_processing_is_refused(world: World, tmp_path: Path) -> None:
    world.fake.failing_media = True
    video = media_file(tmp_path, "bad.mp4", "video/mp4", 80_000)
    job = make_job(world.connect(), "broken", media=(video,))
    with pytest.raises(Permanent, match=r"could not process bad\.mp4"):
        await drive(world.clock, world.adapter.prepare(job))


async def test_media_still_processing_after_the_wait_is_tried_again(
    world: World, tmp_path: Path
) -> None:
    world.fake.video_processing = dt.timedelta(hours=1)
    video = media_file(tmp_path, "slow.mp4", "video/mp4", 80_000)
    job = make_job(world.connect(), "slow", media=(video,))
    with pytest.raises(Transient, match="still processing") as caught:
        await drive(world.clock, world.adapter.prepare(job))
    assert caught.value.maybe_sent is False


async def test_a_thread_is_refused_because_linkedin_has_none(world: World) -> None:
    job = make_job(world.connect(), "first", "second")
    with pytest.raises(Permanent, match="LinkedIn has no threads") as caught:
        await world.adapter.prepare(job)
    assert caught.value.code == "threads_unsupported"
    with pytest.raises(Permanent, match="LinkedIn has no threads"):
        await world.adapter.commit(job, Prepared(), job.items[1], None)
    assert world.fake.posts == []


@pytest.mark.parametrize(("limit", "scope"), [("MEMBER", "account"), ("APPLICATION", "network")])
async def test_rate_limited_until_midnight_utc(world: World, limit: str, scope: str) -> None:
    job = make_job(world.connect())
    world.fake.rate_limited[SUB] = limit
    with pytest.raises(RateLimited) as caught:
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.scope == scope
    assert caught.value.reset_at == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    assert "2026-11-27 00:00 UTC" in str(caught.value)
    assert world.fake.posts == []


async def test_expired_token_is_refreshed_and_stored(world: World) -> None:
    world.fake.grant_refresh_tokens = True
    credentials = world.connect(refresh=True)
    world.fake.expire(credentials["access_token"])  # LinkedIn ended it early
    job = make_job(credentials)
    published = await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert published.network_id == world.fake.posts[0].urn
    stored = world.store.credentials[7]
    assert stored["access_token"] != credentials["access_token"]
    assert stored["refresh_token"] == credentials["refresh_token"]
    assert stored["refresh_token_expires_at"] == credentials["refresh_token_expires_at"]
    assert stored["author"] == credentials["author"]
    assert stored["expires_at"] == (world.clock.now() + dt.timedelta(days=60)).isoformat()


async def test_token_about_to_expire_is_refreshed_ahead(world: World) -> None:
    credentials = world.connect(refresh=True)
    world.clock.advance(dt.timedelta(days=60) - dt.timedelta(minutes=1))
    job = make_job(credentials)
    await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert world.store.replaced == 1
    assert world.store.credentials[7]["access_token"] != credentials["access_token"]


async def test_without_refresh_token_a_live_token_keeps_working(world: World) -> None:
    credentials = world.connect()
    # A minute before the end: nothing can renew it, and it still works.
    world.clock.advance(dt.timedelta(days=60) - dt.timedelta(minutes=1))
    job = make_job(credentials)
    await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert len(world.fake.posts) == 1 and world.store.replaced == 0


async def test_without_refresh_token_an_expired_token_asks_to_reconnect(world: World) -> None:
    credentials = world.connect()
    world.clock.advance(dt.timedelta(days=61))
    job = make_job(credentials)
    with pytest.raises(AuthRevoked, match=r"expired on 2027-01-25 06:00 UTC.*reconnect"):
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    with pytest.raises(AuthRevoked, match="reconnect the channel"):
        await world.adapter.refresh(job.account)


async def test_refresh_says_when_access_ends(world: World) -> None:
    job = make_job(world.connect())
    with pytest.raises(AuthRevoked) as caught:
        await world.adapter.refresh(job.account)
    message = str(caught.value)
    assert "expires on 2027-01-25 06:00 UTC" in message and "reconnect the channel" in message


async def test_revoked_token(world: World) -> None:
    world.fake.grant_refresh_tokens = True
    job = make_job(world.connect(refresh=True))
    world.fake.revoke(SUB)
    with pytest.raises(AuthRevoked, match=r"revoked onthedot's access.*Reconnect") as caught:
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.status == 401
    assert world.fake.posts == []


async def test_content_rejected_with_linkedins_reason(world: World) -> None:
    world.fake.rejected["forbidden"] = (400, "Commentary contains disallowed content")
    job = make_job(world.connect(), "a forbidden text")
    with pytest.raises(Permanent, match="Commentary contains disallowed content") as caught:
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert not isinstance(caught.value, AuthRevoked) and caught.value.status == 400


async def test_duplicate_is_refused_with_a_way_out(world: World) -> None:
    job = make_job(world.connect(), "same again")
    await world.adapter.commit(job, Prepared(), job.items[0], None)
    with pytest.raises(Permanent, match=r"duplicate.*change the text") as caught:
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.code == "DUPLICATE_POST"


async def test_crash_between_publishing_and_the_answer_is_found(
    clock: FrozenClock, fake: LinkedInFake
) -> None:
    lossy = LoseAnswers(
        httpx.ASGITransport(app=fake.app),
        lose=lambda r: r.method == "POST" and r.url.path == "/rest/posts",
    )
    world = build(clock, fake, lossy)
    try:
        job = make_job(world.connect(), "did it go out?")
        # An older post with the same text (and a picture) must not be taken for this one.
        fake.posts.append(
            FakePost(
                "urn:li:share:1",
                fake.members[SUB].urn,
                commentary(job.items[0].text),
                {"media": {"id": "urn:li:image:C4old"}},
                clock.now() - dt.timedelta(days=2),
            )
        )
        with pytest.raises(Transient) as caught:
            await world.adapter.commit(job, Prepared(), job.items[0], None)
        assert caught.value.maybe_sent is True and len(lossy.lost) == 1
        found = await world.adapter.find(job, job.items[0], None)
        assert found is not None and found.network_id == fake.posts[-1].urn
        assert found.network_id != "urn:li:share:1"
    finally:
        await world.http.aclose()


async def test_find_proves_absence(world: World) -> None:
    job = make_job(world.connect(), "never sent")
    other = make_job(world.connect(), "another text")
    await world.adapter.commit(other, Prepared(), other.items[0], None)
    assert await world.adapter.find(job, job.items[0], None) is None


async def test_find_pages_back_to_the_due_time(world: World) -> None:
    credentials = world.connect()
    job = make_job(credentials, "the one", due_at=world.clock.now())
    await world.adapter.commit(job, Prepared(), job.items[0], None)
    for i in range(120):
        world.clock.advance(1)
        filler = make_job(credentials, f"filler {i}")
        await world.adapter.commit(filler, Prepared(), filler.items[0], None)
    found = await world.adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id == world.fake.posts[0].urn
    late = make_job(credentials, "not there", due_at=world.clock.now() - CLOCK_SLACK)
    assert await world.adapter.find(late, late.items[0], None) is None


async def test_find_cannot_tell_without_read_permission(world: World) -> None:
    world.fake.members[SUB].scopes.discard("r_member_social")
    job = make_job(world.connect())
    with pytest.raises(CannotTell, match=r"r_member_social.*check Ada Lovelace"):
        await world.adapter.find(job, job.items[0], None)


async def test_engagement(world: World) -> None:
    job = make_job(world.connect())
    published = await world.adapter.commit(job, Prepared(), job.items[0], None)
    post = world.fake.posts[0]
    post.reactions = {"LIKE": 4, "PRAISE": 2}
    post.comments = 3
    engagement = await world.adapter.engagement(job.account, published.network_id)
    assert engagement.likes == 6 and engagement.replies == 3
    assert engagement.reposts is None and engagement.clicks is None


async def test_engagement_unsupported_without_read_permission(world: World) -> None:
    world.fake.members[SUB].scopes.discard("r_member_social")
    job = make_job(world.connect())
    published = await world.adapter.commit(job, Prepared(), job.items[0], None)
    with pytest.raises(Unsupported, match="r_member_social"):
        await world.adapter.engagement(job.account, published.network_id)


async def test_no_token_in_messages(world: World) -> None:
    credentials = world.connect()
    world.fake.revoke(SUB)
    job = make_job(credentials)
    with pytest.raises(AuthRevoked) as caught:
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    assert credentials["access_token"] not in str(caught.value)


def test_limits_are_honest() -> None:
    from onthedot.networks.linkedin import LinkedInAdapter

    assert LinkedInAdapter.idempotent is False
    assert LinkedInAdapter.limits.account_in_flight == 1
