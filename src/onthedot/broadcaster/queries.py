"""The broadcaster's statements: claims, recovery, fenced state changes.

Claims lock channels, not posts. A broadcaster reads the oldest due posts, locks their
channels with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite runs one broadcaster), then claims
every due post of the channels it locked in one statement. So the posts of one channel due
together are always claimed together, by one broadcaster, and go out in queue order; and two
broadcasters never wait on each other's rows. Queue changes lock the same channel row, so a
claim and an edit of one queue run one after the other.

Every later state change names the fencing token (`attempt`) it expects: a broadcaster that
stalled past its lease, or a post a person paused meanwhile, simply matches no row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Insert,
    Select,
    Update,
    bindparam,
    case,
    delete,
    insert,
    or_,
    select,
    update,
)

from onthedot.channels.models import Channel
from onthedot.posts.models import Broadcaster, Post, PostItem, PostStatus

# How far before the oldest candidate a due claim reaches (see `claim_due`): wider than any
# clock difference between the candidate read and the claim.
DUE_SLACK = dt.timedelta(days=1)
# States in which a broadcaster owns a post and its lease matters.
OWNED = (PostStatus.CLAIMED, PostStatus.PREPARED, PostStatus.PUBLISHING)
# What a claim returns about each post.
CLAIM_COLUMNS = (
    Post.id,
    Post.channel_id,
    Post.workspace_id,
    Post.attempt,
    Post.status,
    Post.due_at,
    Post.retry_at,
    Post.queue_position,
    Post.tries,
    Post.needs_check,
)


def due_channels(*, horizon: dt.datetime, limit: int) -> Select[int, dt.datetime | None]:
    """Channels of the oldest scheduled posts due up to `horizon`, a channel's posts due
    together side by side (so a claim can take whole channels and stay near `limit`)."""
    return (
        select(Post.channel_id, Post.due_at)
        .where(Post.status == PostStatus.SCHEDULED, Post.due_at <= horizon)
        .order_by(Post.due_at, Post.channel_id)
        .limit(limit)
    )


def retry_channels(*, horizon: dt.datetime, limit: int) -> Select[int, dt.datetime | None]:
    """Channels of the posts whose retry comes due up to `horizon`."""
    return (
        select(Post.channel_id, Post.retry_at)
        .where(Post.status == PostStatus.RETRY_WAIT, Post.retry_at <= horizon)
        .order_by(Post.retry_at)
        .limit(limit)
    )


def expired_channels(*, now: dt.datetime, limit: int) -> Select[int, dt.datetime | None]:
    """Channels of posts whose broadcaster's lease ran out (it died or stalled).

    Unordered: they are all overdue already, and few.
    """
    return (
        select(Post.channel_id, Post.lease_until)
        .where(Post.status.in_(OWNED), Post.lease_until <= now)
        .limit(limit)
    )


def lock_channels(channel_ids: Sequence[int], *, limit: int | None = None) -> Select[int, bool]:
    """Up to `limit` of the channels no one else holds right now, and whether each is paused.

    Channels another broadcaster holds are skipped (and do not count towards the limit), so
    two broadcasters reading the same candidates each lock a different share of them.
    """
    query = select(Channel.id, Channel.paused).where(Channel.id.in_(channel_ids))
    if limit is not None:
        query = query.limit(limit)
    return query.with_for_update(skip_locked=True)


def _claim(
    *conditions: ColumnElement[bool], me: str, lease_until: dt.datetime, **values: Any
) -> Update:
    """Claim the posts that meet `conditions`: a new fencing token, this owner, a lease."""
    return (
        update(Post)
        .where(*conditions)
        .values(attempt=Post.attempt + 1, claimed_by=me, lease_until=lease_until, **values)
        .returning(*CLAIM_COLUMNS)
    )


def claim_due(
    *,
    channel_ids: Sequence[int],
    horizon: dt.datetime,
    me: str,
    lease_until: dt.datetime,
    since: dt.datetime | None = None,
) -> Update:
    """Claim every scheduled post of the channels due up to `horizon` (and from `since`).

    `since` (the oldest candidate's due time less `DUE_SLACK`) changes no result: the
    candidates are the oldest scheduled posts, so none older was waiting when they were read.
    It bounds the range for the planner. PostgreSQL, without it, judges `due_at <= horizon`
    by the whole column (mostly past, sent posts) and reads every scheduled post through a
    status-only index: with a million posts stored, 150,000 rows for a batch of 1,000.
    """
    window = Post.due_at <= horizon if since is None else Post.due_at.between(since, horizon)
    return _claim(
        Post.channel_id.in_(channel_ids),
        Post.status == PostStatus.SCHEDULED,
        window,
        me=me,
        lease_until=lease_until,
        status=PostStatus.CLAIMED,
    )


def claim_retries(
    *, channel_ids: Sequence[int], horizon: dt.datetime, me: str, lease_until: dt.datetime
) -> Update:
    return _claim(
        Post.channel_id.in_(channel_ids),
        Post.status == PostStatus.RETRY_WAIT,
        Post.retry_at <= horizon,
        me=me,
        lease_until=lease_until,
        status=PostStatus.CLAIMED,
    )


def claim_expired(
    *, channel_ids: Sequence[int], now: dt.datetime, me: str, lease_until: dt.datetime
) -> Update:
    """Take over posts whose lease ran out.

    A post found `publishing` may or may not have reached the network: it stays publishing
    and is marked to be looked for before anything is sent again.
    """
    was_publishing = Post.status == PostStatus.PUBLISHING
    return _claim(
        Post.channel_id.in_(channel_ids),
        Post.status.in_(OWNED),
        Post.lease_until <= now,
        me=me,
        lease_until=lease_until,
        status=case((was_publishing, PostStatus.PUBLISHING), else_=PostStatus.CLAIMED),
        needs_check=case((was_publishing, True), else_=Post.needs_check),
    )


def _fenced(ids: Sequence[int], attempt: int, states: Sequence[PostStatus]) -> ColumnElement[bool]:
    return (Post.id.in_(ids)) & (Post.attempt == attempt) & (Post.status.in_(states))


def to_prepared(*, ids: Sequence[int], attempt: int, now: dt.datetime) -> Update:
    return (
        update(Post)
        .where(_fenced(ids, attempt, (PostStatus.CLAIMED,)))
        .values(status=PostStatus.PREPARED, updated_at=now)
        .returning(Post.id)
    )


def to_publishing(
    *, ids: Sequence[int], attempt: int, now: dt.datetime, lease_until: dt.datetime
) -> Update:
    """The one write before the network call; a post that misses it is not published."""
    return (
        update(Post)
        .where(_fenced(ids, attempt, OWNED))
        .values(status=PostStatus.PUBLISHING, lease_until=lease_until, updated_at=now)
        .returning(Post.id)
    )


def release(*, ids: Sequence[int], attempt: int, now: dt.datetime) -> Update:
    """Hand claimed posts back (a graceful stop): to the queue, or to their retry wait."""
    return (
        update(Post)
        .where(_fenced(ids, attempt, (PostStatus.CLAIMED, PostStatus.PREPARED)))
        .values(
            status=case(
                (Post.retry_at.is_(None), PostStatus.SCHEDULED), else_=PostStatus.RETRY_WAIT
            ),
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        .returning(Post.id)
    )


def finish() -> Update:
    """A post's outcome, one row per parameter set (executemany), fenced on its attempt."""
    return (
        update(Post)
        .where(
            Post.id == bindparam("b_id"),
            Post.attempt == bindparam("b_attempt"),
            # Spelled out: an expanding IN cannot be used with executemany.
            or_(*(Post.status == state for state in OWNED)),
        )
        .values(
            status=bindparam("b_status", type_=Post.status.type),
            retry_at=bindparam("b_retry_at", type_=Post.retry_at.type),
            tries=bindparam("b_tries", type_=Post.tries.type),
            needs_check=bindparam("b_needs_check", type_=Post.needs_check.type),
            last_error=bindparam("b_last_error", type_=Post.last_error.type),
            finished_at=bindparam("b_finished_at", type_=Post.finished_at.type),
            claimed_by=None,
            lease_until=None,
            updated_at=bindparam("b_now", type_=Post.updated_at.type),
        )
    )


def renew_leases(*, ids: Sequence[int], attempt: int, lease_until: dt.datetime) -> Update:
    return update(Post).where(_fenced(ids, attempt, OWNED)).values(lease_until=lease_until)


def item_published() -> Update:
    """Where an item landed. Not fenced: it is a fact about the network, whoever owns it."""
    return (
        update(PostItem)
        .where(PostItem.id == bindparam("b_id"))
        .values(
            network_id=bindparam("b_network_id", type_=PostItem.network_id.type),
            network_url=bindparam("b_network_url", type_=PostItem.network_url.type),
            published_at=bindparam("b_published_at", type_=PostItem.published_at.type),
        )
    )


def heartbeat(*, me: str, now: dt.datetime) -> Update:
    return update(Broadcaster).where(Broadcaster.id == me).values(heartbeat_at=now)


def mark_stopped(*, broadcaster_ids: Sequence[str], now: dt.datetime) -> Update:
    return update(Broadcaster).where(Broadcaster.id.in_(broadcaster_ids)).values(stopped_at=now)


def register(*, me: str, host: str, pid: int, now: dt.datetime) -> Insert:
    return insert(Broadcaster).values(id=me, host=host, pid=pid, started_at=now, heartbeat_at=now)


def dead_broadcasters(*, stale_before: dt.datetime) -> Select[str]:
    """Broadcasters that stopped heartbeating without saying they stopped."""
    return select(Broadcaster.id).where(
        Broadcaster.heartbeat_at < stale_before, Broadcaster.stopped_at.is_(None)
    )


def expire_leases_of(*, broadcaster_ids: Sequence[str], now: dt.datetime) -> Update:
    """End the leases of a dead broadcaster's posts now, so they are recovered at once."""
    return (
        update(Post)
        .where(Post.claimed_by.in_(broadcaster_ids), Post.status.in_(OWNED))
        .values(lease_until=now)
    )


def forget_broadcasters(*, stopped_before: dt.datetime) -> Delete:
    return delete(Broadcaster).where(Broadcaster.stopped_at < stopped_before)
