"""Named queries on the critical paths of posts and queues.

Each function builds one statement. The query-plan guard (onthedot.observability.query_guard)
runs every one of them through EXPLAIN on SQLite and PostgreSQL and fails the build when a
plan scans a table, so a change here is checked the moment it is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, Update, and_, case, func, or_, select, tuple_, update

from onthedot.posts.models import IN_FLIGHT, PENDING, QUEUED, Post, PostStatus, PublishAttempt

# Floating posts that no longer move with the queue: in flight, done, or given up on.
SETTLED = tuple(s for s in PostStatus if s not in (*QUEUED, PostStatus.DRAFT))
# What pausing a channel holds: queued posts, and those a broadcaster has claimed or is
# waiting to retry but has not started sending (`publishing` ones finish).
HOLDABLE = (
    PostStatus.SCHEDULED,
    PostStatus.CLAIMED,
    PostStatus.PREPARED,
    PostStatus.RETRY_WAIT,
)


def post_in_workspace(*, workspace_id: int, post_id: int) -> Select[Post]:
    return select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id)


def posts_by_ids(*, workspace_id: int, post_ids: Sequence[int]) -> Select[Post]:
    return select(Post).where(Post.id.in_(post_ids), Post.workspace_id == workspace_id)


def channel_of_post(*, workspace_id: int, post_id: int) -> Select[int]:
    """Which channel's lock a change to this post must take."""
    return select(Post.channel_id).where(Post.id == post_id, Post.workspace_id == workspace_id)


def due_batch(*, horizon: dt.datetime, limit: int) -> Select[Post]:
    """The next posts due up to `horizon`, oldest first: what a broadcaster claims."""
    return (
        select(Post)
        .where(Post.status == PostStatus.SCHEDULED, Post.due_at <= horizon)
        .order_by(Post.due_at, Post.id)
        .limit(limit)
    )


def queue_page(
    *, channel_id: int, after: tuple[dt.datetime, int] | None, limit: int
) -> Select[Post]:
    """One page of a channel's queue (everything not yet published), in due order."""
    query = select(Post).where(
        Post.channel_id == channel_id, Post.status.in_(PENDING), Post.due_at.is_not(None)
    )
    if after is not None:
        query = query.where(tuple_(Post.due_at, Post.id) > tuple_(*after))
    return query.order_by(Post.due_at, Post.id).limit(limit)


def reflowable(*, channel_id: int, now: dt.datetime) -> Select[Post]:
    """Floating posts whose time the queue still decides, in queue order.

    A floating post already due (its broadcaster is late or down) keeps its time: it is the
    sweeper's to publish, not the queue's to push back.
    """
    return (
        select(Post)
        .where(
            Post.channel_id == channel_id,
            Post.status.in_(QUEUED),
            Post.pinned.is_(False),
            or_(
                Post.status == PostStatus.HELD,
                Post.due_at.is_(None),
                Post.due_at > now,
            ),
        )
        .order_by(Post.queue_position, Post.id)
    )


def occupied_slots(*, channel_id: int, now: dt.datetime) -> Select[dt.datetime | None]:
    """Future slots held by floating posts that left the queue (claimed, failed early, …)."""
    return select(Post.due_at).where(
        Post.channel_id == channel_id,
        Post.status.in_(SETTLED),
        Post.due_at > now,
        Post.pinned.is_(False),
    )


def queue_position_bounds(*, channel_id: int) -> Select[int | None, int | None]:
    return select(func.min(Post.queue_position), func.max(Post.queue_position)).where(
        Post.channel_id == channel_id, Post.status.in_(QUEUED), Post.pinned.is_(False)
    )


def posts_page(
    *,
    workspace_id: int,
    channel_id: int | None,
    status: PostStatus | None,
    before_id: int | None,
    limit: int,
) -> Select[Post]:
    """Posts newest first, optionally of one channel and/or one status."""
    conditions = [Post.workspace_id == workspace_id]
    if channel_id is not None:
        conditions.append(Post.channel_id == channel_id)
    if status is not None:
        conditions.append(Post.status == status)
    if before_id is not None:
        conditions.append(Post.id < before_id)
    return select(Post).where(and_(*conditions)).order_by(Post.id.desc()).limit(limit)


def group_posts(*, workspace_id: int, group_id: str) -> Select[Post]:
    return (
        select(Post)
        .where(Post.group_id == group_id, Post.workspace_id == workspace_id)
        .order_by(Post.id)
    )


def in_flight_count(*, channel_id: int) -> Select[int]:
    """How many posts of a channel a broadcaster is publishing now."""
    return (
        select(func.count())
        .select_from(Post)
        .where(Post.channel_id == channel_id, Post.status.in_(sorted(IN_FLIGHT)))
    )


def hold_for_pause(*, channel_id: int, now: dt.datetime) -> Update:
    """Hold a pausing channel's posts that have not started publishing.

    A post a broadcaster holds gets a new fencing token (`attempt`), so that broadcaster's
    later writes match no row, and its claim and retry time are dropped. `needs_check` is
    kept: a post whose last try may have reached the network is still looked for first.
    """
    return (
        update(Post)
        .where(Post.channel_id == channel_id, Post.status.in_(HOLDABLE))
        .values(
            status=PostStatus.HELD,
            attempt=case(
                (Post.status == PostStatus.SCHEDULED, Post.attempt), else_=Post.attempt + 1
            ),
            claimed_by=None,
            lease_until=None,
            retry_at=None,
            updated_at=now,
        )
    )


def release_held(*, channel_id: int, now: dt.datetime) -> Update:
    """A resumed channel's held posts go back to the queue."""
    return (
        update(Post)
        .where(Post.channel_id == channel_id, Post.status == PostStatus.HELD)
        .values(status=PostStatus.SCHEDULED, updated_at=now)
    )


def held_pinned_past(*, channel_id: int, now: dt.datetime) -> Select[int, dt.datetime | None]:
    """Held pinned posts whose time has come: due while their channel was paused."""
    return (
        select(Post.id, Post.due_at)
        .where(
            Post.channel_id == channel_id,
            Post.status == PostStatus.HELD,
            Post.due_at <= now,
            Post.pinned.is_(True),
        )
        .order_by(Post.due_at, Post.id)
    )


def attempts_page(*, post_id: int, before_id: int | None, limit: int) -> Select[PublishAttempt]:
    """A post's publish attempts, newest first."""
    query = select(PublishAttempt).where(PublishAttempt.post_id == post_id)
    if before_id is not None:
        query = query.where(PublishAttempt.id < before_id)
    return query.order_by(PublishAttempt.id.desc()).limit(limit)
