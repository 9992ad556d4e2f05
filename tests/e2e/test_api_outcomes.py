"""What the broadcaster leaves for people, through the API: why a channel was paused, what
resuming does to pinned posts whose time passed, each post's outcome and attempts, and how a
post in `unknown` or `failed` is settled.

The clock stands at Thu 2026-11-26 06:00 UTC, 07:00 in Berlin; the channels post at SCHEDULE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.posts.models import AttemptOutcome, Post, PostItem, PostStatus, PublishAttempt
from tests.conftest import T0, Team
from tests.e2e.helpers import call, new_channel, new_post, ok, problem

Maker = async_sessionmaker[AsyncSession]
REVOKED = "Mastodon revoked onthedot's access: reconnect the channel, then resume it"


async def _force(maker: Maker, post_id: int, **values: Any) -> None:
    async with maker() as s, s.begin():
        await s.execute(update(Post).where(Post.id == post_id).values(**values))


async def _paused_with_a_past_pinned_post(
    client: httpx.AsyncClient, team: Team, clock: FrozenClock, at: str = "2026-11-26T09:00"
) -> tuple[int, int, int]:
    """A paused channel with a floating post and one pinned at `at` (Berlin); then the
    clock moves a day on, past the pinned post's time."""
    channel = (await new_channel(client, team.owner))["id"]
    floating = await new_post(client, team.editor, channel, text="floating")
    pinned = await new_post(client, team.editor, channel, text="pinned", mode="custom", at=at)
    ok(await call(client, team.editor, "POST", f"/channels/{channel}/pause"))
    clock.advance(dt.timedelta(days=1))
    return channel, floating["id"], pinned["id"]


async def test_a_channel_paused_by_onthedot_says_why_until_it_is_resumed(
    client: httpx.AsyncClient, team: Team, sessionmaker: Maker, clock: FrozenClock
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    post = await new_post(client, team.editor, channel)
    fresh = ok(await call(client, team.viewer, "GET", f"/channels/{channel}"))
    assert fresh["paused_reason"] is None

    async with sessionmaker() as s, s.begin():
        await channels.pause_for_reason(s, channel_id=channel, reason=REVOKED, now=clock.now())
    read = ok(await call(client, team.viewer, "GET", f"/channels/{channel}"))
    assert (read["paused"], read["paused_reason"]) == (True, REVOKED)
    assert read["queue_version"] == fresh["queue_version"] + 1
    listed = ok(await call(client, team.viewer, "GET", "/channels"))["items"]
    assert [c["paused_reason"] for c in listed] == [REVOKED]
    held = ok(await call(client, team.viewer, "GET", f"/posts/{post['id']}"))
    assert held["status"] == "held"

    resumed = ok(await call(client, team.editor, "POST", f"/channels/{channel}/resume"))
    assert (resumed["paused"], resumed["paused_reason"]) == (False, None)


async def test_resume_marks_past_pinned_posts_missed_on_request(
    client: httpx.AsyncClient, team: Team, clock: FrozenClock
) -> None:
    channel, floating, pinned = await _paused_with_a_past_pinned_post(client, team, clock)
    ok(
        await call(
            client,
            team.editor,
            "POST",
            f"/channels/{channel}/resume",
            params={"past_pinned": "missed"},
        )
    )
    missed = ok(await call(client, team.viewer, "GET", f"/posts/{pinned}"))
    assert (missed["status"], missed["due_at"], missed["finished_at"]) == (
        "missed",
        "2026-11-26T08:00:00Z",
        "2026-11-27T06:00:00Z",
    )
    assert missed["last_error"] == (
        "not published: it was due at 2026-11-26 09:00 CET (Europe/Berlin) while the channel "
        "was paused"
    )
    # The floating post re-flowed from now: Friday 08:00 Berlin.
    queued = ok(await call(client, team.viewer, "GET", f"/posts/{floating}"))
    assert (queued["status"], queued["due_at"]) == ("scheduled", "2026-11-27T07:00:00Z")
    listed = ok(await call(client, team.viewer, "GET", "/posts", params={"status": "missed"}))
    assert [p["id"] for p in listed["items"]] == [pinned]
    # The queue shows what is still ahead; the missed post is not.
    queue = ok(await call(client, team.viewer, "GET", f"/channels/{channel}/queue"))
    assert [p["id"] for p in queue["items"]] == [floating]


async def test_resume_follows_the_installation_setting_unless_told(
    client: httpx.AsyncClient, team: Team, clock: FrozenClock, settings: Settings
) -> None:
    settings.resume_past_pinned = "missed"
    channel, _, pinned = await _paused_with_a_past_pinned_post(client, team, clock)
    ok(await call(client, team.editor, "POST", f"/channels/{channel}/resume"))
    assert ok(await call(client, team.viewer, "GET", f"/posts/{pinned}"))["status"] == "missed"

    channel, _, pinned = await _paused_with_a_past_pinned_post(
        client, team, clock, at="2026-11-27T09:00"
    )
    path = f"/channels/{channel}/resume"
    ok(await call(client, team.editor, "POST", path, params={"past_pinned": "publish"}))
    released = ok(await call(client, team.viewer, "GET", f"/posts/{pinned}"))
    # Released as it was: due in the past, so the broadcaster sends it at once.
    assert (released["status"], released["due_at"], released["last_error"]) == (
        "scheduled",
        "2026-11-27T08:00:00Z",
        None,
    )


async def test_posts_show_their_outcome_and_attempts(
    client: httpx.AsyncClient, team: Team, sessionmaker: Maker, clock: FrozenClock
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    post = await new_post(
        client, team.editor, channel, items=[{"text": "one"}, {"text": "two"}], mode="now"
    )
    fresh = ok(await call(client, team.viewer, "GET", f"/posts/{post['id']}"))
    assert (fresh["last_error"], fresh["tries"], fresh["finished_at"]) == (None, 0, None)
    assert [(i["network_id"], i["network_url"], i["published_at"]) for i in fresh["items"]] == [
        (None, None, None),
        (None, None, None),
    ]
    page = ok(await call(client, team.viewer, "GET", f"/posts/{post['id']}/attempts"))
    assert page == {"items": [], "next_cursor": None}

    # What a broadcaster records: the first item went out, the second timed out twice, and
    # a reconciliation could not tell whether it exists.
    sent_at = T0 + dt.timedelta(seconds=1)
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(PostItem)
            .where(PostItem.post_id == post["id"], PostItem.position == 0)
            .values(
                network_id="111",
                network_url="https://sandbox.example/@acme/111",
                published_at=sent_at,
            )
        )
        for n, outcome in enumerate(
            [AttemptOutcome.RETRY, AttemptOutcome.RETRY, AttemptOutcome.UNKNOWN], 1
        ):
            s.add(
                PublishAttempt(
                    post_id=post["id"],
                    attempt=n,
                    broadcaster="b-1",
                    kind="reconcile" if outcome is AttemptOutcome.UNKNOWN else "publish",
                    started_at=T0 + dt.timedelta(minutes=n),
                    ended_at=T0 + dt.timedelta(minutes=n, seconds=30),
                    outcome=outcome,
                    network_status=None if outcome is AttemptOutcome.UNKNOWN else 504,
                    error_code="timeout",
                    error="the network did not answer in 30 s",
                )
            )
    await _force(
        sessionmaker,
        post["id"],
        status=PostStatus.UNKNOWN,
        attempt=3,
        tries=2,
        needs_check=True,
        last_error="the network timed out and could not say whether item 2 exists: look for it",
        finished_at=T0 + dt.timedelta(minutes=4),
    )

    unknown = ok(await call(client, team.viewer, "GET", f"/posts/{post['id']}"))
    assert (unknown["status"], unknown["tries"], unknown["finished_at"]) == (
        "unknown",
        2,
        "2026-11-26T06:04:00Z",
    )
    assert "look for it" in unknown["last_error"]
    assert unknown["items"][0]["network_id"] == "111"
    assert unknown["items"][0]["network_url"] == "https://sandbox.example/@acme/111"
    assert unknown["items"][0]["published_at"] == "2026-11-26T06:00:01Z"

    path = f"/posts/{post['id']}/attempts"
    first = ok(await call(client, team.viewer, "GET", path, params={"limit": 2}))
    assert [a["attempt"] for a in first["items"]] == [3, 2]
    assert first["items"][0]["outcome"] == "unknown" and first["items"][0]["kind"] == "reconcile"
    assert first["items"][1] == {
        "id": first["items"][1]["id"],
        "attempt": 2,
        "broadcaster": "b-1",
        "kind": "publish",
        "started_at": "2026-11-26T06:02:00Z",
        "ended_at": "2026-11-26T06:02:30Z",
        "outcome": "retry",
        "network_status": 504,
        "error_code": "timeout",
        "error": "the network did not answer in 30 s",
        "lateness_s": None,
    }
    params = {"limit": 2, "cursor": first["next_cursor"]}
    rest = ok(await call(client, team.viewer, "GET", path, params=params))
    assert ([a["attempt"] for a in rest["items"]], rest["next_cursor"]) == ([1], None)

    # The user looked: item 2 is not on the network. Retry: it goes out at once.
    clock.advance(dt.timedelta(hours=1))
    body = {"outcome": "retry"}
    retried = ok(await call(client, team.editor, "POST", f"/posts/{post['id']}/resolve", json=body))
    assert (retried["status"], retried["pinned"], retried["due_at"]) == (
        "scheduled",
        True,
        "2026-11-26T07:00:00Z",
    )
    assert (retried["tries"], retried["last_error"], retried["finished_at"]) == (0, None, None)
    # What landed stays recorded: the broadcaster goes on from item 2.
    assert retried["items"][0]["network_id"] == "111"

    # A second look finds it after all: marked sent.
    await _force(sessionmaker, post["id"], status=PostStatus.UNKNOWN, last_error="unknown again")
    body = {"outcome": "sent"}
    sent = ok(await call(client, team.owner, "POST", f"/posts/{post['id']}/resolve", json=body))
    assert (sent["status"], sent["finished_at"], sent["last_error"]) == (
        "sent",
        "2026-11-26T07:00:00Z",
        None,
    )
    again = problem(
        await call(client, team.editor, "POST", f"/posts/{post['id']}/resolve", json=body),
        409,
        "conflict",
    )
    assert again["post_status"] == "sent"
    assert (
        again["detail"]
        == f"post {post['id']} is sent: it was published, so there is nothing to resolve"
    )


async def test_a_failed_post_cannot_be_retried_while_its_channel_is_paused(
    client: httpx.AsyncClient, team: Team, sessionmaker: Maker
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    post = (await new_post(client, team.editor, channel))["id"]
    await _force(sessionmaker, post, status=PostStatus.FAILED, last_error="refused")
    ok(await call(client, team.editor, "POST", f"/channels/{channel}/pause"))
    path = f"/posts/{post}/resolve"
    refused = problem(
        await call(client, team.editor, "POST", path, json={"outcome": "retry"}),
        409,
        "channel_paused",
    )
    assert "resume it" in refused["detail"]
    ok(await call(client, team.editor, "POST", f"/channels/{channel}/resume"))
    retried = ok(await call(client, team.editor, "POST", path, json={"outcome": "retry"}))
    assert retried["status"] == "scheduled"
