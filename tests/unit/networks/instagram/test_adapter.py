"""The Instagram adapter against the contract fake: every path the broadcaster can take."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from onthedot.networks import Network
from onthedot.networks.base import (
    AuthRevoked,
    MediaFile,
    Permanent,
    Published,
    RateLimited,
    Transient,
)
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.instagram.conftest import IG, Env
from tests.unit.networks.meta.helpers import T0, drive, item, job, media

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def photo(tmp_path: Path) -> MediaFile:
    return media(tmp_path, "a.jpg", "image/jpeg")


async def publish(env: Env, *items_: object) -> Published:
    the_job = job(Network.INSTAGRAM, env.creds, *items_)  # type: ignore[arg-type]
    prepared = await drive(env.clock, env.adapter.prepare(the_job))
    env.clock.set(max(env.clock.now(), T0))
    return await env.adapter.commit(the_job, prepared, the_job.items[0], None)


async def test_image_post(env: Env, photo: MediaFile) -> None:
    sent = await publish(env, item("hello #instagram", photo))
    (post,) = env.fake.published(IG)
    assert sent.network_id == post["id"] and post["caption"] == "hello #instagram"
    assert post["media_type"] == "IMAGE" and sent.url == post["permalink"]
    container = next(iter(env.fake.containers.values()))
    assert container["url"] == "https://onthedot.example/media/public/a.jpg"


async def test_carousel(env: Env, tmp_path: Path, photo: MediaFile) -> None:
    clip = media(tmp_path, "b.mp4", "video/mp4")
    sent = await publish(env, item("two", photo, clip))
    (post,) = env.fake.published()
    assert post["id"] == sent.network_id and post["media_type"] == "CAROUSEL_ALBUM"
    kinds = [env.fake.containers[c]["media_type"] for c in post["children"]]
    assert kinds == ["IMAGE", "VIDEO"]


async def test_video_is_a_reel_processed_during_prepare(env: Env, tmp_path: Path) -> None:
    env.fake.processing["REELS"] = 120
    clip = media(tmp_path, "clip.mp4", "video/mp4")
    the_job = job(Network.INSTAGRAM, env.creds, item("watch", clip))
    started = env.clock.now()
    prepared = await drive(env.clock, env.adapter.prepare(the_job))
    assert env.clock.now() - started >= dt.timedelta(seconds=120)
    sent = await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    (post,) = env.fake.published()
    assert post["id"] == sent.network_id and post["media_product_type"] == "REELS"


async def test_publishing_before_processing_ends_is_transient(env: Env, tmp_path: Path) -> None:
    env.fake.processing["REELS"] = 600
    clip = media(tmp_path, "clip.mp4", "video/mp4")
    the_job = job(Network.INSTAGRAM, env.creds, item("x", clip))
    with pytest.raises(Transient, match="still processing"):
        await drive(env.clock, env.adapter.prepare(the_job))


async def test_a_thread_is_refused(env: Env, photo: MediaFile) -> None:
    the_job = job(Network.INSTAGRAM, env.creds, item("1", photo), item("2", photo, position=1))
    with pytest.raises(Permanent, match="Instagram has no threads"):
        await env.adapter.prepare(the_job)
    assert env.fake.containers == {}


async def test_text_only_is_refused(env: Env) -> None:
    with pytest.raises(Permanent, match="needs at least one image or video"):
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("just text")))


async def test_rate_limited_by_buc_header(env: Env, photo: MediaFile) -> None:
    env.fake.facebook.throttle("p1", code=80002, minutes=20)
    with pytest.raises(RateLimited) as caught:
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("x", photo)))
    assert caught.value.scope == "account"
    assert caught.value.reset_at == env.clock.now() + dt.timedelta(minutes=20)


async def test_publishing_limit(env: Env, photo: MediaFile) -> None:
    env.fake.quota_total = 1
    await publish(env, item("first", photo))
    with pytest.raises(RateLimited, match="Instagram allows 1") as caught:
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("second", photo)))
    assert caught.value.reset_at == env.clock.now() + dt.timedelta(hours=1)


async def test_publishing_limit_at_publish_time(env: Env, photo: MediaFile) -> None:
    the_job = job(Network.INSTAGRAM, env.creds, item("x", photo))
    prepared = await env.adapter.prepare(the_job)
    env.fake.quota_total = 0
    with pytest.raises(RateLimited) as caught:
        await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    assert caught.value.code == "9/2207042"


async def test_page_token_does_not_expire_and_revoked_asks_to_reconnect(
    env: Env, photo: MediaFile
) -> None:
    env.fake.facebook.revoke(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="reconnect the channel"):
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("x", photo)))


async def test_expired_token_asks_to_reconnect(env: Env, photo: MediaFile) -> None:
    env.fake.facebook.expire(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="expired; reconnect"):
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("x", photo)))


async def test_content_rejected(env: Env, photo: MediaFile) -> None:
    env.fake.rejected["spam"] = "We restrict certain activity to protect our community."
    with pytest.raises(Permanent, match="protect our community"):
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("spam here", photo)))
    too_long = "x" * 2201
    with pytest.raises(Permanent, match="2,200"):
        await env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item(too_long, photo)))


async def test_failed_media_processing(env: Env, tmp_path: Path) -> None:
    env.fake.failing_media["bad.mp4"] = "2207026: unsupported video format"
    clip = media(tmp_path, "bad.mp4", "video/mp4")
    with pytest.raises(Permanent, match="unsupported video format"):
        await drive(
            env.clock, env.adapter.prepare(job(Network.INSTAGRAM, env.creds, item("x", clip)))
        )


async def test_crash_between_publishing_and_the_answer(env: Env, photo: MediaFile) -> None:
    lossy = LoseAnswers(
        httpx.ASGITransport(app=env.app), lose=lambda r: r.url.path.endswith("/media_publish")
    )
    adapter = env.adapter_over(lossy)
    the_job = job(Network.INSTAGRAM, env.creds, item("lost answer", photo))
    prepared = await adapter.prepare(the_job)
    env.clock.set(T0)
    with pytest.raises(Transient) as caught:
        await adapter.commit(the_job, prepared, the_job.items[0], None)
    assert caught.value.maybe_sent
    found = await env.adapter.find(the_job, the_job.items[0], None)
    (post,) = env.fake.published()
    assert found is not None and found.network_id == post["id"]
    assert found.url == post["permalink"]


async def test_find_proves_absence(env: Env, photo: MediaFile) -> None:
    await publish(env, item("another", photo))
    the_job = job(Network.INSTAGRAM, env.creds, item("never sent", photo))
    assert await env.adapter.find(the_job, the_job.items[0], None) is None


async def test_engagement(env: Env, photo: MediaFile) -> None:
    sent = await publish(env, item("liked", photo))
    env.fake.counts[sent.network_id] = {"like_count": 9, "comments_count": 4, "views": 300}
    got = await env.adapter.engagement(job(Network.INSTAGRAM, env.creds).account, sent.network_id)
    assert (got.likes, got.replies, got.impressions) == (9, 4, 300)
    assert got.reposts is None and got.clicks is None


async def test_media_without_a_public_address_is_refused_at_prepare(
    env: Env, photo: MediaFile
) -> None:
    from onthedot.config import Settings
    from onthedot.networks.credentials import MemoryCredentialStore
    from onthedot.networks.instagram import create_adapter
    from onthedot.networks.registry import NetworkContext

    context = NetworkContext(
        settings=Settings(public_url=None),
        clock=env.clock,
        store=MemoryCredentialStore(),
        http=env.http,
    )
    with pytest.raises(Permanent, match="ONTHEDOT_PUBLIC_URL"):
        await create_adapter(context).prepare(job(Network.INSTAGRAM, env.creds, item("x", photo)))
    assert env.fake.containers == {}
