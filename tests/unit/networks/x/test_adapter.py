"""The X adapter against the X contract fake: posts, media, threads, limits, tokens, refusals,
and finding a post whose answer was lost."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import (
    AuthRevoked,
    CannotTell,
    MediaFile,
    Permanent,
    Prepared,
    RateLimited,
    Transient,
)
from onthedot.networks.http import HttpClient, UnsafeAddress
from onthedot.networks.x import create_adapter
from onthedot.networks.x.adapter import comparable
from onthedot.sandbox.fakes.transport import LoseAnswers
from onthedot.sandbox.fakes.x import Tweet, XFake, app_for
from tests.unit.networks.helpers import drive
from tests.unit.networks.x.conftest import XWorld, build

pytestmark = pytest.mark.timeout(30)
S = dt.timedelta(seconds=1)


async def test_text_post(x: XWorld) -> None:
    job = x.job("Hello from onthedot")
    prepared = await x.adapter.prepare(job)
    published = await x.adapter.commit(job, prepared, job.items[0], None)
    (tweet,) = x.fake.posts_by(x.user)
    assert published.network_id == tweet.id and tweet.text == "Hello from onthedot"
    assert published.url == f"https://x.com/alice/status/{tweet.id}"
    assert published.status == 201
    assert published.rate is not None and published.rate.remaining == 99
    assert x.adapter.idempotent is False


async def test_post_with_images(x: XWorld, image: MediaFile) -> None:
    job = x.job("two cats", media=(image, image))
    prepared = await x.adapter.prepare(job)
    media_ids = prepared.items[0]
    assert len(media_ids) == 2
    calls_before_due = len(x.fake.calls)
    published = await x.adapter.commit(job, prepared, job.items[0], None)
    (tweet,) = x.fake.posts_by(x.user)
    assert tweet.media_ids == media_ids and published.network_id == tweet.id
    # At the due time only the post itself goes out; the uploads were done ahead.
    assert x.fake.calls[calls_before_due:] == [("POST", "/2/tweets")]


async def test_media_x_dropped_is_uploaded_again_at_the_due_time(
    x: XWorld, image: MediaFile
) -> None:
    job = x.job("a cat", media=(image,))
    prepared = await x.adapter.prepare(job)
    x.fake.media.clear()  # expired or dropped by X since preparation
    await x.adapter.commit(job, prepared, job.items[0], None)
    (tweet,) = x.fake.posts_by(x.user)
    assert tweet.media_ids and tweet.media_ids != prepared.items[0]


async def test_concurrent_posts_renew_a_single_use_refresh_token_once(x: XWorld) -> None:
    x.fake.expire(x.credentials["access_token"])
    jobs = [x.job(f"post {i}", post_id=50 + i) for i in range(3)]
    published = await asyncio.gather(
        *(x.adapter.commit(job, Prepared(), job.items[0], None) for job in jobs)
    )
    assert len({p.network_id for p in published}) == 3
    assert x.fake.calls.count(("POST", "/2/oauth2/token")) == 1
    assert x.store.replaced == 1


async def test_video_is_processed_during_preparation(x: XWorld, video: MediaFile) -> None:
    job = x.job("a clip", media=(video,))
    started = x.clock.now()
    prepared = await drive(x.clock, x.adapter.prepare(job))
    # Initialize, three 4 MiB chunks, finalize, then STATUS until X finished (30 s).
    paths = [path for _, path in x.fake.calls]
    (media_id,) = prepared.items[0]
    assert paths.count(f"/2/media/upload/{media_id}/append") == 3
    assert paths.count("/2/media/upload") >= 2  # STATUS polls
    assert x.clock.now() - started >= x.fake.processing_time
    assert x.fake.media[media_id].category == "tweet_video"
    published = await x.adapter.commit(job, prepared, job.items[0], None)
    assert x.fake.posts_by(x.user)[0].media_ids == [media_id]
    assert published.network_id


async def test_video_processing_failure_is_permanent(x: XWorld, video: MediaFile) -> None:
    x.fake.processing_failure = "Unsupported video format"
    with pytest.raises(Permanent, match=r"could not process clip\.mp4: Unsupported video format"):
        await drive(x.clock, x.adapter.prepare(x.job("a clip", media=(video,))))


async def test_thread_items_reply_to_each_other(x: XWorld) -> None:
    job = x.job("part 1", "part 2", "part 3")
    prepared = await x.adapter.prepare(job)
    previous = None
    for item in job.items:
        previous = await x.adapter.commit(job, prepared, item, previous)
    first, second, third = x.fake.posts_by(x.user)
    assert [t.text for t in (first, second, third)] == ["part 1", "part 2", "part 3"]
    assert first.reply_to is None
    assert second.reply_to == first.id and third.reply_to == second.id


async def test_rate_limited_until_the_window_resets(x: XWorld) -> None:
    until = x.clock.now() + dt.timedelta(minutes=12)
    x.fake.limit(x.user, until)
    job = x.job("too soon")
    with pytest.raises(RateLimited) as caught:
        await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.reset_at == until.replace(microsecond=0)
    assert caught.value.scope == "account" and caught.value.status == 429
    assert "@alice" in caught.value.message
    assert x.fake.posts_by(x.user) == []


async def test_daily_post_cap_per_user_and_per_app(clock: FrozenClock) -> None:
    fake = XFake(clock, user_daily_cap=1)
    fake.add_user("alice")
    world = build(clock, httpx.ASGITransport(app=app_for(fake)), fake)
    first = world.job("one")
    published = await world.adapter.commit(first, Prepared(), first.items[0], None)
    assert published.rate is not None and published.rate.remaining == 0
    assert published.rate.reset_at == (clock.now() + dt.timedelta(hours=24)).replace(microsecond=0)
    clock.advance(60)
    second = world.job("two")
    with pytest.raises(RateLimited, match="daily post limit") as caught:
        await world.adapter.commit(second, Prepared(), second.items[0], None)
    assert caught.value.scope == "account"
    assert caught.value.reset_at == published.rate.reset_at

    fake.user_daily_cap, fake.app_daily_cap = None, 0
    with pytest.raises(RateLimited, match="onthedot's X app") as app_caught:
        await world.adapter.commit(second, Prepared(), second.items[0], None)
    assert app_caught.value.scope == "network"
    await world.context.http.aclose()


async def test_expired_token_is_refreshed_and_stored(x: XWorld) -> None:
    old = dict(x.credentials)
    x.fake.expire(old["access_token"])
    job = x.job("after expiry")
    published = await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert published.network_id
    stored = x.store.credentials[7]
    assert stored["access_token"] != old["access_token"]
    assert stored["refresh_token"] != old["refresh_token"]
    assert stored["user_id"] == x.user.id
    assert stored["expires_at"] == (x.clock.now() + dt.timedelta(hours=2)).isoformat()
    # X's refresh tokens are single-use: the old one is gone.
    assert old["refresh_token"] not in x.fake.refresh
    assert x.store.replaced == 1


async def test_token_about_to_expire_is_refreshed_ahead(x: XWorld) -> None:
    x.clock.advance(dt.timedelta(hours=2) - dt.timedelta(minutes=3))
    job = x.job("just in time")
    await x.adapter.prepare(job)
    assert ("POST", "/2/oauth2/token") in x.fake.calls
    assert x.store.replaced == 1
    # The renewed token is the one used, with no 401 on the way.
    await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert x.fake.calls.count(("POST", "/2/oauth2/token")) == 1


async def test_revoked_token_says_reconnect(x: XWorld) -> None:
    x.fake.revoke_user(x.user)
    job = x.job("nobody home")
    with pytest.raises(AuthRevoked, match="reconnect the channel") as caught:
        await x.adapter.commit(job, Prepared(), job.items[0], None)
    for secret in (x.credentials["access_token"], x.credentials["refresh_token"]):
        assert secret not in str(caught.value)


async def test_suspended_account_pauses_the_channel(x: XWorld) -> None:
    x.user.suspended = True
    job = x.job("hello?")
    with pytest.raises(AuthRevoked, match="suspended or locked @alice"):
        await x.adapter.commit(job, Prepared(), job.items[0], None)


async def test_content_rejected_with_xs_reason(x: XWorld) -> None:
    reason = "You are not permitted to perform this action."
    x.fake.reject(lambda text: "spam" in text, reason)
    job = x.job("buy spam now")
    with pytest.raises(Permanent, match=f"X refused the post: {reason}") as caught:
        await x.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.status == 403 and not isinstance(caught.value, AuthRevoked)


async def test_a_true_duplicate_fails_with_the_reason(x: XWorld) -> None:
    job = x.job("same words")
    await x.adapter.commit(job, Prepared(), job.items[0], None)
    x.clock.advance(dt.timedelta(hours=1))
    again = x.job("same words", post_id=42)
    with pytest.raises(Permanent, match="does not allow a duplicate") as caught:
        await x.adapter.commit(again, Prepared(), again.items[0], None)
    assert caught.value.code == "duplicate"


async def test_reply_to_a_deleted_post_is_permanent(x: XWorld) -> None:
    job = x.job("part 1", "part 2")
    first = await x.adapter.commit(job, Prepared(), job.items[0], None)
    x.fake.tweets.clear()
    with pytest.raises(Permanent, match="deleted or not visible"):
        await x.adapter.commit(job, Prepared(), job.items[1], first)


def lose_posts(fake: XFake, losing: list[bool] | None = None) -> LoseAnswers:
    """Lose the answers to POST /2/tweets while `losing[0]` holds."""
    flag = losing if losing is not None else [True]
    return LoseAnswers(
        httpx.ASGITransport(app=app_for(fake)),
        lose=lambda r: flag[0] and r.method == "POST" and r.url.path == "/2/tweets",
    )


async def test_lost_answer_then_find_finds_the_post(
    clock: FrozenClock, fake: XFake, image: MediaFile
) -> None:
    transport = lose_posts(fake)
    world = build(clock, transport, fake)
    text = "Read https://example.com/a/long/path?x=1 & tell me <what> you think"
    job = world.job(text, "and a reply", media=(image,))
    prepared = await world.adapter.prepare(job)
    clock.advance(2)
    with pytest.raises(Transient) as caught:
        await world.adapter.commit(job, prepared, job.items[0], None)
    assert caught.value.maybe_sent
    (tweet,) = fake.posts_by(world.user)
    clock.advance(30)
    found = await world.adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id == tweet.id
    # The reply was never sent: provably absent.
    assert await world.adapter.find(job, job.items[1], found) is None
    await world.context.http.aclose()


async def test_retry_after_a_lost_answer_meets_the_duplicate_and_counts_it_sent(
    clock: FrozenClock, fake: XFake
) -> None:
    losing = [True]
    world = build(clock, lose_posts(fake, losing), fake)
    job = world.job("exactly once")
    with pytest.raises(Transient):
        await world.adapter.commit(job, Prepared(), job.items[0], None)
    losing[0] = False
    published = await world.adapter.commit(job, Prepared(), job.items[0], None)
    (tweet,) = fake.posts_by(world.user)
    assert published.network_id == tweet.id
    await world.context.http.aclose()


async def test_find_returns_none_when_the_post_is_not_there(x: XWorld) -> None:
    older = x.job("an older post", due_at=x.clock.now())
    await x.adapter.commit(older, Prepared(), older.items[0], None)
    x.clock.advance(dt.timedelta(hours=1))
    job = x.job("an older post", post_id=42)
    assert await x.adapter.find(job, job.items[0], None) is None


async def test_find_cannot_tell_past_its_pages(x: XWorld) -> None:
    now = x.clock.now()
    for i in range(501):
        x.fake.tweets.append(Tweet(x.fake.next_id(), x.user.id, f"noise {i}", now, None, []))
    job = x.job("needle")
    with pytest.raises(CannotTell, match=r"check @alice on x\.com"):
        await x.adapter.find(job, job.items[0], None)


async def test_find_reads_long_posts_from_note_tweet(x: XWorld) -> None:
    text = "long " * 80
    job = x.job(text)
    published = await x.adapter.commit(job, Prepared(), job.items[0], None)
    found = await x.adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id == published.network_id


def test_texts_compare_as_x_shows_them() -> None:
    ours = "Tom & Jerry <3 https://example.com/very/long/path"
    shown = "Tom &amp; Jerry &lt;3 https://t.co/abcdefghij https://t.co/mmmmmmmmmm"
    assert comparable(ours) == comparable(shown)
    assert comparable("a https://x.org b") == comparable("a https://t.co/1234567890 b")
    assert comparable("a") != comparable("b")


async def test_engagement(x: XWorld) -> None:
    job = x.job("count me")
    published = await x.adapter.commit(job, Prepared(), job.items[0], None)
    (tweet,) = x.fake.posts_by(x.user)
    tweet.likes, tweet.retweets, tweet.replies, tweet.quotes, tweet.impressions = 5, 2, 1, 3, 400
    got = await x.adapter.engagement(job.account, published.network_id)
    assert (got.likes, got.reposts, got.replies, got.quotes, got.impressions) == (5, 2, 1, 3, 400)
    assert got.clicks is None
    x.fake.tweets.clear()
    with pytest.raises(Permanent, match="probably deleted"):
        await x.adapter.engagement(job.account, published.network_id)


async def test_private_api_address_is_refused(x: XWorld) -> None:
    settings = x.context.settings.model_copy(
        update={"network_urls": {"x": "http://169.254.169.254"}}
    )
    context = type(x.context)(settings=settings, clock=x.clock, store=x.store, http=HttpClient())
    adapter = create_adapter(context)
    job = x.job("to the metadata service")
    with pytest.raises(UnsafeAddress, match="link-local"):
        await adapter.commit(job, Prepared(), job.items[0], None)
    await context.http.aclose()
