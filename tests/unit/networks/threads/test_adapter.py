"""The Threads adapter against the contract fake: every path the broadcaster can take."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import pytest

from onthedot.networks import Network
from onthedot.networks.base import (
    AuthRevoked,
    Permanent,
    Prepared,
    Published,
    RateLimited,
    Transient,
)
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.meta.helpers import T0, drive, item, job, media
from tests.unit.networks.threads.conftest import USER, Env

pytestmark = pytest.mark.timeout(10)


async def publish(env: Env, *items_: object) -> list[Published]:
    the_job = job(Network.THREADS, env.creds, *items_)  # type: ignore[arg-type]
    prepared = await drive(env.clock, env.adapter.prepare(the_job))
    env.clock.set(max(env.clock.now(), T0))
    out: list[Published] = []
    reply_to = None
    for it in the_job.items:
        reply_to = await drive(env.clock, env.adapter.commit(the_job, prepared, it, reply_to))
        out.append(reply_to)
    return out


async def test_text_post(env: Env) -> None:
    (sent,) = await publish(env, item("hello Threads"))
    (post,) = env.fake.published(USER)
    assert sent.network_id == post["id"] and post["text"] == "hello Threads"
    assert post["media_type"] == "TEXT_POST"
    assert sent.url == post["permalink"]
    # prepare created and checked the container; commit was the publish (and the address).
    publishes = [c for c in env.fake.calls if c[1].endswith("threads_publish")]
    assert len(publishes) == 1


async def test_prepare_does_the_work_and_commit_is_one_call(env: Env) -> None:
    the_job = job(Network.THREADS, env.creds, item("hello"))
    prepared = await env.adapter.prepare(the_job)
    container = prepared.items[0]["container"]
    assert env.fake.status(env.fake.containers[container]) == "FINISHED"
    before = len(env.fake.calls)
    await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    assert next(c[1] for c in env.fake.calls[before:]).endswith("threads_publish")


async def test_one_image_and_a_carousel(env: Env, tmp_path: Path) -> None:
    photo = media(tmp_path, "a.jpg", "image/jpeg")
    other = media(tmp_path, "b.png", "image/png")
    (one,) = await publish(env, item("one", photo))
    (many,) = await publish(env, item("two", photo, other))
    posts = {p["id"]: p for p in env.fake.published()}
    assert posts[one.network_id]["media_type"] == "IMAGE"
    assert posts[many.network_id]["media_type"] == "CAROUSEL_ALBUM"
    children = [env.fake.containers[c] for c in posts[many.network_id]["children"]]
    assert [c.image_url for c in children] == [
        "https://onthedot.example/media/public/a.jpg?exp=1795766400",
        "https://onthedot.example/media/public/b.png?exp=1795766400",
    ]
    assert all(c.is_carousel_item for c in children)


async def test_video_is_processed_during_prepare_on_the_clock(env: Env, tmp_path: Path) -> None:
    env.fake.processing["VIDEO"] = 90
    clip = media(tmp_path, "clip.mp4", "video/mp4")
    the_job = job(Network.THREADS, env.creds, item("watch", clip))
    started = env.clock.now()
    task = asyncio.ensure_future(env.adapter.prepare(the_job))
    for _ in range(50):
        await asyncio.sleep(0)
    assert not task.done()  # IN_PROGRESS: waiting on the clock, not publishing
    prepared = await drive(env.clock, task)
    assert env.clock.now() - started >= dt.timedelta(seconds=90)
    container = env.fake.containers[prepared.items[0]["container"]]
    assert container.media_type == "VIDEO" and container.video_url
    sent = await env.adapter.commit(the_job, prepared, the_job.items[0], None)
    assert env.fake.published()[0]["id"] == sent.network_id


async def test_media_that_fails_processing_is_permanent(env: Env, tmp_path: Path) -> None:
    env.fake.failing_media["clip.mp4"] = "FAILED_PROCESSING_VIDEO"
    the_job = job(Network.THREADS, env.creds, item("x", media(tmp_path, "clip.mp4", "video/mp4")))
    with pytest.raises(Permanent, match="FAILED_PROCESSING_VIDEO"):
        await drive(env.clock, env.adapter.prepare(the_job))


async def test_media_still_processing_after_five_minutes_is_transient(
    env: Env, tmp_path: Path
) -> None:
    env.fake.processing["VIDEO"] = 3600
    the_job = job(Network.THREADS, env.creds, item("x", media(tmp_path, "c.mp4", "video/mp4")))
    with pytest.raises(Transient, match="still processing") as caught:
        await drive(env.clock, env.adapter.prepare(the_job))
    assert caught.value.maybe_sent is False


async def test_thread_each_item_replies_to_the_previous(env: Env, tmp_path: Path) -> None:
    photo = media(tmp_path, "a.jpg", "image/jpeg")
    sent = await publish(
        env,
        item("1/3", position=0),
        item("2/3", photo, photo, position=1),
        item("3/3", position=2),
    )
    posts = {p["id"]: p for p in env.fake.published()}
    assert [posts[s.network_id]["text"] for s in sent] == ["1/3", "2/3", "3/3"]
    assert posts[sent[0].network_id]["replied_to"] is None
    assert posts[sent[1].network_id]["replied_to"] == {"id": sent[0].network_id}
    assert posts[sent[2].network_id]["replied_to"] == {"id": sent[1].network_id}
    assert posts[sent[1].network_id]["media_type"] == "CAROUSEL_ALBUM"


async def test_rate_limited_by_buc_header(env: Env) -> None:
    env.fake.throttle(USER, code=17, minutes=12)
    with pytest.raises(RateLimited) as caught:
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("x")))
    assert caught.value.scope == "account"
    assert caught.value.reset_at == env.clock.now() + dt.timedelta(minutes=12)
    assert caught.value.code == "17"


async def test_app_rate_limit_holds_every_account(env: Env) -> None:
    env.fake.throttle(USER, code=4, minutes=5, header="page")
    with pytest.raises(RateLimited) as caught:
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("x")))
    assert caught.value.scope == "network"
    assert caught.value.reset_at == env.clock.now() + dt.timedelta(minutes=5)


async def test_publishing_quota_used_up(env: Env) -> None:
    env.fake.quota_total = 0
    with pytest.raises(RateLimited, match="Threads allows 0") as caught:
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("x")))
    assert caught.value.reset_at == env.clock.now() + dt.timedelta(hours=1)


async def test_token_near_expiry_is_refreshed_and_stored(env: Env) -> None:
    old = env.creds["access_token"]
    # Issued 55 days ago: five days left, inside the week's margin.
    env.fake.tokens[old].issued_at = env.clock.now() - dt.timedelta(days=55)
    env.fake.tokens[old].expires_at = env.clock.now() + dt.timedelta(days=5)
    creds = {**env.creds, "expires_at": (env.clock.now() + dt.timedelta(days=5)).isoformat()}
    env.store.credentials[1] = dict(creds)
    refreshed_at = env.clock.now()  # in prepare, before the due time
    (sent,) = await publish_with(env, creds, "fresh")
    stored = env.store.credentials[1]
    assert stored["access_token"] != old
    assert stored["expires_at"] == (refreshed_at + dt.timedelta(days=60)).isoformat()
    assert env.fake.tokens[stored["access_token"]].user_id == USER
    assert sent.network_id


async def publish_with(env: Env, creds: dict[str, object], text: str) -> list[Published]:
    env.creds = creds  # type: ignore[assignment]
    return await publish(env, item(text))


async def test_expired_token_that_was_refreshed_elsewhere(env: Env) -> None:
    """Threads says "expired": another process already refreshed, so its token is used."""
    old = env.creds["access_token"]
    newer = env.fake.issue(USER, lifetime=dt.timedelta(days=60))
    env.fake.expire(old)
    env.store.credentials[1] = {**env.creds, "access_token": newer}
    (sent,) = await publish(env, item("after refresh"))
    assert sent.network_id


async def test_expired_token_cannot_be_refreshed_asks_to_reconnect(env: Env) -> None:
    env.fake.expire(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="reconnect the channel"):
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("x")))


async def test_revoked_token(env: Env) -> None:
    env.fake.revoke(env.creds["access_token"])
    with pytest.raises(AuthRevoked, match="reconnect the channel") as caught:
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("x")))
    assert caught.value.code == "190/458"
    assert env.creds["access_token"] not in caught.value.message


async def test_content_rejected(env: Env) -> None:
    env.fake.rejected["forbidden"] = "This post goes against our Community Guidelines"
    with pytest.raises(Permanent, match="Community Guidelines") as caught:
        await env.adapter.prepare(job(Network.THREADS, env.creds, item("forbidden words")))
    assert not isinstance(caught.value, AuthRevoked)


async def test_crash_between_publishing_and_the_answer(env: Env) -> None:
    lossy = LoseAnswers(
        httpx.ASGITransport(app=env.app), lose=lambda r: r.url.path.endswith("threads_publish")
    )
    adapter = env.adapter_over(lossy)
    the_job = job(Network.THREADS, env.creds, item("lost answer"))
    prepared = await adapter.prepare(the_job)
    env.clock.set(T0)
    with pytest.raises(Transient) as caught:
        await adapter.commit(the_job, prepared, the_job.items[0], None)
    assert caught.value.maybe_sent is True
    found = await env.adapter.find(the_job, the_job.items[0], None)
    (post,) = env.fake.published()
    assert found is not None and found.network_id == post["id"]
    assert found.url == post["permalink"]


async def test_find_proves_absence(env: Env) -> None:
    env.clock.set(T0)
    await publish(env, item("something else"))
    the_job = job(Network.THREADS, env.creds, item("never sent"))
    assert await env.adapter.find(the_job, the_job.items[0], None) is None


async def test_find_a_reply_by_its_parent(env: Env) -> None:
    sent = await publish(env, item("first", position=0), item("second", position=1))
    the_job = job(Network.THREADS, env.creds, item("first"), item("second", position=1))
    found = await env.adapter.find(the_job, the_job.items[1], sent[0])
    assert found is not None and found.network_id == sent[1].network_id
    elsewhere = Published(network_id="999")
    assert await env.adapter.find(the_job, the_job.items[1], elsewhere) is None


async def test_engagement(env: Env) -> None:
    (sent,) = await publish(env, item("liked"))
    env.fake.insights[sent.network_id] = {
        "likes": 5,
        "replies": 2,
        "reposts": 1,
        "quotes": 3,
        "views": 80,
    }
    got = await env.adapter.engagement(job(Network.THREADS, env.creds).account, sent.network_id)
    assert (got.likes, got.replies, got.reposts, got.quotes, got.impressions) == (5, 2, 1, 3, 80)
    assert got.clicks is None


async def test_commit_without_prepare_still_publishes(env: Env) -> None:
    env.clock.set(T0)
    the_job = job(Network.THREADS, env.creds, item("late prepare"))
    sent = await drive(env.clock, env.adapter.commit(the_job, Prepared(), the_job.items[0], None))
    assert env.fake.published()[0]["id"] == sent.network_id


async def test_media_without_a_public_address_is_refused_at_prepare(
    env: Env, tmp_path: Path
) -> None:
    from onthedot.config import Settings
    from onthedot.networks.registry import NetworkContext
    from onthedot.networks.threads import create_adapter

    context = NetworkContext(
        settings=Settings(public_url=None, network_urls={"threads": "https://graph.threads.net"}),
        clock=env.clock,
        store=env.store,
        http=env.http,
    )
    adapter = create_adapter(context)
    photo = media(tmp_path, "a.jpg", "image/jpeg")
    with pytest.raises(Permanent, match="ONTHEDOT_PUBLIC_URL") as caught:
        await adapter.prepare(job(Network.THREADS, env.creds, item("x", photo)))
    assert caught.value.code == "no_public_url"
    assert env.fake.containers == {}
