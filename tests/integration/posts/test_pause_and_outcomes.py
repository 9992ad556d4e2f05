"""Pausing takes posts back from the broadcaster, resuming follows the past-pinned policy, and
people see and settle the outcomes the broadcaster could not: on SQLite and PostgreSQL.

The channel posts daily at 08:00, 12:00 and 18:00 UTC; the clock starts at Thu 06:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.broadcaster.queries import OWNED
from onthedot.channels import service as channels
from onthedot.channels.models import Channel
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.errors import ChannelPaused, Conflict, NotFound, PermissionDenied
from onthedot.networks import Network
from onthedot.posts import service as posts
from onthedot.posts.models import AttemptOutcome, Post, PostStatus, PublishAttempt
from onthedot.posts.service import Mode
from tests.conftest import T0, Team
from tests.integration.posts.helpers import add_post, make_channel

Maker = async_sessionmaker[AsyncSession]


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


async def _channel(maker: Maker, team: Team, clock: FrozenClock) -> int:
    return await make_channel(
        maker,
        team,
        clock,
        network=Network.SANDBOX,
        handle="@a",
        timezone="UTC",
        schedule="daily 08:00, 12:00, 18:00",
    )


async def _add(
    maker: Maker,
    team: Team,
    clock: FrozenClock,
    channel_id: int,
    text: str,
    mode: Mode = Mode.QUEUE,
    at: dt.datetime | None = None,
) -> int:
    return (await add_post(maker, team, clock, channel_id, text, mode, at)).id


async def _force(maker: Maker, post_id: int, **values: Any) -> None:
    """Put a post in a state only the broadcaster reaches."""
    async with maker() as s, s.begin():
        await s.execute(update(Post).where(Post.id == post_id).values(**values))


async def _post(maker: Maker, post_id: int) -> Post:
    async with maker() as s:
        found = await s.get(Post, post_id)
        assert found is not None
        return found


async def _channel_row(maker: Maker, channel_id: int) -> Channel:
    async with maker() as s:
        found = await s.get(Channel, channel_id)
        assert found is not None
        return found


async def _claim(maker: Maker, post_id: int, status: PostStatus, **extra: Any) -> None:
    """What a broadcaster's claim leaves: a new attempt, its id, a lease."""
    await _force(
        maker,
        post_id,
        status=status,
        attempt=Post.attempt + 1,
        claimed_by="b-1",
        lease_until=T0 + dt.timedelta(hours=3),
        **extra,
    )


async def _fenced_write(maker: Maker, post_id: int, attempt: int) -> int:
    """A broadcaster's later write, fenced on the attempt it claimed with."""
    async with maker() as s, s.begin():
        result = await s.execute(
            update(Post)
            .where(Post.id == post_id, Post.attempt == attempt, Post.status.in_(OWNED))
            .values(status=PostStatus.PUBLISHING)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def test_pause_holds_claimed_prepared_and_retrying_posts_and_publishing_ones_finish(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    queued, claimed, prepared, retrying, publishing = [
        await _add(sessionmaker, team, clock, ch, t) for t in "abcde"
    ]
    pinned = await _add(sessionmaker, team, clock, ch, "pinned", Mode.CUSTOM, _at(30, 9))
    await _claim(sessionmaker, claimed, PostStatus.CLAIMED)
    await _claim(sessionmaker, prepared, PostStatus.PREPARED)
    await _claim(sessionmaker, publishing, PostStatus.PUBLISHING)
    await _force(
        sessionmaker,
        retrying,
        status=PostStatus.RETRY_WAIT,
        attempt=3,
        retry_at=T0 + dt.timedelta(minutes=5),
        tries=2,
        needs_check=True,
        last_error="the network timed out",
    )
    version = (await _channel_row(sessionmaker, ch)).queue_version

    async with sessionmaker() as s, s.begin():
        paused = await channels.pause(s, member=team.editor.member, channel_id=ch, now=clock.now())
        assert paused.paused and paused.paused_reason is None
    assert (await _channel_row(sessionmaker, ch)).queue_version == version + 1

    rows = {p: await _post(sessionmaker, p) for p in (queued, claimed, prepared, retrying)}
    assert {r.status for r in rows.values()} == {PostStatus.HELD}
    # Queued posts were nobody's: their fencing token stays. The others get a new one.
    assert [rows[p].attempt for p in (queued, claimed, prepared, retrying)] == [0, 2, 2, 4]
    for row in rows.values():
        assert (row.claimed_by, row.lease_until, row.retry_at) == (None, None, None)
    # A post whose last try may have reached the network is still looked for first.
    assert rows[retrying].needs_check is True
    assert (rows[retrying].tries, rows[retrying].last_error) == (2, "the network timed out")
    assert (await _post(sessionmaker, pinned)).status is PostStatus.HELD

    # The post being published finishes: untouched.
    sending = await _post(sessionmaker, publishing)
    assert (sending.status, sending.attempt, sending.claimed_by) == (
        PostStatus.PUBLISHING,
        1,
        "b-1",
    )
    # The broadcaster's later writes with the old tokens match nothing.
    assert await _fenced_write(sessionmaker, claimed, 1) == 0
    assert await _fenced_write(sessionmaker, prepared, 1) == 0
    assert (await _post(sessionmaker, claimed)).status is PostStatus.HELD

    async with sessionmaker() as s, s.begin():
        await channels.resume(s, member=team.editor.member, channel_id=ch, now=clock.now())
    after = {p: await _post(sessionmaker, p) for p in (queued, claimed, prepared, retrying)}
    assert {r.status for r in after.values()} == {PostStatus.SCHEDULED}
    # The floating ones fill the free slots from now, in queue order.
    assert [after[p].due_at for p in (queued, claimed, prepared, retrying)] == [
        _at(26, 8),
        _at(26, 12),
        _at(26, 18),
        _at(27, 8),
    ]
    # The post still publishing keeps its slot.
    sending = await _post(sessionmaker, publishing)
    assert (sending.status, sending.due_at) == (PostStatus.PUBLISHING, _at(27, 12))
    assert (await _post(sessionmaker, pinned)).due_at == _at(30, 9)


async def test_the_system_pauses_with_a_reason_and_resuming_clears_it(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    queued, claimed = [await _add(sessionmaker, team, clock, ch, t) for t in "ab"]
    await _claim(sessionmaker, claimed, PostStatus.CLAIMED)
    version = (await _channel_row(sessionmaker, ch)).queue_version
    reason = "Mastodon revoked onthedot's access: reconnect the channel, then resume it"

    async with sessionmaker() as s, s.begin():
        await channels.pause_for_reason(s, channel_id=ch, reason=reason, now=clock.now())
    row = await _channel_row(sessionmaker, ch)
    assert (row.paused, row.paused_reason, row.queue_version) == (True, reason, version + 1)
    assert (await _post(sessionmaker, queued)).status is PostStatus.HELD
    held = await _post(sessionmaker, claimed)
    assert (held.status, held.attempt, held.claimed_by) == (PostStatus.HELD, 2, None)

    # A member pausing again keeps the reason; a post that came back to wait for a retry
    # meanwhile (it was publishing at the pause) is held as well.
    await _force(sessionmaker, claimed, status=PostStatus.RETRY_WAIT, retry_at=_at(26, 7))
    async with sessionmaker() as s, s.begin():
        await channels.pause(s, member=team.owner.member, channel_id=ch, now=clock.now())
        seen = await channels.get_channel(s, member=team.viewer.member, channel_id=ch)
        assert seen.paused_reason == reason
    held = await _post(sessionmaker, claimed)
    assert (held.status, held.attempt, held.retry_at) == (PostStatus.HELD, 3, None)

    # Nothing to pause for a channel that is gone.
    async with sessionmaker() as s, s.begin():
        await channels.pause_for_reason(s, channel_id=987_654, reason=reason, now=clock.now())

    async with sessionmaker() as s, s.begin():
        resumed = await channels.resume(s, member=team.owner.member, channel_id=ch, now=clock.now())
        assert (resumed.paused, resumed.paused_reason) == (False, None)
    assert (await _channel_row(sessionmaker, ch)).paused_reason is None
    assert (await _post(sessionmaker, claimed)).status is PostStatus.SCHEDULED


@pytest.mark.parametrize(
    ("past_pinned", "setting", "missed"),
    [
        ("publish", None, False),
        ("missed", None, True),
        (None, "missed", True),  # the installation's setting decides
        (None, "publish", False),
        ("publish", "missed", False),  # the caller's choice wins over the setting
        (None, None, False),  # no settings at all: the old behaviour, publish
    ],
)
async def test_resume_policy_for_pinned_posts_whose_time_passed(
    sessionmaker: Maker,
    team: Team,
    clock: FrozenClock,
    past_pinned: Literal["publish", "missed"] | None,
    setting: Literal["publish", "missed"] | None,
    missed: bool,
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    a, b = [await _add(sessionmaker, team, clock, ch, t) for t in "ab"]
    past = await _add(sessionmaker, team, clock, ch, "past", Mode.CUSTOM, _at(26, 9, 30))
    ahead = await _add(sessionmaker, team, clock, ch, "ahead", Mode.CUSTOM, _at(30, 9))
    async with sessionmaker() as s, s.begin():
        await channels.pause(s, member=team.owner.member, channel_id=ch, now=clock.now())
    clock.advance(dt.timedelta(days=2))  # Saturday 28 Nov, 06:00 UTC
    settings = Settings(resume_past_pinned=setting) if setting is not None else None

    async with sessionmaker() as s, s.begin():
        await channels.resume(
            s,
            member=team.owner.member,
            channel_id=ch,
            now=clock.now(),
            past_pinned=past_pinned,
            settings=settings,
        )
    row = await _post(sessionmaker, past)
    if missed:
        assert (row.status, row.finished_at, row.due_at) == (
            PostStatus.MISSED,
            clock.now(),
            _at(26, 9, 30),
        )
        assert row.last_error is not None
        assert "2026-11-26 09:30 UTC" in row.last_error and "paused" in row.last_error
    else:
        # Released as it is: due in the past, so it goes out at once (counted late).
        assert (row.status, row.due_at, row.finished_at, row.last_error) == (
            PostStatus.SCHEDULED,
            _at(26, 9, 30),
            None,
            None,
        )
    # Floating posts re-flow from now either way; a pinned post still ahead just waits.
    assert [(await _post(sessionmaker, p)).due_at for p in (a, b)] == [_at(28, 8), _at(28, 12)]
    assert {(await _post(sessionmaker, p)).status for p in (a, b, ahead)} == {PostStatus.SCHEDULED}
    assert (await _post(sessionmaker, ahead)).due_at == _at(30, 9)


async def _resolve(
    maker: Maker,
    team: Team,
    clock: FrozenClock,
    post_id: int,
    outcome: Literal["sent", "retry"],
    actor: str = "editor",
) -> Post:
    async with maker() as s, s.begin():
        return await posts.resolve(
            s,
            member=getattr(team, actor).member,
            post_id=post_id,
            outcome=outcome,
            now=clock.now(),
        )


async def test_an_unknown_post_found_on_the_network_is_marked_sent(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    post = await _add(sessionmaker, team, clock, ch, "a")
    await _force(
        sessionmaker,
        post,
        status=PostStatus.UNKNOWN,
        attempt=2,
        needs_check=True,
        last_error="the network timed out and could not say whether the post exists",
        finished_at=T0,
    )
    clock.advance(dt.timedelta(hours=1))
    sent = await _resolve(sessionmaker, team, clock, post, "sent")
    assert (sent.status, sent.finished_at, sent.last_error, sent.needs_check) == (
        PostStatus.SENT,
        clock.now(),
        None,
        False,
    )
    assert sent.attempt == 3
    with pytest.raises(Conflict) as err:
        await _resolve(sessionmaker, team, clock, post, "retry")
    assert "post" in err.value.detail and "is sent" in err.value.detail
    assert err.value.context["post_status"] == "sent"


@pytest.mark.parametrize("status", [PostStatus.UNKNOWN, PostStatus.FAILED])
async def test_a_retried_post_goes_out_at_once_even_on_a_taken_slot(
    sessionmaker: Maker, team: Team, clock: FrozenClock, status: PostStatus
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    due = await _add(sessionmaker, team, clock, ch, "due at 08:00")
    gone = await _add(sessionmaker, team, clock, ch, "gone wrong")
    await _force(
        sessionmaker,
        gone,
        status=status,
        due_at=T0 - dt.timedelta(hours=1),
        attempt=4,
        tries=8,
        needs_check=status is PostStatus.UNKNOWN,
        last_error="something went wrong",
        finished_at=T0,
    )
    clock.set(_at(26, 8))  # the floating post is due right now: its slot is `now`
    retried = await _resolve(sessionmaker, team, clock, gone, "retry")
    assert (retried.status, retried.pinned, retried.due_at, retried.queue_position) == (
        PostStatus.SCHEDULED,
        True,
        clock.now(),
        None,
    )
    assert (retried.tries, retried.needs_check, retried.last_error, retried.finished_at) == (
        0,
        False,
        None,
        None,
    )
    assert retried.attempt == 5
    # The floating post keeps its slot, at the same instant: the slot index covers only
    # floating posts.
    assert (await _post(sessionmaker, due)).due_at == clock.now()


async def test_what_cannot_be_resolved_says_what_state_it_is_in(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    failed, queued, busy, missed = [await _add(sessionmaker, team, clock, ch, t) for t in "abcd"]
    await _force(
        sessionmaker, failed, status=PostStatus.FAILED, last_error="the network refused the text"
    )
    await _claim(sessionmaker, busy, PostStatus.PUBLISHING)
    await _force(sessionmaker, missed, status=PostStatus.MISSED, last_error="not published: …")

    cases: list[tuple[int, Literal["sent", "retry"], list[str]]] = [
        (failed, "sent", ["is failed", "the network refused the text", "'retry'"]),
        (queued, "sent", ["is scheduled", "not been published"]),
        (queued, "retry", ["is scheduled"]),
        (busy, "retry", ["is publishing", "Wait"]),
        (missed, "retry", ["is missed", "new post"]),
    ]
    for post_id, outcome, words in cases:
        with pytest.raises(Conflict) as err:
            await _resolve(sessionmaker, team, clock, post_id, outcome)
        for word in words:
            assert word in err.value.detail, (outcome, err.value.detail)
    assert (await _post(sessionmaker, failed)).status is PostStatus.FAILED

    with pytest.raises(PermissionDenied):
        await _resolve(sessionmaker, team, clock, failed, "retry", actor="viewer")
    with pytest.raises(NotFound):
        await _resolve(sessionmaker, team, clock, failed, "retry", actor="stranger")

    # Retrying would publish at once: not while the channel is paused.
    async with sessionmaker() as s, s.begin():
        await channels.pause(s, member=team.owner.member, channel_id=ch, now=clock.now())
    with pytest.raises(ChannelPaused):
        await _resolve(sessionmaker, team, clock, failed, "retry")
    assert (await _post(sessionmaker, failed)).status is PostStatus.FAILED


async def test_attempts_newest_first_page_by_page(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    post, other = [await _add(sessionmaker, team, clock, ch, t) for t in "ab"]
    async with sessionmaker() as s, s.begin():
        for n, target in enumerate([post, other, post, post, other, post], 1):
            s.add(
                PublishAttempt(
                    post_id=target,
                    attempt=n,
                    broadcaster="b-1",
                    kind="publish",
                    started_at=T0,
                    ended_at=T0 + dt.timedelta(seconds=1),
                    outcome=AttemptOutcome.RETRY,
                    network_status=503,
                    error="the network is down",
                )
            )
    seen: list[int] = []
    cursor = None
    while True:
        async with sessionmaker() as s:
            rows, cursor = await posts.list_attempts(
                s, member=team.viewer.member, post_id=post, cursor=cursor, limit=3
            )
        seen += [r.attempt for r in rows]
        if cursor is None:
            break
    assert seen == [6, 4, 3, 1]
    async with sessionmaker() as s:
        ids = (await s.scalars(select(PublishAttempt.id).order_by(PublishAttempt.id))).all()
        assert len(ids) == 6
        with pytest.raises(NotFound):
            await posts.list_attempts(
                s, member=team.stranger.member, post_id=post, cursor=None, limit=None
            )
