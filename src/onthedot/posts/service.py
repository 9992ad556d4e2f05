"""Posts and every queue operation people know from Buffer.

Each operation validates everything first, then takes the channel's queue lock, changes rows
and re-flows the queue, all in the caller's transaction: it either happens whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.base import ExecutableOption

from onthedot.accounts.service import Member
from onthedot.channels import service as channels_service
from onthedot.channels.models import Channel
from onthedot.channels.schedule import wall_to_utc, zone
from onthedot.db.pagination import decode_cursor, encode_cursor, page_size
from onthedot.errors import (
    ChannelPaused,
    Conflict,
    InvalidInput,
    NotFound,
    PostNotEditable,
    ScheduleInPast,
)
from onthedot.media import queries as media_queries
from onthedot.media.models import Media
from onthedot.networks import Network, limits
from onthedot.posts import queries, queue
from onthedot.posts.models import (
    DELETABLE,
    EDITABLE,
    IN_FLIGHT,
    QUEUED,
    Post,
    PostItem,
    PostItemMedia,
    PostStatus,
    PublishAttempt,
)

MAX_CHANNELS_PER_POST = 50
MAX_THREAD_ITEMS = 25
MAX_MEDIA_PER_ITEM = 20


class Mode(enum.StrEnum):
    QUEUE = "queue"  # add to queue: the next free slot
    NEXT = "next"  # share next: the head of the queue
    NOW = "now"  # share now
    CUSTOM = "custom"  # a custom time: pinned, takes no slot
    DRAFT = "draft"


@dataclass(frozen=True)
class ItemInput:
    text: str
    media_ids: tuple[int, ...] = field(default_factory=tuple)


def _with_content() -> list[ExecutableOption]:
    return [selectinload(Post.items).selectinload(PostItem.media)]


def resolve_instant(at: dt.datetime, tz_name: str) -> dt.datetime:
    """An aware time is an instant; a naive one is a wall time in the channel's zone."""
    try:
        if at.tzinfo is not None:
            return at.astimezone(dt.UTC)
        return wall_to_utc(at.date(), at.time(), zone(tz_name))
    except OverflowError:
        # Within a day of 0001-01-01 or 9999-12-31, the instant has no UTC date.
        raise InvalidInput(
            f"{at.isoformat()} is outside the times onthedot can schedule (years 1 to 9999 in UTC)"
        ) from None


def _check_future(when: dt.datetime, now: dt.datetime, tz_name: str) -> None:
    if when <= now:
        try:
            local = when.astimezone(zone(tz_name))
        except OverflowError:  # early in year 1 UTC, the local date would be in year 0
            local = when
        raise ScheduleInPast(
            f"{local.isoformat()} ({tz_name}) is in the past; it is now "
            f"{now.astimezone(zone(tz_name)).isoformat()} there. Pick a later time, or share now",
            at=when.isoformat(),
        )


async def _load_media(
    session: AsyncSession, member: Member, items: Sequence[ItemInput]
) -> dict[int, Media]:
    wanted = {m for item in items for m in item.media_ids}
    if not wanted:
        return {}
    rows = await session.scalars(
        media_queries.media_by_ids(workspace_id=member.workspace_id, media_ids=sorted(wanted))
    )
    found = {m.id: m for m in rows}
    missing = sorted(wanted - found.keys())
    if missing:
        raise NotFound(f"media {', '.join(map(str, missing))} not found; upload it first")
    return found


def _check_items(items: Sequence[ItemInput]) -> None:
    if not items:
        raise InvalidInput("a post needs at least one item (its text and media)")
    if len(items) > MAX_THREAD_ITEMS:
        raise InvalidInput(f"a thread has at most {MAX_THREAD_ITEMS} items, not {len(items)}")
    for n, item in enumerate(items, 1):
        if "\x00" in item.text:
            raise InvalidInput(f"item {n} contains a NUL character (\\x00); remove it")
        if len(item.media_ids) > MAX_MEDIA_PER_ITEM:
            raise InvalidInput(
                f"item {n} has {len(item.media_ids)} media; at most {MAX_MEDIA_PER_ITEM}"
            )
        if len(set(item.media_ids)) != len(item.media_ids):
            raise InvalidInput(f"item {n} lists the same media twice")


def _check_for_channel(
    channel: Channel, items: Sequence[ItemInput], media: dict[int, Media]
) -> None:
    network = Network(channel.network)
    if len(items) > 1 and not limits.takes_threads(network):
        raise InvalidInput(
            f"channel {channel.id} ({network.value} {channel.handle}): {network.value} has no "
            f"threads, and this post has {len(items)} items; post them separately, or "
            "join them into one",
            channel_id=channel.id,
        )
    for n, item in enumerate(items, 1):
        where = f"item {n} for channel {channel.id} ({network.value} {channel.handle})"
        try:
            limits.check_item(network, item.text, len(item.media_ids), max_chars=channel.max_chars)
            limits.check_media(
                network, [(media[m].content_type, media[m].size) for m in item.media_ids]
            )
        except InvalidInput as exc:
            exc.detail = f"{where}: {exc.detail}"
            exc.context.setdefault("channel_id", channel.id)
            exc.context.setdefault("item", n)
            raise


def _build_items(items: Sequence[ItemInput]) -> list[PostItem]:
    built = []
    for n, item in enumerate(items):
        row = PostItem(position=n, text=item.text)
        row.media = [PostItemMedia(media_id=m, position=i) for i, m in enumerate(item.media_ids)]
        built.append(row)
    return built


async def _place(
    session: AsyncSession,
    *,
    channel: Channel,
    post: Post,
    mode: Mode,
    at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Give a post its place for `mode`; the caller re-flows the queue afterwards."""
    post.updated_at = now
    waiting = PostStatus.HELD if channel.paused else PostStatus.SCHEDULED
    if mode is Mode.DRAFT:
        post.status, post.pinned, post.queue_position, post.due_at = (
            PostStatus.DRAFT,
            False,
            None,
            None,
        )
    elif mode is Mode.NOW:
        if channel.paused:
            raise ChannelPaused(
                f"channel {channel.id} is paused; resume it to share now, or add the post to "
                "its queue"
            )
        post.status, post.pinned, post.queue_position, post.due_at = (
            PostStatus.SCHEDULED,
            True,
            None,
            now,
        )
    elif mode is Mode.CUSTOM:
        if at is None:
            raise InvalidInput(
                "a custom time needs `at`, e.g. 2026-12-01T09:00 in the channel's zone"
            )
        when = resolve_instant(at, channel.timezone)
        _check_future(when, now, channel.timezone)
        post.status, post.pinned, post.queue_position, post.due_at = waiting, True, None, when
    else:
        position = await queue.next_position(
            session, channel_id=channel.id, at_top=mode is Mode.NEXT
        )
        # due_at is handed out by the re-flow that follows.
        post.status, post.pinned, post.queue_position, post.due_at = (
            waiting,
            False,
            position,
            None,
        )
    await session.flush()


async def create_posts(
    session: AsyncSession,
    *,
    member: Member,
    channel_ids: Sequence[int],
    items: Sequence[ItemInput],
    mode: Mode,
    at: dt.datetime | None,
    now: dt.datetime,
) -> list[Post]:
    """Create one post per channel (sharing a group id), each placed in its own queue."""
    member.require_editor()
    unique_ids = sorted(set(channel_ids))
    if not unique_ids:
        raise InvalidInput("choose at least one channel")
    if len(unique_ids) > MAX_CHANNELS_PER_POST:
        raise InvalidInput(f"a post targets at most {MAX_CHANNELS_PER_POST} channels")
    if mode is not Mode.CUSTOM and at is not None:
        raise InvalidInput(f"`at` is only for mode 'custom', not '{mode.value}'")
    _check_items(items)
    media = await _load_media(session, member, items)
    # Locks in id order, so two multi-channel requests cannot deadlock.
    channels = [
        await channels_service.lock_channel(session, member=member, channel_id=cid)
        for cid in unique_ids
    ]
    for channel in channels:
        _check_for_channel(channel, items, media)
    group = str(uuid.uuid4())
    posts = []
    for channel in channels:
        post = Post(
            workspace_id=member.workspace_id,
            channel_id=channel.id,
            group_id=group,
            status=PostStatus.DRAFT,
            attempt=0,
            created_by=member.user_id,
            created_at=now,
            updated_at=now,
        )
        post.items = _build_items(items)
        session.add(post)
        await _place(session, channel=channel, post=post, mode=mode, at=at, now=now)
        if mode in (Mode.QUEUE, Mode.NEXT):
            await queue.reflow(session, channel=channel, now=now)
        posts.append(post)
    return await get_posts(session, member=member, post_ids=[p.id for p in posts])


async def get_post(session: AsyncSession, *, member: Member, post_id: int) -> Post:
    found = await session.scalar(
        queries.post_in_workspace(workspace_id=member.workspace_id, post_id=post_id)
        .options(*_with_content())
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"post {post_id} not found")
    return found


async def get_posts(
    session: AsyncSession, *, member: Member, post_ids: Sequence[int]
) -> list[Post]:
    """Posts with their content, in the order of `post_ids`, in one round of queries."""
    rows = await session.scalars(
        queries.posts_by_ids(workspace_id=member.workspace_id, post_ids=post_ids)
        .options(*_with_content())
        .execution_options(populate_existing=True)
    )
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in post_ids if i in by_id]


async def list_posts(
    session: AsyncSession,
    *,
    member: Member,
    channel_id: int | None,
    status: PostStatus | None,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[Post], str | None]:
    size = page_size(limit)
    before = decode_cursor(cursor, int)[0] if cursor else None
    if channel_id is not None:
        await channels_service.get_channel(session, member=member, channel_id=channel_id)
    query = queries.posts_page(
        workspace_id=member.workspace_id,
        channel_id=channel_id,
        status=status,
        before_id=before,
        limit=size + 1,
    ).options(*_with_content())
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return rows[:size], next_cursor


async def queue_page(
    session: AsyncSession, *, member: Member, channel_id: int, cursor: str | None, limit: int | None
) -> tuple[Channel, list[Post], str | None]:
    channel = await channels_service.get_channel(session, member=member, channel_id=channel_id)
    size = page_size(limit)
    after = decode_cursor(cursor, dt.datetime, int) if cursor else None
    query = queries.queue_page(channel_id=channel.id, after=after, limit=size + 1).options(
        *_with_content()
    )
    rows = list((await session.scalars(query)).all())
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        assert last.due_at is not None
        next_cursor = encode_cursor(last.due_at, last.id)
    return channel, rows[:size], next_cursor


async def _locked(
    session: AsyncSession,
    member: Member,
    post_id: int,
    *,
    allowed: frozenset[PostStatus] = frozenset(PostStatus),
) -> tuple[Channel, Post]:
    """Take the lock of the post's channel, then read the post under it.

    The read comes after the lock: a broadcaster may have claimed the post a moment ago.
    """
    member.require_editor()
    channel_id = await session.scalar(
        queries.channel_of_post(workspace_id=member.workspace_id, post_id=post_id)
    )
    if channel_id is None:
        raise NotFound(f"post {post_id} not found")
    channel = await channels_service.lock_channel(session, member=member, channel_id=channel_id)
    post = await get_post(session, member=member, post_id=post_id)
    if post.status not in allowed:
        raise PostNotEditable(
            f"post {post_id} is {post.status.value}: it is being published. Drafts and queued "
            "posts can be changed, and any post not being published can be deleted"
        )
    return channel, post


async def _editable(session: AsyncSession, member: Member, post_id: int) -> tuple[Channel, Post]:
    return await _locked(session, member, post_id, allowed=EDITABLE)


async def update_post(
    session: AsyncSession,
    *,
    member: Member,
    post_id: int,
    items: Sequence[ItemInput] | None,
    now: dt.datetime,
) -> Post:
    """Replace a post's text and media."""
    member.require_editor()
    if items is None:
        return await get_post(session, member=member, post_id=post_id)
    _check_items(items)
    media = await _load_media(session, member, items)
    channel, post = await _editable(session, member, post_id)
    _check_for_channel(channel, items, media)
    # Old items go first: the new ones reuse their positions (unique per post).
    post.items = []
    await session.flush()
    post.items = _build_items(items)
    post.updated_at = now
    await session.flush()
    return await get_post(session, member=member, post_id=post_id)


async def set_mode(
    session: AsyncSession,
    *,
    member: Member,
    post_id: int,
    mode: Mode,
    at: dt.datetime | None,
    now: dt.datetime,
) -> Post:
    """Share now, share next (move to top), add to queue, custom time, or back to drafts."""
    if mode is not Mode.CUSTOM and at is not None:
        raise InvalidInput(f"`at` is only for mode 'custom', not '{mode.value}'")
    channel, post = await _editable(session, member, post_id)
    if mode is Mode.QUEUE and not post.pinned and post.status in QUEUED:
        return post  # already in the queue: keep its place
    await _place(session, channel=channel, post=post, mode=mode, at=at, now=now)
    await queue.reflow(session, channel=channel, now=now)
    return await get_post(session, member=member, post_id=post_id)


async def delete_post(
    session: AsyncSession, *, member: Member, post_id: int, now: dt.datetime
) -> None:
    channel, post = await _locked(session, member, post_id, allowed=DELETABLE)
    await session.delete(post)
    await session.flush()
    await queue.reflow(session, channel=channel, now=now)


async def move(
    session: AsyncSession, *, member: Member, post_id: int, position: int, now: dt.datetime
) -> Post:
    """Move a floating post to a 1-based position in its queue."""
    channel, post = await _editable(session, member, post_id)
    if post.pinned or post.status not in QUEUED:
        raise Conflict(
            f"post {post_id} is not in the queue (it is a draft or has a custom time); "
            "add it to the queue first"
        )
    ordered = [
        p for p in await queue.floating_posts(session, channel=channel, now=now) if p.id != post.id
    ]
    if not 1 <= position <= len(ordered) + 1:
        raise InvalidInput(f"position must be between 1 and {len(ordered) + 1}")
    ordered.insert(position - 1, post)
    await queue.renumber(session, ordered, now=now)
    await queue.reflow(session, channel=channel, now=now)
    return await get_post(session, member=member, post_id=post_id)


async def reorder(
    session: AsyncSession,
    *,
    member: Member,
    channel_id: int,
    post_ids: Sequence[int],
    queue_version: int | None,
    now: dt.datetime,
) -> list[Post]:
    """Put the queue in the given order; the list must name every floating queued post."""
    member.require_editor()
    channel = await channels_service.lock_channel(session, member=member, channel_id=channel_id)
    # lock_channel bumped the version; the caller saw the one before.
    if queue_version is not None and queue_version != channel.queue_version - 1:
        raise Conflict(
            f"the queue changed since you read it (version {queue_version}, now "
            f"{channel.queue_version - 1}); reload it and try again"
        )
    current = await queue.floating_posts(session, channel=channel, now=now)
    by_id = {p.id: p for p in current}
    if len(set(post_ids)) != len(post_ids):
        raise InvalidInput("the order lists a post twice")
    missing = sorted(by_id.keys() - set(post_ids))
    unknown = sorted(set(post_ids) - by_id.keys())
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unknown:
            parts.append(f"not in this queue {unknown}")
        raise Conflict(
            "the order must list every post in the queue exactly once ("
            + "; ".join(parts)
            + "); reload the queue and try again"
        )
    ordered = [by_id[i] for i in post_ids]
    await queue.renumber(session, ordered, now=now)
    await queue.reflow(session, channel=channel, now=now)
    return await get_posts(session, member=member, post_ids=[p.id for p in ordered])


async def shuffle(
    session: AsyncSession, *, member: Member, channel_id: int, rng: random.Random, now: dt.datetime
) -> list[Post]:
    member.require_editor()
    channel = await channels_service.lock_channel(session, member=member, channel_id=channel_id)
    ordered = queue.shuffled(await queue.floating_posts(session, channel=channel, now=now), rng)
    await queue.renumber(session, ordered, now=now)
    await queue.reflow(session, channel=channel, now=now)
    return await get_posts(session, member=member, post_ids=[p.id for p in ordered])


async def list_attempts(
    session: AsyncSession, *, member: Member, post_id: int, cursor: str | None, limit: int | None
) -> tuple[list[PublishAttempt], str | None]:
    """A post's publish attempts, newest first."""
    size = page_size(limit)
    before = decode_cursor(cursor, int)[0] if cursor else None
    found = await session.scalar(
        queries.channel_of_post(workspace_id=member.workspace_id, post_id=post_id)
    )
    if found is None:
        raise NotFound(f"post {post_id} not found")
    rows = list(
        (
            await session.scalars(
                queries.attempts_page(post_id=post_id, before_id=before, limit=size + 1)
            )
        ).all()
    )
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return rows[:size], next_cursor


Resolution = Literal["sent", "retry"]
# Which outcome a person may give a post in each state.
RESOLVABLE: dict[Resolution, frozenset[PostStatus]] = {
    "sent": frozenset({PostStatus.UNKNOWN}),
    "retry": frozenset({PostStatus.UNKNOWN, PostStatus.FAILED}),
}


def _why_not_resolvable(post: Post, outcome: Resolution) -> str:
    state = f"post {post.id} is {post.status.value}"
    if post.status is PostStatus.FAILED:
        return (
            f"{state}: the network refused it ({post.last_error or 'no reason given'}), so it "
            "was not published and cannot be marked sent. Fix what the error says, then "
            "resolve it with outcome 'retry' to publish it again at once, or delete it"
        )
    if post.status is PostStatus.SENT:
        return f"{state}: it was published, so there is nothing to resolve"
    if post.status is PostStatus.MISSED:
        return (
            f"{state}: {post.last_error or 'its time passed without it being published'}. "
            "Only posts in unknown (sent or retry) or failed (retry) can be resolved; add it "
            "again as a new post, or delete it"
        )
    if post.status in IN_FLIGHT:
        return (
            f"{state}: the broadcaster is publishing it right now. Wait for its outcome; a "
            "post that ends up unknown or failed can then be resolved"
        )
    return (
        f"{state}: it has not been published yet, so there is nothing to resolve. Only posts "
        f"in unknown (sent or retry) or failed (retry) can be resolved, not with {outcome!r}"
    )


async def resolve(
    session: AsyncSession,
    *,
    member: Member,
    post_id: int,
    outcome: Resolution,
    now: dt.datetime,
) -> Post:
    """A person settles a post the broadcaster could not.

    "sent": the person checked the network and the post is there (for `unknown`). "retry":
    it is not; publish it again at once (for `unknown` or `failed`): pinned at now (so it
    takes no slot), with a fresh retry budget and a new fencing token.
    """
    member.require_editor()
    if outcome not in RESOLVABLE:
        raise InvalidInput(f"outcome must be 'sent' or 'retry', not {outcome!r}")
    channel, post = await _locked(session, member, post_id)
    if post.status not in RESOLVABLE[outcome]:
        raise Conflict(_why_not_resolvable(post, outcome), post_status=post.status.value)
    if outcome == "retry" and channel.paused:
        raise ChannelPaused(
            f"channel {channel.id} is paused; resume it, then retry post {post_id} (it would "
            "go out at once)"
        )
    post.attempt += 1
    post.claimed_by, post.lease_until, post.retry_at = None, None, None
    post.needs_check = False
    post.last_error = None
    post.updated_at = now
    if outcome == "sent":
        post.status = PostStatus.SENT
        post.finished_at = now
        await session.flush()
    else:
        post.status, post.pinned, post.queue_position, post.due_at = (
            PostStatus.SCHEDULED,
            True,
            None,
            now,
        )
        post.tries = 0
        post.finished_at = None
        await session.flush()
        # The post gave up its slot, if it had one still ahead.
        await queue.reflow(session, channel=channel, now=now)
    return await get_post(session, member=member, post_id=post_id)
