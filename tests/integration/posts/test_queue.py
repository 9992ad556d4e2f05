"""Every queue operation, on SQLite and PostgreSQL, with a frozen clock."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.channels import service as channels
from onthedot.channels.schedule import Schedule, next_slots
from onthedot.clock import FrozenClock
from onthedot.errors import (
    ChannelPaused,
    Conflict,
    NotFound,
    PostNotEditable,
    ScheduleEmpty,
    ScheduleInPast,
    TextTooLong,
)
from onthedot.networks import Network
from onthedot.posts import service as posts
from onthedot.posts.models import Post, PostStatus
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team
from tests.integration.posts.helpers import SCHEDULE
from tests.integration.posts.helpers import add_post as _add
from tests.integration.posts.helpers import make_channel as _channel

BERLIN = ZoneInfo("Europe/Berlin")

Maker = async_sessionmaker[AsyncSession]


async def _queue(maker: Maker, team: Team, channel_id: int) -> list[Post]:
    async with maker() as s, s.begin():
        _, rows, _ = await posts.queue_page(
            s, member=team.owner.member, channel_id=channel_id, cursor=None, limit=200
        )
        return rows


def _texts(rows: list[Post]) -> list[str]:
    return [p.items[0].text for p in rows]


def _expected(clock: FrozenClock, n: int) -> list[dt.datetime]:
    return next_slots(Schedule.parse(SCHEDULE), BERLIN, clock.now(), n)


async def test_add_to_queue_fills_slots_in_order(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    for t in "abcd":
        await _add(sessionmaker, team, clock, ch, t)
    rows = await _queue(sessionmaker, team, ch)
    assert _texts(rows) == list("abcd")
    assert [p.due_at for p in rows] == _expected(clock, 4)
    # Thursday 26 Nov 2026 06:00 UTC is 07:00 in Berlin: the first slot is 08:00 local.
    assert rows[0].due_at == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


async def test_share_next_takes_the_head_and_pushes_the_rest(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    for t in "abc":
        await _add(sessionmaker, team, clock, ch, t)
    await _add(sessionmaker, team, clock, ch, "urgent", Mode.NEXT)
    rows = await _queue(sessionmaker, team, ch)
    assert _texts(rows) == ["urgent", "a", "b", "c"]
    assert [p.due_at for p in rows] == _expected(clock, 4)


async def test_custom_time_is_pinned_and_takes_no_slot(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    await _add(sessionmaker, team, clock, ch, "a")
    pinned = await _add(
        sessionmaker, team, clock, ch, "pinned", Mode.CUSTOM, at=dt.datetime(2026, 11, 26, 8, 0)
    )  # naive: Berlin wall time
    await _add(sessionmaker, team, clock, ch, "b")
    assert pinned.pinned and pinned.due_at == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)
    rows = await _queue(sessionmaker, team, ch)
    floating = [p for p in rows if not p.pinned]
    assert [p.due_at for p in floating] == _expected(clock, 2)
    # The pinned post shares the 08:00 instant with the first floating one; both go out.
    assert sorted(_texts(rows)) == ["a", "b", "pinned"]


async def test_share_now_is_due_immediately_and_frees_its_slot(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    a = await _add(sessionmaker, team, clock, ch, "a")
    await _add(sessionmaker, team, clock, ch, "b")
    async with sessionmaker() as s, s.begin():
        shared = await posts.set_mode(
            s, member=team.owner.member, post_id=a.id, mode=Mode.NOW, at=None, now=clock.now()
        )
    assert shared.pinned and shared.due_at == clock.now()
    rows = await _queue(sessionmaker, team, ch)
    b = next(p for p in rows if p.items[0].text == "b")
    assert b.due_at == _expected(clock, 1)[0]


async def test_drafts_take_no_slot_until_queued(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    draft = await _add(sessionmaker, team, clock, ch, "draft", Mode.DRAFT)
    await _add(sessionmaker, team, clock, ch, "a")
    assert draft.status is PostStatus.DRAFT and draft.due_at is None
    assert _texts(await _queue(sessionmaker, team, ch)) == ["a"]
    async with sessionmaker() as s, s.begin():
        await posts.set_mode(
            s, member=team.owner.member, post_id=draft.id, mode=Mode.QUEUE, at=None, now=clock.now()
        )
    rows = await _queue(sessionmaker, team, ch)
    assert _texts(rows) == ["a", "draft"]
    assert [p.due_at for p in rows] == _expected(clock, 2)


async def test_move_reorder_shuffle_delete(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    ids = {t: (await _add(sessionmaker, team, clock, ch, t)).id for t in "abcde"}
    m = team.owner.member
    async with sessionmaker() as s, s.begin():
        await posts.move(s, member=m, post_id=ids["d"], position=1, now=clock.now())
    assert _texts(await _queue(sessionmaker, team, ch)) == list("dabce")
    async with sessionmaker() as s, s.begin():
        await posts.move(s, member=m, post_id=ids["d"], position=3, now=clock.now())
    assert _texts(await _queue(sessionmaker, team, ch)) == list("abdce")
    async with sessionmaker() as s, s.begin():
        await posts.reorder(
            s,
            member=m,
            channel_id=ch,
            post_ids=[ids[t] for t in "edcba"],
            queue_version=None,
            now=clock.now(),
        )
    rows = await _queue(sessionmaker, team, ch)
    assert _texts(rows) == list("edcba")
    assert [p.due_at for p in rows] == _expected(clock, 5)
    async with sessionmaker() as s, s.begin():
        await posts.shuffle(s, member=m, channel_id=ch, rng=random.Random(7), now=clock.now())
    rows = await _queue(sessionmaker, team, ch)
    assert sorted(_texts(rows)) == list("abcde")
    assert [p.due_at for p in rows] == _expected(clock, 5)
    async with sessionmaker() as s, s.begin():
        await posts.delete_post(s, member=m, post_id=rows[0].id, now=clock.now())
    after = await _queue(sessionmaker, team, ch)
    assert _texts(after) == _texts(rows)[1:]
    assert [p.due_at for p in after] == _expected(clock, 4)


async def test_reorder_must_name_every_post_and_respects_version(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    a = await _add(sessionmaker, team, clock, ch, "a")
    b = await _add(sessionmaker, team, clock, ch, "b")
    m = team.owner.member
    with pytest.raises(Conflict, match="missing"):
        async with sessionmaker() as s, s.begin():
            await posts.reorder(
                s, member=m, channel_id=ch, post_ids=[b.id], queue_version=None, now=clock.now()
            )
    with pytest.raises(Conflict, match="changed since you read it"):
        async with sessionmaker() as s, s.begin():
            await posts.reorder(
                s, member=m, channel_id=ch, post_ids=[b.id, a.id], queue_version=0, now=clock.now()
            )
    assert _texts(await _queue(sessionmaker, team, ch)) == ["a", "b"]


async def test_edit_keeps_place_and_checks_limits(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock, network=Network.BLUESKY, handle="a.bsky.social")
    a = await _add(sessionmaker, team, clock, ch, "a")
    async with sessionmaker() as s, s.begin():
        edited = await posts.update_post(
            s,
            member=team.owner.member,
            post_id=a.id,
            items=[ItemInput("a2"), ItemInput("thread 2")],
            now=clock.now(),
        )
    assert [i.text for i in edited.items] == ["a2", "thread 2"] and edited.due_at == a.due_at
    with pytest.raises(TextTooLong) as err:
        async with sessionmaker() as s, s.begin():
            await posts.update_post(
                s,
                member=team.owner.member,
                post_id=a.id,
                items=[ItemInput("é" * 301)],
                now=clock.now(),
            )
    assert err.value.context["over"] == 1
    rows = await _queue(sessionmaker, team, ch)
    assert [i.text for i in rows[0].items] == ["a2", "thread 2"]


async def test_pause_holds_and_resume_reflows_from_now(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    for t in "ab":
        await _add(sessionmaker, team, clock, ch, t)
    m = team.owner.member
    async with sessionmaker() as s, s.begin():
        await channels.pause(s, member=m, channel_id=ch, now=clock.now())
    assert {p.status for p in await _queue(sessionmaker, team, ch)} == {PostStatus.HELD}
    with pytest.raises(ChannelPaused):
        await _add(sessionmaker, team, clock, ch, "now", Mode.NOW)
    await _add(sessionmaker, team, clock, ch, "c")  # adding to a paused queue is fine
    clock.advance(dt.timedelta(days=2))  # Saturday 28 Nov, 06:00 UTC
    async with sessionmaker() as s, s.begin():
        await channels.resume(s, member=m, channel_id=ch, now=clock.now())
    rows = await _queue(sessionmaker, team, ch)
    assert _texts(rows) == list("abc")
    assert {p.status for p in rows} == {PostStatus.SCHEDULED}
    assert [p.due_at for p in rows] == _expected(clock, 3)


async def test_schedule_edit_reflows_and_an_empty_schedule_is_refused(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    for t in "ab":
        await _add(sessionmaker, team, clock, ch, t)
    m = team.owner.member
    async with sessionmaker() as s, s.begin():
        await channels.update_channel(
            s, member=m, channel_id=ch, now=clock.now(), schedule="daily 21:00"
        )
    rows = await _queue(sessionmaker, team, ch)
    assert [p.due_at for p in rows] == next_slots(
        Schedule.parse("daily 21:00"), BERLIN, clock.now(), 2
    )
    with pytest.raises(ScheduleEmpty):
        async with sessionmaker() as s, s.begin():
            await channels.update_channel(s, member=m, channel_id=ch, now=clock.now(), schedule="")
    assert [p.due_at for p in await _queue(sessionmaker, team, ch)] == [p.due_at for p in rows]


async def test_time_zone_change_reflows(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    await _add(sessionmaker, team, clock, ch, "a")
    async with sessionmaker() as s, s.begin():
        await channels.update_channel(
            s, member=team.owner.member, channel_id=ch, now=clock.now(), timezone="Asia/Tokyo"
        )
    (row,) = await _queue(sessionmaker, team, ch)
    assert (
        row.due_at
        == next_slots(Schedule.parse(SCHEDULE), ZoneInfo("Asia/Tokyo"), clock.now(), 1)[0]
    )


async def test_past_times_and_errors_write_nothing(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    with pytest.raises(ScheduleInPast):
        await _add(
            sessionmaker,
            team,
            clock,
            ch,
            "late",
            Mode.CUSTOM,
            at=clock.now() - dt.timedelta(minutes=1),
        )
    with pytest.raises(ScheduleInPast):
        await _add(sessionmaker, team, clock, ch, "exact", Mode.CUSTOM, at=clock.now())
    with pytest.raises(NotFound):
        async with sessionmaker() as s, s.begin():
            await posts.create_posts(
                s,
                member=team.owner.member,
                channel_ids=[ch, 999_999],
                items=[ItemInput("x")],
                mode=Mode.QUEUE,
                at=None,
                now=clock.now(),
            )
    empty = await _channel(sessionmaker, team, clock, schedule="", handle="@b@example.social")
    with pytest.raises(ScheduleEmpty):
        async with sessionmaker() as s, s.begin():
            await posts.create_posts(
                s,
                member=team.owner.member,
                channel_ids=[ch, empty],
                items=[ItemInput("x")],
                mode=Mode.QUEUE,
                at=None,
                now=clock.now(),
            )
    assert await _queue(sessionmaker, team, ch) == []


async def test_one_post_for_several_channels(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    berlin = await _channel(sessionmaker, team, clock)
    tokyo = await _channel(
        sessionmaker, team, clock, timezone="Asia/Tokyo", handle="@t@example.social"
    )
    async with sessionmaker() as s, s.begin():
        created = await posts.create_posts(
            s,
            member=team.owner.member,
            channel_ids=[tokyo, berlin],
            items=[ItemInput("hello")],
            mode=Mode.CUSTOM,
            at=dt.datetime(2026, 11, 30, 9, 0),
            now=clock.now(),
        )
    assert len({p.group_id for p in created}) == 1
    by_channel = {p.channel_id: p.due_at for p in created}
    assert by_channel[berlin] == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert by_channel[tokyo] == dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)


async def test_posts_in_flight_cannot_be_changed_and_keep_their_slot(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    a = await _add(sessionmaker, team, clock, ch, "a")
    await _add(sessionmaker, team, clock, ch, "b")
    async with sessionmaker() as s, s.begin():
        row = await s.get(Post, a.id)
        assert row is not None
        row.status = PostStatus.CLAIMED  # what the broadcaster will do
    with pytest.raises(PostNotEditable):
        async with sessionmaker() as s, s.begin():
            await posts.delete_post(s, member=team.owner.member, post_id=a.id, now=clock.now())
    await _add(sessionmaker, team, clock, ch, "c", Mode.NEXT)
    rows = await _queue(sessionmaker, team, ch)
    slots = _expected(clock, 3)
    assert {p.items[0].text: p.due_at for p in rows} == {
        "a": slots[0],
        "c": slots[1],
        "b": slots[2],
    }


async def test_overdue_floating_post_keeps_its_time(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    ch = await _channel(sessionmaker, team, clock)
    a = await _add(sessionmaker, team, clock, ch, "a")
    clock.set(a.due_at + dt.timedelta(seconds=30))  # type: ignore[operator]
    await _add(sessionmaker, team, clock, ch, "b", Mode.NEXT)
    rows = await _queue(sessionmaker, team, ch)
    assert rows[0].id == a.id and rows[0].due_at == a.due_at
    assert rows[1].due_at == _expected(clock, 1)[0]


async def test_queue_pagination(sessionmaker: Maker, team: Team, clock: FrozenClock) -> None:
    ch = await _channel(sessionmaker, team, clock)
    for i in range(7):
        await _add(sessionmaker, team, clock, ch, f"p{i}")
    seen: list[str] = []
    cursor = None
    async with sessionmaker() as s, s.begin():
        while True:
            _, rows, cursor = await posts.queue_page(
                s, member=team.owner.member, channel_id=ch, cursor=cursor, limit=3
            )
            seen += _texts(rows)
            if cursor is None:
                break
    assert seen == [f"p{i}" for i in range(7)]


async def test_queue_across_a_spring_forward_gap(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    """02:30 does not exist in New York on 8 March 2026: that slot is 03:30 EDT."""
    clock.set(dt.datetime(2026, 3, 6, 12, 0, tzinfo=dt.UTC))
    ch = await _channel(
        sessionmaker, team, clock, timezone="America/New_York", schedule="daily 02:30, 03:30"
    )
    for t in "abcdef":
        await _add(sessionmaker, team, clock, ch, t)
    local = [
        p.due_at.astimezone(ZoneInfo("America/New_York"))
        for p in await _queue(sessionmaker, team, ch)
    ]  # type: ignore[union-attr]
    assert [x.strftime("%d %H:%M %Z") for x in local] == [
        "07 02:30 EST",
        "07 03:30 EST",
        "08 03:30 EDT",  # 02:30 shifted by the gap lands on 03:30: one slot, not two
        "09 02:30 EDT",
        "09 03:30 EDT",
        "10 02:30 EDT",
    ]


async def test_queue_across_a_fall_back_overlap(
    sessionmaker: Maker, team: Team, clock: FrozenClock
) -> None:
    """01:30 happens twice in New York on 1 November 2026: the first one is the slot."""
    clock.set(dt.datetime(2026, 10, 31, 12, 0, tzinfo=dt.UTC))
    ch = await _channel(
        sessionmaker, team, clock, timezone="America/New_York", schedule="daily 01:30"
    )
    for t in "ab":
        await _add(sessionmaker, team, clock, ch, t)
    rows = await _queue(sessionmaker, team, ch)
    assert [p.due_at for p in rows] == [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),  # 01:30 EDT, the first occurrence
        dt.datetime(2026, 11, 2, 6, 30, tzinfo=dt.UTC),  # 01:30 EST
    ]
