"""Every transition of the broadcaster, with a frozen clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text, update

from onthedot.broadcaster.service import create_broadcaster
from onthedot.channels import service as channels
from onthedot.channels.models import Channel
from onthedot.errors import ConfigurationError
from onthedot.networks import Network
from onthedot.networks.base import (
    AuthRevoked,
    CannotTell,
    Item,
    Job,
    Permanent,
    Published,
    RateLimited,
    Transient,
)
from onthedot.posts.models import AttemptOutcome, Post, PostStatus
from tests.integration.broadcaster.conftest import World

S = dt.timedelta(seconds=1)


async def test_never_early_and_on_the_dot(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 30 * S
    post_id = await world.post(ch, due, "on the dot")
    b = await running()
    await b.pump()
    await b.settle()
    assert (await world.get(post_id)).status == PostStatus.PREPARED
    assert [c.kind for c in world.net.calls] == ["prepare"]

    world.clock.set(due - dt.timedelta(milliseconds=1))
    await b.settle()
    assert world.net.commits() == []

    world.clock.set(due)
    await b.settle()
    (call,) = world.net.commits()
    assert call.at == due
    post = await world.get(post_id)
    assert post.status == PostStatus.SENT
    assert post.finished_at == due and post.claimed_by is None and post.lease_until is None
    (item,) = await world.items(post_id)
    assert item.network_id == "n1" and item.published_at == due
    (record,) = await world.attempts(post_id)
    assert record.outcome == AttemptOutcome.SENT and record.lateness_s == 0.0
    assert record.attempt == post.attempt == 1 and record.broadcaster == b.id


async def test_publishing_is_committed_before_the_network_call(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    seen: list[str] = []

    async def check(job, item) -> None:  # type: ignore[no-untyped-def]
        async with world.engine.connect() as conn:
            status = (
                await conn.execute(
                    text("SELECT status FROM posts WHERE id = :i"), {"i": job.post_id}
                )
            ).scalar_one()
        seen.append(status)

    world.net.before_commit = check
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    assert seen == ["publishing"]
    assert (await world.get(post_id)).status == PostStatus.SENT


async def test_a_stale_owner_is_fenced_out(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    b = await running()
    await b.pump()
    await b.settle()
    # Someone else takes the post over meanwhile (its attempt moves on).
    await world.force(post_id, attempt=Post.attempt + 1, claimed_by="other")
    world.clock.set(due)
    await b.settle()
    assert world.net.commits() == []
    assert b.stats["fenced"] == 1
    assert (await world.get(post_id)).status == PostStatus.PREPARED


async def test_transient_error_backs_off_then_sends(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [Transient("503 from the network", status=503, maybe_sent=False)]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.tries == 1 and not post.needs_check
    assert post.retry_at is not None and due + S <= post.retry_at <= due + 2 * S
    assert post.claimed_by is None
    world.clock.set(post.retry_at)
    await b.pump()
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.SENT and post.attempt == 2 and post.tries == 1
    outcomes = [a.outcome for a in await world.attempts(post_id)]
    assert outcomes == [AttemptOutcome.RETRY, AttemptOutcome.SENT]
    assert len(world.net.created) == 1


async def test_a_lost_answer_is_looked_for_before_retrying(world: World, running) -> None:  # type: ignore[no-untyped-def]
    world.net.idempotent = False
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [("ghost", Transient("502 bad gateway", status=502, maybe_sent=True))]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check
    assert post.retry_at is not None
    world.clock.set(post.retry_at)
    await b.pump()
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.SENT
    assert [c.kind for c in world.net.calls if c.kind != "prepare"] == ["commit", "find"]
    assert world.net.created == [(post_id, 0)]
    outcomes = [a.outcome for a in await world.attempts(post_id)]
    assert outcomes == [AttemptOutcome.RETRY, AttemptOutcome.FOUND]


async def test_rate_limit_waits_for_the_reset_without_using_a_try(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    first = await world.post(ch, due, "first")
    second = await world.post(ch, due + S, "second")
    reset = due + 90 * S
    world.net.script = [RateLimited("too many requests", status=429, reset_at=reset)]
    b = await running()
    await b.pump()
    world.clock.set(due + S)
    await b.settle()
    for post_id in (first, second):
        post = await world.get(post_id)
        assert post.status == PostStatus.RETRY_WAIT
        assert post.retry_at == reset and post.tries == 0
    assert len(world.net.commits()) == 1  # the second waited without calling
    world.clock.set(reset)
    await b.pump()
    await b.settle()
    assert [(await world.get(p)).status for p in (first, second)] == [PostStatus.SENT] * 2
    assert [c.post_id for c in world.net.commits()][1:] == [first, second]


async def test_permanent_error_fails_with_the_networks_reason(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [Permanent("the text contains a banned link", status=422, code="invalid")]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.FAILED
    assert post.last_error == "sandbox refused the post: the text contains a banned link"
    (record,) = await world.attempts(post_id)
    assert (record.outcome, record.network_status, record.error_code) == (
        AttemptOutcome.FAILED,
        422,
        "invalid",
    )
    assert world.revoked == []


async def test_revoked_token_fails_and_reports_the_channel(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [AuthRevoked("access revoked: reconnect the channel", status=401)]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    assert (await world.get(post_id)).status == PostStatus.FAILED
    assert world.revoked == [(ch, "sandbox: access revoked: reconnect the channel")]


async def test_gives_up_after_max_tries(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [Transient("timeout", maybe_sent=False) for _ in range(3)]
    b = await running(max_tries=3)
    await b.pump()
    world.clock.set(due)
    for _ in range(3):
        await b.settle()
        post = await world.get(post_id)
        if post.retry_at is not None and post.status == PostStatus.RETRY_WAIT:
            world.clock.set(post.retry_at)
            await b.pump()
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.FAILED and post.tries == 3
    assert post.last_error == "sandbox kept failing: timeout (gave up after 3 tries)"


async def test_crash_recovery_finds_a_post_that_went_out(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    sent_id = await world.post(ch, due, "went out")
    lost_id = await world.post(ch, due + S, "never left")
    # A broadcaster died in the network call of both: the first reached the network.
    for post_id in (sent_id, lost_id):
        await world.force(
            post_id,
            status=PostStatus.PUBLISHING,
            attempt=1,
            claimed_by="dead",
            lease_until=due + 10 * S,
        )
    b = await running()
    await b.pump()  # leases still valid: nothing to recover yet
    assert b.held_count == 0
    world.clock.set(due + 11 * S)
    # The first one is on the network, under its idempotency key, as the dead one sent it.
    job = Job(
        post_id=sent_id,
        channel_id=ch,
        workspace_id=world.team.owner.member.workspace_id,
        network=Network.SANDBOX,
        handle="@a",
        credentials={},
        items=(Item(item_id=0, position=0, text="went out"),),
        due_at=due,
    )
    world.net.posts[job.idempotency_key(job.items[0])] = Published("n-earlier")
    await b.pump()
    await b.settle()
    sent, lost = await world.get(sent_id), await world.get(lost_id)
    assert sent.status == lost.status == PostStatus.SENT
    assert [c.post_id for c in world.net.commits()] == [lost_id]
    assert (await world.items(sent_id))[0].network_id == "n-earlier"
    assert [a.outcome for a in await world.attempts(sent_id)] == [AttemptOutcome.FOUND]
    assert [a.outcome for a in await world.attempts(lost_id)] == [
        AttemptOutcome.NOT_FOUND,
        AttemptOutcome.SENT,
    ]


async def test_when_the_network_cannot_tell_the_post_is_unknown(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    await world.force(
        post_id, status=PostStatus.PUBLISHING, attempt=1, claimed_by="dead", lease_until=due
    )
    world.net.find_script = [CannotTell("no way to look posts up")]
    world.clock.set(due + S)
    b = await running()
    await b.pump()
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.UNKNOWN
    assert post.last_error is not None and "resolve the post as sent or retry it" in post.last_error
    assert world.net.commits() == []


async def test_a_dead_broadcasters_posts_are_recovered_before_their_lease_ends(  # type: ignore[no-untyped-def]
    world: World, running
) -> None:
    ch = await world.channel()
    due = world.clock.now() + 20 * S
    post_id = await world.post(ch, due)
    dead = await running()
    await dead.pump()
    await dead.settle()
    # `dead` stops heartbeating (its process is gone) without handing anything back.
    dead._stopping = True
    if dead._lock is not None:  # on SQLite the OS frees it when a process dies
        dead._lock.release()
    b = await running()
    world.clock.set(world.clock.now() + 15 * S)
    await b.heartbeat()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.SENT and post.attempt == 2
    assert [c.post_id for c in world.net.commits()] == [post_id]


async def test_channel_order_and_threads(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    ids = [await world.post(ch, due, f"post {i}") for i in range(3)]
    thread = await world.post(ch, due + S, "part 1", "part 2", "part 3")
    b = await running()
    await b.pump()
    world.clock.set(due + S)
    await b.settle()
    commits = world.net.commits()
    assert [c.post_id for c in commits] == [*ids, thread, thread, thread]
    parts = commits[3:]
    assert [c.position for c in parts] == [0, 1, 2]
    assert parts[0].reply_to is None
    items = await world.items(thread)
    assert parts[1].reply_to == items[0].network_id
    assert parts[2].reply_to == items[1].network_id


async def test_one_big_account_does_not_starve_the_others(world: World, running) -> None:  # type: ignore[no-untyped-def]
    big = await world.channel("@big")
    small = await world.channel("@small")
    due = world.clock.now() + 5 * S
    for i in range(6):
        await world.post(big, due, f"big {i}")
    lone = await world.post(small, due, "small")
    b = await running(max_in_flight=2)
    await b.pump()
    world.clock.set(due)
    await b.settle()
    order = [c.post_id for c in world.net.commits()]
    assert len(order) == 7
    assert order.index(lone) <= 1


async def test_graceful_stop_hands_back_what_has_not_started(world: World) -> None:
    ch = await world.channel()
    due = world.clock.now() + 30 * S
    post_id = await world.post(ch, due)
    b = world.broadcaster()
    await b.start()
    await b.pump()
    await b.settle()
    await b.shutdown()
    post = await world.get(post_id)
    assert post.status == PostStatus.SCHEDULED
    assert post.claimed_by is None and post.attempt == 1
    again = world.broadcaster()
    await again.start()
    await again.pump()
    world.clock.set(due)
    await again.settle()
    await again.shutdown()
    assert (await world.get(post_id)).status == PostStatus.SENT


async def test_overdue_posts_go_out_at_once_and_count_as_late(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.clock.set(due + 600 * S)  # every broadcaster was down
    b = await running()
    await b.pump()
    await b.settle()
    assert b.stats["overdue"] == 1
    (record,) = await world.attempts(post_id)
    assert record.lateness_s == 600.0


async def test_slow_preparation_does_not_make_a_post_late(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 50 * S
    post_id = await world.post(ch, due, "a large video")
    world.net.prepare_until = due - 10 * S  # a 40-second upload and processing
    b = await running()
    await b.pump()
    world.clock.set(due - 10 * S)
    await b.settle()
    assert (await world.get(post_id)).status == PostStatus.PREPARED
    world.clock.set(due)
    await b.settle()
    (call,) = world.net.commits()
    assert call.at == due


async def test_a_second_broadcaster_on_one_sqlite_file_refuses_to_start(  # type: ignore[no-untyped-def]
    world: World, running, db_url: str
) -> None:
    first = await running()
    second = world.broadcaster()
    if world.engine.dialect.name != "sqlite":
        await second.start()  # PostgreSQL: many share the work
        await second.shutdown()
        return
    with pytest.raises(ConfigurationError, match="only one may run"):
        await second.start()
    await first.shutdown()
    third = world.broadcaster()
    await third.start()  # the lock went with the first
    await third.shutdown()


async def test_retries_of_a_paused_channel_wait_for_the_resume(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    # A post that was publishing when its channel was paused came back for a retry.
    await world.force(post_id, status=PostStatus.RETRY_WAIT, retry_at=due, attempt=1)
    async with world.engine.begin() as conn:
        await conn.execute(update(Channel).where(Channel.id == ch).values(paused=True))
    world.clock.set(due)
    b = await running()
    await b.pump()
    await b.settle()
    assert b.held_count == 0 and world.net.commits() == []
    async with world.engine.begin() as conn:
        await conn.execute(update(Channel).where(Channel.id == ch).values(paused=False))
    await b.pump()
    await b.settle()
    assert (await world.get(post_id)).status == PostStatus.SENT


async def test_a_call_that_never_answers_times_out_and_is_looked_for_next(  # type: ignore[no-untyped-def]
    world: World, running
) -> None:
    world.net.idempotent = False
    world.net.block = asyncio.Event()  # the network never answers
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    b = await running(publish_timeout_s=0.05)
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check and post.tries == 1
    (record,) = await world.attempts(post_id)
    assert record.outcome == AttemptOutcome.RETRY
    assert record.error == "the network did not answer in time while publishing"


async def test_a_revoked_token_pauses_the_channel_and_holds_its_posts(  # type: ignore[no-untyped-def]
    world: World, settings
) -> None:
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    first = await world.post(ch, due, "first")
    later = await world.post(ch, due + 3600 * S, "an hour later")
    world.net.script = [AuthRevoked("the token was revoked on the network", status=401)]
    b = create_broadcaster(
        settings, engine=world.engine, clock=world.clock, adapters={Network.SANDBOX: world.net}
    )
    await b.start()
    try:
        await b.pump()
        world.clock.set(due)
        await b.settle()
    finally:
        await b.shutdown()
    assert (await world.get(first)).status == PostStatus.FAILED
    assert (await world.get(later)).status == PostStatus.HELD
    async with world.maker() as s:
        channel = await s.get(Channel, ch)
        assert channel is not None and channel.paused
        assert channel.paused_reason is not None
        assert "the token was revoked on the network" in channel.paused_reason
        assert "reconnect" in channel.paused_reason


async def test_claims_stay_near_the_batch_and_go_on_while_posts_are_imminent(  # type: ignore[no-untyped-def]
    world: World, running
) -> None:
    soon = world.clock.now() + 5 * S
    later = world.clock.now() + 50 * S
    for n in range(4):
        ch = await world.channel(f"@c{n}")
        for _ in range(3):
            await world.post(ch, soon, f"soon {n}")
            await world.post(ch, later, f"later {n}")
    b = await running(claim_batch=4)
    # The first four candidates (due soon) cover channels 0 and 1; the list is cut inside
    # channel 1, so only channel 0 is claimed: all of its posts due within the lead time.
    assert await b.pump() is True
    assert b.held_count == 6
    while await b.pump():
        pass
    assert b.held_count == 24
    assert await b.pump() is False  # nothing left, nothing more to wait for


async def test_an_adapter_bug_counts_as_a_try_that_may_have_gone_out(world: World, running) -> None:  # type: ignore[no-untyped-def]
    world.net.idempotent = False

    def broken(job, item) -> None:  # type: ignore[no-untyped-def]
        raise ValueError("token=secret-value in a bad place")

    world.net.before_commit = broken
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.RETRY_WAIT and post.needs_check and post.tries == 1
    assert post.last_error is not None and "secret-value" not in post.last_error
    assert "unexpected error in the adapter (ValueError)" in post.last_error


async def test_a_thread_interrupted_half_way_goes_on_from_where_it_stopped(  # type: ignore[no-untyped-def]
    world: World, running
) -> None:
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    thread = await world.post(ch, due, "part 1", "part 2", "part 3")
    # Part 1 goes out, part 2 hits a 503 that provably sent nothing.
    world.net.script = [None, Transient("503", status=503, maybe_sent=False)]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(thread)
    assert post.status == PostStatus.RETRY_WAIT and post.retry_at is not None
    items = await world.items(thread)
    assert items[0].network_id is not None and items[1].network_id is None
    world.clock.set(post.retry_at)
    await b.pump()
    await b.settle()
    assert (await world.get(thread)).status == PostStatus.SENT
    assert [(c.position, c.reply_to) for c in world.net.commits()] == [
        (0, None),
        (1, items[0].network_id),  # the 503
        (1, items[0].network_id),
        (2, (await world.items(thread))[1].network_id),
    ]
    assert world.net.created == [(thread, 0), (thread, 1), (thread, 2)]


async def test_no_retry_after_the_deadline(world: World, running) -> None:  # type: ignore[no-untyped-def]
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch, due)
    world.net.script = [Transient("503", status=503, maybe_sent=False)]
    b = await running(retry_deadline_s=1.0)  # the first backoff alone is longer
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.FAILED and post.tries == 1
    assert post.last_error == "sandbox kept failing: 503 (gave up after 1 try)"


async def test_a_network_wide_rate_limit_holds_every_account_of_that_network(  # type: ignore[no-untyped-def]
    world: World, running
) -> None:
    one, two = await world.channel("@one"), await world.channel("@two")
    due = world.clock.now() + 5 * S
    first = await world.post(one, due, "first")
    second = await world.post(two, due + S, "second, another account")
    reset = due + 30 * S
    world.net.script = [
        RateLimited("app limit reached", status=429, reset_at=reset, scope="network")
    ]
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    world.clock.set(due + S)
    await b.settle()
    assert len(world.net.commits()) == 1
    for post_id in (first, second):
        post = await world.get(post_id)
        assert (post.status, post.retry_at, post.tries) == (PostStatus.RETRY_WAIT, reset, 0)


async def test_a_network_without_an_adapter_fails_with_a_message(world: World, running) -> None:  # type: ignore[no-untyped-def]

    async with world.maker() as s, s.begin():
        ch = await channels.create_channel(
            s,
            member=world.team.owner.member,
            network=Network.BLUESKY,
            handle="@someone.bsky.social",
            timezone="UTC",
            schedule="daily 08:00",
            now=world.clock.now(),
        )
    due = world.clock.now() + 5 * S
    post_id = await world.post(ch.id, due)
    b = await running()
    await b.pump()
    world.clock.set(due)
    await b.settle()
    post = await world.get(post_id)
    assert post.status == PostStatus.FAILED
    assert (
        post.last_error == "onthedot cannot publish to bluesky yet: no adapter for it is installed"
    )
