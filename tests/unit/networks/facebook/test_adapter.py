"""The Facebook Pages adapter against the contract fake: every path the broadcaster can take."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from onthedot.networks import Network
from onthedot.networks.base import (
    AuthRevoked,
    Permanent,
    Published,
    RateLimited,
    Transient,
)
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.facebook.conftest import PAGE, Env
from tests.unit.networks.meta.helpers import T0, item, job, media

pytestmark = pytest.mark.timeout(10)


async def publish(env: Env, *items_: object) -> Published:
    the_job = job(Network.FACEBOOK, env.creds, *items_, handle="Alice's Bakery")  # type: ignore[arg-type]
    prepared = await env.adapter.prepare(the_job)
    env.clock.set(max(env.clock.now(), T0))
    return await env.adapter.commit(the_job, prepared, the_job.items[0], None)


async def test_text_post(env: Env) -> None:
    sent = await publish(env, item("fresh bread at 8"))
    (post,) = env.fake.published(PAGE)
    assert sent.network_id == post["id"] and post["message"] == "fresh bread at 8"
    assert sent.url == post["permalink_url"]
    assert post["created_at"] == T0


async def test_photos_are_uploaded_ahead_and_attached(env: Env, tmp_path: Path) -> None:
    a, b = media(tmp_path, "a.jpg", "image/jpeg"), media(tmp_path, "b.png", "image/png")
    the_job = job(Network.FACEBOOK, env.creds, item("two photos", a, b))
    prepared = await env.adapter.prepare(the_job)
    assert len(env.fake.photos) == 2 and env.fake.published() == []
    sent = await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    (post,) = env.fake.published()
    assert post["id"] == sent.network_id
    assert post["photos"] == prepared.items[0]["photos"]
    assert all(p["used"] and p["size"] == 2048 for p in env.fake.photos.values())


async def test_video_is_uploaded_in_chunks_and_finished_at_commit(env: Env, tmp_path: Path) -> None:
    clip = media(tmp_path, "clip.mp4", "video/mp4", size=3000)  # three chunks in the fake
    the_job = job(Network.FACEBOOK, env.creds, item("our oven", clip))
    prepared = await env.adapter.prepare(the_job)
    (video,) = env.fake.videos.values()
    assert len(video["received"]) == 3000 and not video["done"]
    assert env.fake.published() == []
    sent = await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    (post,) = env.fake.published()
    assert post["message"] == "our oven" and post["video_id"] == sent.network_id
    assert sent.url == f"https://www.facebook.com/{PAGE}/videos/{sent.network_id}/"


async def test_a_thread_is_refused(env: Env) -> None:
    the_job = job(Network.FACEBOOK, env.creds, item("1"), item("2", position=1))
    with pytest.raises(Permanent, match="no threads"):
        await env.adapter.prepare(the_job)


async def test_rate_limited_by_page_usage(env: Env) -> None:
    env.fake.throttle(PAGE, code=32, minutes=8, header="page")
    throttled_at = env.clock.now()
    with pytest.raises(RateLimited) as caught:
        await publish(env, item("x"))
    assert caught.value.scope == "account"
    assert caught.value.reset_at == throttled_at + dt.timedelta(minutes=8)


async def test_rate_limited_by_buc(env: Env) -> None:
    env.fake.throttle(PAGE, code=80001, minutes=30)
    throttled_at = env.clock.now()
    with pytest.raises(RateLimited) as caught:
        await publish(env, item("x"))
    assert caught.value.reset_at == throttled_at + dt.timedelta(minutes=30)


async def test_revoked_and_expired_tokens_ask_to_reconnect(env: Env) -> None:
    env.fake.revoke(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="reconnect the channel"):
        await publish(env, item("x"))
    env.fake.tokens[env.creds["access_token"]].revoked = False
    env.fake.expire(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="expired; reconnect"):
        await publish(env, item("x"))


async def test_another_pages_token_lacks_permission(env: Env) -> None:
    other = env.fake.add_page("u1", "105", "Other")
    env.creds["access_token"] = other
    with pytest.raises(AuthRevoked, match="permission"):
        await publish(env, item("x"))


async def test_content_rejected(env: Env) -> None:
    env.fake.rejected["buy now"] = "Your content couldn't be shared, because it looks like spam"
    with pytest.raises(Permanent, match="looks like spam"):
        await publish(env, item("buy now!!!"))


async def test_crash_between_publishing_and_the_answer(env: Env) -> None:
    lossy = LoseAnswers(
        httpx.ASGITransport(app=env.app), lose=lambda r: r.url.path.endswith("/feed")
    )
    adapter = env.adapter_over(lossy)
    the_job = job(Network.FACEBOOK, env.creds, item("lost answer"))
    prepared = await adapter.prepare(the_job)
    env.clock.set(T0)
    with pytest.raises(Transient) as caught:
        await adapter.commit(the_job, prepared, the_job.items[0], None)
    assert caught.value.maybe_sent
    found = await env.adapter.find(the_job, the_job.items[0], None)
    (post,) = env.fake.published()
    assert found is not None and found.network_id == post["id"]


async def test_find_proves_absence(env: Env) -> None:
    await publish(env, item("another"))
    the_job = job(Network.FACEBOOK, env.creds, item("never sent"))
    assert await env.adapter.find(the_job, the_job.items[0], None) is None
    # A post with the same text from before the due time is not this one.
    later = job(Network.FACEBOOK, env.creds, item("another"), due_at=T0 + dt.timedelta(hours=1))
    assert await env.adapter.find(later, later.items[0], None) is None


async def test_engagement(env: Env) -> None:
    sent = await publish(env, item("liked"))
    env.fake.engagement[sent.network_id] = {
        "reactions": 12,
        "comments": 3,
        "shares": 2,
        "post_clicks": 40,
    }
    got = await env.adapter.engagement(job(Network.FACEBOOK, env.creds).account, sent.network_id)
    assert (got.likes, got.replies, got.reposts, got.clicks) == (12, 3, 2, 40)
    env.fake.engagement[sent.network_id] = {}
    got = await env.adapter.engagement(job(Network.FACEBOOK, env.creds).account, sent.network_id)
    assert (got.likes, got.replies, got.reposts, got.clicks) == (0, 0, 0, 0)
