"""The Mastodon adapter against the contract fake: publishing, media, threads, failures, tokens,
reconciliation after a lost answer, engagement."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from onthedot.networks.base import (
    AuthRevoked,
    CannotTell,
    Engagement,
    Permanent,
    Prepared,
    Published,
    RateLimited,
    Transient,
)
from onthedot.networks.http import UnsafeAddress
from onthedot.sandbox.fakes.mastodon import Status
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.helpers import CHANNEL, drive
from tests.unit.networks.mastodon.conftest import Rig

S = dt.timedelta(seconds=1)


async def publish(rig: Rig, *texts: str, **job: object) -> list[Published]:
    j = rig.job(*texts, **job)  # type: ignore[arg-type]
    prepared = await drive(rig.clock, rig.adapter.prepare(j))
    out: list[Published] = []
    reply_to: Published | None = None
    for item in j.items:
        reply_to = await rig.adapter.commit(j, prepared, item, reply_to)
        out.append(reply_to)
    return out


async def test_a_text_post_goes_out_with_its_idempotency_key(rig: Rig) -> None:
    (published,) = await publish(rig, "Hello, fediverse")
    (status,) = rig.fake.posted()
    assert published.network_id == status.id
    assert published.url == f"https://mastodon.example/@alice/{status.id}"
    assert published.status == 200
    assert status.text == "Hello, fediverse" and status.in_reply_to_id is None
    # Every answer carries the closest rate limit (api/rate-limits).
    assert published.rate is not None and published.rate.remaining is not None
    assert published.rate.reset_at is not None and published.rate.reset_at > rig.clock.now()


async def test_a_repeat_within_the_hour_returns_the_same_status(rig: Rig) -> None:
    job = rig.job("once")
    first = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    rig.clock.advance(dt.timedelta(minutes=59))
    again = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert again.network_id == first.network_id
    assert len(rig.fake.posted()) == 1
    assert rig.adapter.idempotent


async def test_a_retry_after_the_key_is_forgotten_finds_the_post_first(rig: Rig) -> None:
    lossy = LoseAnswers(rig.transport, lose=lambda r: r.url.path == "/api/v1/statuses")
    job = rig.job("late")
    with pytest.raises(Transient):
        await rig.adapter_over(lossy).commit(job, Prepared(), job.items[0], None)
    rig.clock.advance(dt.timedelta(hours=1, minutes=30))  # the instance forgot the key
    again = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    (status,) = rig.fake.posted()
    assert again.network_id == status.id


async def test_an_overdue_post_never_tried_still_goes_out(rig: Rig) -> None:
    job = rig.job("overdue", due_at=rig.clock.now())
    rig.clock.advance(dt.timedelta(hours=3))
    published = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert rig.fake.statuses[published.network_id].text == "overdue"


async def test_images_are_uploaded_at_preparation(rig: Rig) -> None:
    media = (rig.file("a.jpg", "image/jpeg"), rig.file("b.png", "image/png"))
    job = rig.job("two pictures", media=media)
    prepared = await rig.adapter.prepare(job)  # images answer 200: no polling, no clock
    ids = prepared.items[0]
    assert len(ids) == 2 and all(rig.fake.media[i].status_id is None for i in ids)
    published = await rig.adapter.commit(job, prepared, job.items[0], None)
    status = rig.fake.statuses[published.network_id]
    assert status.media_ids == ids
    assert all(rig.fake.media[i].status_id == status.id for i in ids)


async def test_a_video_is_processed_before_the_due_time(rig: Rig) -> None:
    rig.fake.processing = dt.timedelta(seconds=30)
    start = rig.clock.now()
    job = rig.job("a video", media=(rig.file("clip.mp4", "video/mp4"),), due_at=start + 60 * S)
    prepared = await drive(rig.clock, rig.adapter.prepare(job))
    (media_id,) = prepared.items[0]
    polls = [r for r in rig.fake.requests if r == ("GET", f"/api/v1/media/{media_id}")]
    assert len(polls) >= 2  # 206 at least once, then 200
    assert start + 30 * S <= rig.clock.now() < start + 40 * S
    rig.clock.set(job.due_at)
    published = await rig.adapter.commit(job, prepared, job.items[0], None)
    assert rig.fake.statuses[published.network_id].media_ids == [media_id]


async def test_the_fake_refuses_media_still_processing(rig: Rig) -> None:
    """The contract the polling exists for: a status cannot attach unprocessed media."""
    rig.fake.processing = dt.timedelta(minutes=5)
    upload = await rig.context.http.request(
        "POST",
        "https://mastodon.example/api/v2/media",
        service="t",
        headers={"Authorization": f"Bearer {rig.credentials['access_token']}"},
        files={"file": ("v.mp4", b"\x00" * 10, "video/mp4")},
    )
    assert upload.status_code == 202 and upload.json()["url"] is None
    job = rig.job("too soon")
    with pytest.raises(Permanent, match="not finished processing"):
        await rig.adapter.commit(job, Prepared({0: [upload.json()["id"]]}), job.items[0], None)


async def test_media_that_never_finishes_processing_is_retried_later(rig: Rig) -> None:
    rig.fake.processing = dt.timedelta(hours=2)
    job = rig.job("slow", media=(rig.file("long.mp4", "video/mp4"),))
    with pytest.raises(Transient, match=r"still processing long\.mp4") as caught:
        await drive(rig.clock, rig.adapter.prepare(job))
    assert caught.value.maybe_sent is False


async def test_media_the_instance_cannot_process_fails(rig: Rig) -> None:
    rig.fake.fail_processing = True
    job = rig.job("broken", media=(rig.file("bad.mp4", "video/mp4"),))
    with pytest.raises(Permanent, match="could not be processed"):
        await drive(rig.clock, rig.adapter.prepare(job))


async def test_an_unsupported_file_is_refused(rig: Rig) -> None:
    job = rig.job("a pdf", media=(rig.file("doc.pdf", "application/pdf"),))
    with pytest.raises(Permanent, match="File content type is invalid") as caught:
        await rig.adapter.prepare(job)
    assert caught.value.status == 422


async def test_media_forgotten_by_the_instance_is_uploaded_again(rig: Rig) -> None:
    job = rig.job("again", media=(rig.file("a.jpg", "image/jpeg"),))
    prepared = await rig.adapter.prepare(job)
    rig.fake.media.clear()  # unattached media is cleaned up after a day
    published = await rig.adapter.commit(job, prepared, job.items[0], None)
    (new_id,) = rig.fake.statuses[published.network_id].media_ids
    assert new_id not in prepared.items[0]


async def test_a_thread_replies_item_by_item(rig: Rig) -> None:
    first, second, third = await publish(rig, "1/3", "2/3", "3/3")
    statuses = rig.fake.statuses
    assert statuses[first.network_id].in_reply_to_id is None
    assert statuses[second.network_id].in_reply_to_id == first.network_id
    assert statuses[third.network_id].in_reply_to_id == second.network_id


async def test_a_reply_to_a_deleted_item_fails(rig: Rig) -> None:
    job = rig.job("1/2", "2/2")
    with pytest.raises(Permanent, match="does not appear to exist") as caught:
        await rig.adapter.commit(job, Prepared(), job.items[1], Published("999"))
    assert caught.value.status == 404


async def test_a_rate_limited_account_waits_for_the_reset(rig: Rig) -> None:
    until = rig.clock.now() + dt.timedelta(minutes=17, seconds=3)
    rig.fake.throttle("alice", until)
    job = rig.job("wait")
    with pytest.raises(RateLimited) as caught:
        await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.reset_at == until
    assert caught.value.scope == "account" and caught.value.status == 429
    assert rig.fake.posted() == []


async def test_the_media_limit_resets_at_the_end_of_its_window(rig: Rig) -> None:
    media = tuple(rig.file(f"{i}.jpg", "image/jpeg") for i in range(31))
    job = rig.job("too many uploads", media=media)
    with pytest.raises(RateLimited, match="30 media uploads") as caught:
        await rig.adapter.prepare(job)
    # 30 uploads per 30 minutes, in fixed windows: 06:00 to 06:30.
    assert caught.value.reset_at == dt.datetime(2026, 11, 26, 6, 30, tzinfo=dt.UTC)


async def test_a_revoked_token_asks_to_reconnect(rig: Rig) -> None:
    rig.fake.revoke(rig.credentials["access_token"])
    job = rig.job("nope")
    with pytest.raises(AuthRevoked, match="reconnect the channel") as caught:
        await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert "was revoked" in caught.value.message
    assert rig.credentials["access_token"] not in caught.value.message


async def test_missing_scopes_ask_to_reconnect(rig: Rig) -> None:
    token = rig.fake.issue_token("alice", "read")
    job = rig.job("no write", credentials={**rig.credentials, "access_token": token})
    with pytest.raises(AuthRevoked, match="outside the authorized scopes"):
        await rig.adapter.commit(job, Prepared(), job.items[0], None)


async def test_an_expired_token_without_refresh_is_revoked(rig: Rig) -> None:
    """Mastodon's tokens do not expire; one that does cannot be renewed, only reconnected."""
    rig.fake.expire(rig.credentials["access_token"])
    job = rig.job("expired")
    with pytest.raises(AuthRevoked, match="no way to renew it"):
        await rig.adapter.commit(job, Prepared(), job.items[0], None)


async def _expiring_credentials(rig: Rig) -> dict[str, object]:
    """Connect through the real flow on a server that hands out expiring tokens."""
    rig.fake.token_lifetime = dt.timedelta(hours=2)
    connector = rig.connector()
    auth = await connector.authorize(
        redirect_uri="https://onthedot.example/connect/mastodon/callback",
        state="s1",
        options={"instance": "mastodon.example"},
    )
    answer = await rig.context.http.request("GET", auth.url, service="t")
    query = dict(httpx.URL(answer.headers["location"]).params)
    connected = await connector.finish(
        redirect_uri="https://onthedot.example/connect/mastodon/callback",
        query=query,
        secret=auth.secret,
    )
    assert "refresh_token" in connected.credentials and "expires_at" in connected.credentials
    rig.store.credentials[CHANNEL] = dict(connected.credentials)
    return dict(connected.credentials)


async def test_a_token_about_to_expire_is_refreshed_first(rig: Rig) -> None:
    credentials = await _expiring_credentials(rig)
    rig.clock.advance(dt.timedelta(hours=2) - dt.timedelta(minutes=1))
    job = rig.job("fresh", credentials=credentials)
    await rig.adapter.commit(job, Prepared(), job.items[0], None)
    stored = rig.store.credentials[CHANNEL]
    assert stored["access_token"] != credentials["access_token"]
    assert stored["refresh_token"] != credentials["refresh_token"]
    assert stored["instance"] == credentials["instance"]
    assert rig.fake.tokens[str(credentials["access_token"])].revoked


async def test_a_token_the_server_says_expired_is_refreshed_and_the_call_repeated(
    rig: Rig,
) -> None:
    credentials = await _expiring_credentials(rig)
    rig.fake.expire(str(credentials["access_token"]))  # earlier than its expires_at said
    job = rig.job("refreshed", credentials=credentials)
    published = await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert rig.fake.statuses[published.network_id].text == "refreshed"
    assert rig.store.replaced == 1
    assert rig.store.credentials[CHANNEL]["access_token"] != credentials["access_token"]


async def test_a_refresh_the_server_refuses_means_reconnect(rig: Rig) -> None:
    credentials = await _expiring_credentials(rig)
    token = rig.fake.tokens[str(credentials["access_token"])]
    token.refresh_token = None  # the grant was revoked on the server
    rig.fake.expire(token.value)
    job = rig.job("x", credentials=credentials)
    with pytest.raises(AuthRevoked, match="would not renew"):
        await rig.adapter.commit(job, Prepared(), job.items[0], None)


async def test_a_rejected_text_fails_with_the_instance_reason(rig: Rig) -> None:
    rig.fake.reject_text("spam", "Text contains a blocked word")
    job = rig.job("buy spam now")
    with pytest.raises(Permanent, match="Text contains a blocked word") as caught:
        await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.status == 422 and not isinstance(caught.value, AuthRevoked)


async def test_a_text_over_the_instance_limit_fails(rig: Rig) -> None:
    job = rig.job("x" * 501)
    with pytest.raises(Permanent, match="Text character limit of 500 exceeded"):
        await rig.adapter.commit(job, Prepared(), job.items[0], None)


async def test_an_unavailable_instance_is_transient_and_maybe_sent(rig: Rig) -> None:
    rig.fake.fail_next("/api/v1/statuses", 503)
    job = rig.job("later")
    with pytest.raises(Transient, match="is unavailable") as caught:
        await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.maybe_sent is True and caught.value.status == 503


async def test_a_lost_answer_is_found_by_reconciliation(rig: Rig) -> None:
    lossy = LoseAnswers(rig.transport, lose=lambda r: r.url.path == "/api/v1/statuses")
    adapter = rig.adapter_over(lossy)
    job = rig.job("1/2", "2/2")
    with pytest.raises(Transient) as caught:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.maybe_sent is True
    (status,) = rig.fake.posted()
    # Long after the idempotency key is forgotten, the account's posts still tell.
    rig.clock.advance(dt.timedelta(hours=2))
    found = await rig.adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id == status.id
    assert found.url == f"https://mastodon.example/@alice/{status.id}"
    # The second item was never sent: provably absent.
    assert await rig.adapter.find(job, job.items[1], found) is None


async def test_find_tells_items_apart_by_text_and_parent(rig: Rig) -> None:
    await publish(rig, "same text", post_id=1)
    first, second = await publish(rig, "other", "same text", post_id=2)
    job = rig.job("same text", post_id=3)
    found = await rig.adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id != second.network_id
    assert rig.fake.statuses[found.network_id].in_reply_to_id is None
    reply = await rig.adapter.find(job, job.items[0], first)
    assert reply is not None and reply.network_id == second.network_id


async def test_find_does_not_count_posts_from_before_the_due_time(rig: Rig) -> None:
    await publish(rig, "an old post")
    rig.clock.advance(dt.timedelta(hours=1))
    job = rig.job("an old post", due_at=rig.clock.now())
    assert await rig.adapter.find(job, job.items[0], None) is None


async def test_find_on_an_empty_account_says_absent(rig: Rig) -> None:
    job = rig.job("nothing yet")
    assert await rig.adapter.find(job, job.items[0], None) is None


async def test_find_cannot_tell_past_its_pages(rig: Rig) -> None:
    due = rig.clock.now()
    account_id = rig.fake.accounts["alice"].id
    for n in range(401):
        status_id = rig.fake._id()
        rig.fake.statuses[status_id] = Status(
            status_id, account_id, f"busy {n}", due + n * S, None, "public", [], None
        )
    rig.clock.set(due + 500 * S)
    job = rig.job("lost in the crowd", due_at=due)
    with pytest.raises(CannotTell, match="400 most recent posts"):
        await rig.adapter.find(job, job.items[0], None)


async def test_a_late_try_that_cannot_look_does_not_post_blind(rig: Rig) -> None:
    due = rig.clock.now()
    account_id = rig.fake.accounts["alice"].id
    for n in range(401):
        status_id = rig.fake._id()
        rig.fake.statuses[status_id] = Status(
            status_id, account_id, f"busy {n}", due + n * S, None, "public", [], None
        )
    rig.clock.set(due + dt.timedelta(hours=1))  # past the instance's memory of the key
    job = rig.job("lost in the crowd", due_at=due)
    with pytest.raises(CannotTell):
        await rig.adapter.commit(job, Prepared(), job.items[0], None)
    assert not any(s.text == "lost in the crowd" for s in rig.fake.statuses.values())


async def test_engagement_reads_the_status_counters(rig: Rig) -> None:
    (published,) = await publish(rig, "liked")
    status = rig.fake.statuses[published.network_id]
    status.favourites, status.reblogs, status.replies = 12, 3, 2
    got = await rig.adapter.engagement(rig.job().account, published.network_id)
    assert got == Engagement(likes=12, reposts=3, replies=2)


async def test_engagement_of_a_deleted_post(rig: Rig) -> None:
    with pytest.raises(Permanent, match="could not find"):
        await rig.adapter.engagement(rig.job().account, "404")


async def test_an_instance_resolving_to_a_private_address_is_refused(rig: Rig) -> None:
    async def resolve(host: str) -> list[str]:
        return ["10.1.2.3"]

    adapter = rig.adapter_over(rig.transport, resolve=resolve)
    job = rig.job("ssrf")
    with pytest.raises(UnsafeAddress, match="private address"):
        await adapter.commit(job, Prepared(), job.items[0], None)
    literal = rig.job(
        "ssrf", credentials={**rig.credentials, "instance": "https://169.254.169.254"}
    )
    with pytest.raises(UnsafeAddress, match="link-local"):
        await rig.adapter.commit(literal, Prepared(), literal.items[0], None)
    assert rig.fake.posted() == []
