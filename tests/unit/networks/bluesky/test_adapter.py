"""The Bluesky adapter against the contract fake: posts, media, threads, sessions, failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import httpx
import pytest

from onthedot.networks.base import (
    AuthRevoked,
    CannotTell,
    Engagement,
    MediaFile,
    Permanent,
    Prepared,
    RateLimited,
    Transient,
)
from onthedot.networks.bluesky.records import record_key
from onthedot.sandbox.fakes.transport import LoseAnswers
from tests.unit.networks.bluesky.conftest import HANDLE, Bluesky, png
from tests.unit.networks.helpers import drive

S = dt.timedelta(seconds=1)


def cid_of(bsky: Bluesky, uri: str) -> str:
    did, collection, rkey = uri.removeprefix("at://").split("/")
    return bsky.fake.records[(did, collection, rkey)][0]


def media_file(tmp_path: Path, name: str, data: bytes, content_type: str) -> MediaFile:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaFile(path=path, content_type=content_type, size=len(data), filename=name)


async def test_text_post_with_facets_and_a_link_card(bsky: Bluesky) -> None:
    bsky.fake.pages["/article"] = (
        200,
        "text/html; charset=utf-8",
        b'<html><head><title>Fallback</title><meta property="og:title" content="On the dot">'
        b'<meta property="og:description" content="Posts at 08:00 sharp">'
        b'<meta property="og:image" content="/card.png"></head></html>',
    )
    bsky.fake.pages["/card.png"] = (200, "image/png", png(1200, 630))
    text = (
        "Café ☕ with @bob.bsky.test and @nobody.bsky.test: https://example.test/article #onthedot."
    )
    job = bsky.job(text)
    prepared = await bsky.adapter.prepare(job)
    before = len(bsky.fake.calls)
    published = await bsky.adapter.commit(job, prepared, job.items[0], None)

    assert bsky.nsids()[before:] == ["com.atproto.repo.createRecord"]
    rkey = record_key(job, job.items[0])
    did = bsky.credentials["did"]
    assert published.network_id == f"at://{did}/app.bsky.feed.post/{rkey}"
    assert published.url == f"https://bsky.app/profile/{did}/post/{rkey}"
    assert published.rate is not None and published.rate.remaining is not None
    # Every account call went to the PDS named by the DID document, not the entryway.
    assert {host for host, _, _ in bsky.fake.calls} == {"pds.bsky.test"}
    (_, record) = bsky.fake.posts(HANDLE)[0]
    raw = text.encode()
    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert spans == {
        "@bob.bsky.test": {
            "$type": "app.bsky.richtext.facet#mention",
            "did": bsky.fake.handles["bob.bsky.test"],
        },
        "https://example.test/article": {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://example.test/article",
        },
        "#onthedot": {"$type": "app.bsky.richtext.facet#tag", "tag": "onthedot"},
    }
    external = record["embed"]["external"]
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert external["title"] == "On the dot"
    assert external["description"] == "Posts at 08:00 sharp"
    assert external["thumb"]["mimeType"] == "image/png"
    assert record["createdAt"] == "2026-11-26T06:00:00.000Z"


async def test_a_link_card_that_cannot_be_made_does_not_hold_the_post(bsky: Bluesky) -> None:
    job = bsky.job("read https://example.test/missing")
    prepared = await bsky.adapter.prepare(job)
    await bsky.adapter.commit(job, prepared, job.items[0], None)
    (_, record) = bsky.fake.posts(HANDLE)[0]
    assert "embed" not in record and len(record["facets"]) == 1


async def test_post_with_images_uploads_them_ahead(bsky: Bluesky, tmp_path: Path) -> None:
    images = (
        media_file(tmp_path, "a.png", png(800, 600), "image/png"),
        media_file(tmp_path, "b.png", png(300, 900), "image/png"),
    )
    job = bsky.job("two pictures", media=images)
    prepared = await bsky.adapter.prepare(job)
    assert bsky.nsids().count("com.atproto.repo.uploadBlob") == 2
    before = len(bsky.fake.calls)
    await bsky.adapter.commit(job, prepared, job.items[0], None)
    assert bsky.nsids()[before:] == ["com.atproto.repo.createRecord"]
    (_, record) = bsky.fake.posts(HANDLE)[0]
    embed = record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [i["aspectRatio"] for i in embed["images"]] == [
        {"width": 800, "height": 600},
        {"width": 300, "height": 900},
    ]
    assert all(i["alt"] == "" and i["image"]["mimeType"] == "image/png" for i in embed["images"])


async def test_blobs_the_pds_dropped_are_uploaded_again(bsky: Bluesky, tmp_path: Path) -> None:
    image = media_file(tmp_path, "a.png", png(10, 10), "image/png")
    job = bsky.job("a picture", media=(image,))
    prepared = await bsky.adapter.prepare(job)
    bsky.fake.blobs.clear()
    published = await bsky.adapter.commit(job, prepared, job.items[0], None)
    assert published.network_id.endswith(record_key(job, job.items[0]))
    assert bsky.nsids().count("com.atproto.repo.uploadBlob") == 2


async def test_video_is_processed_during_prepare(bsky: Bluesky, tmp_path: Path) -> None:
    video = media_file(tmp_path, "clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"v" * 500, "video/mp4")
    job = bsky.job("a video", media=(video,))
    start = bsky.clock.now()
    prepared = await drive(bsky.clock, bsky.adapter.prepare(job))
    # The fake takes 30 s; the adapter polled getJobStatus once a second meanwhile.
    assert bsky.clock.now() - start == 30 * S
    assert bsky.nsids().count("app.bsky.video.getJobStatus") == 30
    video_hosts = {h for h, _, n in bsky.fake.calls if n.startswith("app.bsky.video.")}
    assert video_hosts == {"video.bsky.test"}
    before = len(bsky.fake.calls)
    await bsky.adapter.commit(job, prepared, job.items[0], None)
    assert bsky.nsids()[before:] == ["com.atproto.repo.createRecord"]
    (_, record) = bsky.fake.posts(HANDLE)[0]
    assert record["embed"]["$type"] == "app.bsky.embed.video"
    assert record["embed"]["video"]["mimeType"] == "video/mp4"


async def test_a_video_processed_before_is_taken_from_its_job(
    bsky: Bluesky, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "clip.mp4", b"same video", "video/mp4")
    await drive(bsky.clock, bsky.adapter.prepare(bsky.job("first", media=(video,))))
    again = await drive(bsky.clock, bsky.adapter.prepare(bsky.job("again", media=(video,))))
    assert again.items[0]["embed"]["video"]["$type"] == "blob"


async def test_a_video_the_service_cannot_process_fails(bsky: Bluesky, tmp_path: Path) -> None:
    bsky.fake.video_failure = "encoding_failure"
    video = media_file(tmp_path, "clip.mp4", b"broken", "video/mp4")
    with pytest.raises(Permanent) as caught:
        await drive(bsky.clock, bsky.adapter.prepare(bsky.job("v", media=(video,))))
    assert caught.value.code == "encoding_failure"
    assert "could not process clip.mp4" in caught.value.message


async def test_video_needs_a_confirmed_email(bsky: Bluesky, tmp_path: Path) -> None:
    bsky.fake.account(HANDLE).email_confirmed = False
    video = media_file(tmp_path, "clip.mp4", b"v", "video/mp4")
    with pytest.raises(Permanent, match="confirmed email"):
        await drive(bsky.clock, bsky.adapter.prepare(bsky.job("v", media=(video,))))


async def test_thread_items_reply_to_the_one_before(bsky: Bluesky) -> None:
    job = bsky.job("one", "two", "three")
    prepared = await bsky.adapter.prepare(job)
    first = await bsky.adapter.commit(job, prepared, job.items[0], None)
    second = await bsky.adapter.commit(job, prepared, job.items[1], first)
    # A broadcaster that restarted knows only the parent's address: it reads the rest back.
    fresh = bsky.adapter_over(httpx.ASGITransport(app=bsky.fake.app))
    third = await fresh.commit(job, Prepared(), job.items[2], second)

    posts = bsky.fake.posts(HANDLE)
    assert [r["text"] for _, r in posts] == ["one", "two", "three"]  # keys sort in order
    (_, r1), (_, r2), (_, r3) = posts
    root = {"uri": first.network_id, "cid": cid_of(bsky, first.network_id)}
    assert "reply" not in r1
    assert r2["reply"] == {"root": root, "parent": root}
    assert r3["reply"]["root"] == root
    assert r3["reply"]["parent"]["uri"] == second.network_id
    assert third.network_id.endswith(record_key(job, job.items[2]))


async def test_rate_limited_account_waits_for_the_reset(bsky: Bluesky) -> None:
    until = bsky.clock.now() + dt.timedelta(minutes=12)
    bsky.fake.limit(HANDLE, until, {"com.atproto.repo.createRecord"})
    job = bsky.job()
    prepared = await bsky.adapter.prepare(job)
    with pytest.raises(RateLimited) as caught:
        await bsky.adapter.commit(job, prepared, job.items[0], None)
    assert caught.value.reset_at == until and caught.value.scope == "account"
    assert caught.value.code == "RateLimitExceeded"
    assert bsky.fake.posts(HANDLE) == []


async def test_the_shared_ip_limit_holds_the_whole_network(bsky: Bluesky) -> None:
    until = bsky.clock.now() + dt.timedelta(minutes=3)
    bsky.fake.limit(None, until)
    job = bsky.job()
    with pytest.raises(RateLimited) as caught:
        await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.reset_at == until and caught.value.scope == "network"


async def test_expired_token_is_refreshed_and_the_call_made_again(bsky: Bluesky) -> None:
    bsky.fake.expire_access(HANDLE)
    job = bsky.job()
    published = await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    assert published.network_id.endswith(record_key(job, job.items[0]))
    assert bsky.nsids().count("com.atproto.server.refreshSession") == 1
    assert bsky.nsids().count("com.atproto.server.createSession") == 0
    stored = bsky.store.credentials[7]
    assert stored["access_token"] != bsky.credentials["access_token"]
    assert stored["refresh_token"] != bsky.credentials["refresh_token"]
    assert stored["expires_at"] == (bsky.clock.now() + dt.timedelta(hours=2)).isoformat()


async def test_a_token_about_to_expire_is_refreshed_ahead(bsky: Bluesky) -> None:
    bsky.clock.advance(dt.timedelta(hours=1, minutes=58))
    await bsky.adapter.prepare(bsky.job())
    assert bsky.nsids()[0] == "com.atproto.server.refreshSession"
    assert bsky.store.replaced == 1


async def test_a_revoked_app_password_disconnects_the_channel(bsky: Bluesky) -> None:
    bsky.fake.revoke(HANDLE)
    job = bsky.job()
    with pytest.raises(AuthRevoked) as caught:
        await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    assert "connect the account again with a new app password" in caught.value.message
    assert bsky.credentials["access_token"] not in caught.value.message
    assert bsky.fake.posts(HANDLE) == []


async def test_a_taken_down_account_is_told(bsky: Bluesky) -> None:
    bsky.fake.take_down(HANDLE)
    job = bsky.job()
    with pytest.raises(AuthRevoked, match="taken the account down"):
        await bsky.adapter.commit(job, Prepared(), job.items[0], None)


async def test_rejected_content_fails_with_bluesky_s_reason(bsky: Bluesky) -> None:
    bsky.fake.reject_text("spam", "Record rejected: looks like spam")
    job = bsky.job("buy spam now")
    with pytest.raises(Permanent) as caught:
        await bsky.adapter.commit(job, await bsky.adapter.prepare(job), job.items[0], None)
    assert "looks like spam" in caught.value.message
    assert caught.value.code == "InvalidRequest" and caught.value.status == 400


async def test_a_text_over_the_lexicon_limit_is_refused(bsky: Bluesky) -> None:
    job = bsky.job("x" * 301)
    with pytest.raises(Permanent, match="300 graphemes"):
        await bsky.adapter.commit(job, Prepared(), job.items[0], None)


async def test_a_lost_answer_is_found_by_its_record_key(bsky: Bluesky) -> None:
    lossy = LoseAnswers(
        httpx.ASGITransport(app=bsky.fake.app),
        lose=lambda r: r.url.path.endswith("createRecord"),
    )
    adapter = bsky.adapter_over(lossy)
    job = bsky.job()
    assert await adapter.find(job, job.items[0], None) is None
    with pytest.raises(Transient) as caught:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.maybe_sent
    found = await adapter.find(job, job.items[0], None)
    assert found is not None
    assert found.network_id.endswith(record_key(job, job.items[0]))
    assert len(bsky.fake.posts(HANDLE)) == 1


async def test_a_blind_retry_cannot_publish_twice(bsky: Bluesky) -> None:
    job = bsky.job()
    first = await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    # Today's PDS answers a taken key with 500: maybe sent, so the broadcaster looks first.
    with pytest.raises(Transient) as caught:
        await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    assert caught.value.maybe_sent and caught.value.status == 500
    # A PDS that says RecordAlreadyExists gets the post it already has.
    bsky.fake.duplicate_error = "RecordAlreadyExists"
    again = await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    assert again.network_id == first.network_id
    assert len(bsky.fake.posts(HANDLE)) == 1


async def test_find_does_not_take_another_record_for_the_post(bsky: Bluesky) -> None:
    job = bsky.job("mine")
    await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    other = dataclasses.replace(job, items=(dataclasses.replace(job.items[0], text="not mine"),))
    assert await bsky.adapter.find(other, other.items[0], None) is None


async def test_engagement_reads_the_post_s_counts(bsky: Bluesky) -> None:
    job = bsky.job()
    published = await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    bsky.fake.engage(published.network_id, likes=5, reposts=2, replies=1, quotes=3)
    counts = await bsky.adapter.engagement(bsky.account(), published.network_id)
    assert counts == Engagement(likes=5, reposts=2, replies=1, quotes=3)
    missing = published.network_id.replace("app.bsky.feed.post/", "app.bsky.feed.post/x")
    with pytest.raises(Permanent, match="no longer on Bluesky"):
        await bsky.adapter.engagement(bsky.account(), missing)


async def test_refresh_with_a_revoked_session_says_reconnect(bsky: Bluesky) -> None:
    bsky.fake.revoke(HANDLE)
    with pytest.raises(AuthRevoked, match="new app password"):
        await bsky.adapter.refresh(bsky.account())


async def test_refresh_that_could_not_be_asked_keeps_the_channel(bsky: Bluesky) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "ServiceUnavailable"})

    adapter = bsky.adapter_over(httpx.MockTransport(down))
    with pytest.raises(Transient) as caught:
        await adapter.refresh(bsky.account())
    assert not caught.value.maybe_sent


async def test_find_answers_even_when_the_session_is_gone(bsky: Bluesky) -> None:
    job = bsky.job()
    await bsky.adapter.commit(job, Prepared(), job.items[0], None)
    bsky.fake.revoke(HANDLE)
    bsky.fake.expire_access(HANDLE)
    assert await bsky.adapter.find(job, job.items[0], None) is not None


async def test_link_cards_never_reach_private_addresses(bsky: Bluesky) -> None:
    job = bsky.job("metadata http://169.254.169.254/latest/meta-data and http://10.0.0.7/x")
    prepared = await bsky.adapter.prepare(job)
    assert "embed" not in prepared.items[0]
    assert bsky.fake.calls == []  # refused before anything was sent
    await bsky.adapter.commit(job, prepared, job.items[0], None)
    (_, record) = bsky.fake.posts(HANDLE)[0]
    assert [f["features"][0]["uri"] for f in record["facets"]] == [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/x",
    ]


async def test_an_image_over_the_lexicon_s_size_is_refused(bsky: Bluesky, tmp_path: Path) -> None:
    big = media_file(tmp_path, "big.png", png(4000, 4000) + b"\x00" * 2_000_000, "image/png")
    job = bsky.job("too big", media=(big,))
    with pytest.raises(Permanent, match="too big"):
        await bsky.adapter.commit(job, await bsky.adapter.prepare(job), job.items[0], None)


async def test_a_late_try_writes_under_a_key_near_its_own_time(bsky: Bluesky) -> None:
    due = bsky.clock.now()
    job = bsky.job(due_at=due)
    lossy = LoseAnswers(
        httpx.ASGITransport(app=bsky.fake.app),
        lose=lambda r: r.url.path.endswith("createRecord"),
    )
    adapter = bsky.adapter_over(lossy)
    # The due key is 17 minutes old: the PDS would refuse it, so the try uses slot 3's.
    bsky.clock.set(due + dt.timedelta(minutes=17))
    with pytest.raises(Transient):
        await adapter.commit(job, Prepared(), job.items[0], None)
    ((rkey, _),) = bsky.fake.posts(HANDLE)
    assert rkey == record_key(job, job.items[0], 3)
    bsky.clock.set(due + dt.timedelta(minutes=26))
    found = await adapter.find(job, job.items[0], None)
    assert found is not None and found.network_id.endswith(rkey)
    gets = [n for n in bsky.nsids() if n == "com.atproto.repo.getRecord"]
    assert len(gets) == 4  # slots 0, 1, 2 and 3


async def test_find_after_a_day_cannot_tell(bsky: Bluesky) -> None:
    job = bsky.job(due_at=bsky.clock.now())
    bsky.clock.advance(dt.timedelta(hours=25))
    with pytest.raises(CannotTell, match="check the account's posts"):
        await bsky.adapter.find(job, job.items[0], None)


async def test_a_refused_upload_token_is_tried_again_not_a_revoked_account(
    bsky: Bluesky, tmp_path: Path
) -> None:
    bsky.fake.pds_url = "https://elsewhere.test"  # the token's audience no longer matches
    video = media_file(tmp_path, "clip.mp4", b"v", "video/mp4")
    with pytest.raises(Transient) as caught:
        await drive(bsky.clock, bsky.adapter.prepare(bsky.job("v", media=(video,))))
    assert not caught.value.maybe_sent and "upload token" in caught.value.message
