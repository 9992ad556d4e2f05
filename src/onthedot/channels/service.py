"""Channels: create, read, change and pause them. Queue effects go through posts.queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts.service import Member
from onthedot.channels import queries
from onthedot.channels.models import Channel
from onthedot.channels.schedule import Schedule, zone
from onthedot.crypto import CredentialBox
from onthedot.db.pagination import decode_cursor, encode_cursor, page_size
from onthedot.errors import Conflict, InvalidInput, NotFound
from onthedot.networks import Network
from onthedot.posts import queries as post_queries
from onthedot.posts import queue
from onthedot.posts.models import Post, PostStatus


def parse_schedule(value: str | list[dict[str, Any]] | Schedule) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if isinstance(value, str):
        return Schedule.parse(value)
    return Schedule.from_json(value)


def _check_handle(handle: str) -> str:
    handle = handle.strip()
    if not handle or len(handle) > 320:
        raise InvalidInput(
            "a channel handle must have 1 to 320 characters, e.g. @you@example.social"
        )
    if "\x00" in handle:
        raise InvalidInput("a channel handle cannot contain a NUL character (\\x00)")
    return handle


def _check_max_chars(network: Network, max_chars: int | None) -> int | None:
    if max_chars is None:
        return None
    if network not in (Network.MASTODON, Network.SANDBOX):
        raise InvalidInput(
            f"max_chars is set per server only on mastodon and sandbox; {network.value} has a "
            "fixed limit"
        )
    if not 1 <= max_chars <= 1_000_000:
        raise InvalidInput("max_chars must be between 1 and 1000000")
    return max_chars


async def create_channel(
    session: AsyncSession,
    *,
    member: Member,
    network: Network,
    handle: str,
    timezone: str,
    schedule: str | list[dict[str, Any]] | Schedule,
    max_chars: int | None = None,
    credentials: dict[str, Any] | None = None,
    box: CredentialBox | None = None,
    now: dt.datetime,
) -> Channel:
    member.require_editor()
    zone(timezone)
    parsed = parse_schedule(schedule)
    sealed = None
    if credentials is not None:
        if box is None:
            raise Conflict("credentials cannot be stored: no encryption key is configured")
        sealed = box.seal(credentials)
    channel = Channel(
        workspace_id=member.workspace_id,
        network=network.value,
        handle=_check_handle(handle),
        timezone=timezone,
        schedule=parsed.to_json(),
        paused=False,
        max_chars=_check_max_chars(network, max_chars),
        credentials=sealed,
        queue_version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(channel)
    await session.flush()
    return channel


async def get_channel(session: AsyncSession, *, member: Member, channel_id: int) -> Channel:
    """A channel of the caller's workspace; any other id is simply not found."""
    found = await session.scalar(
        queries.channel_in_workspace(workspace_id=member.workspace_id, channel_id=channel_id)
    )
    if found is None:
        raise NotFound(f"channel {channel_id} not found")
    return found


async def lock_channel(session: AsyncSession, *, member: Member, channel_id: int) -> Channel:
    """Take the channel's queue lock for the rest of the transaction.

    Every queue change starts here, so two editors changing one queue run one after the
    other: on PostgreSQL through the row lock, on SQLite through `BEGIN IMMEDIATE`.
    """
    found = await session.scalar(
        queries.channel_in_workspace(
            workspace_id=member.workspace_id, channel_id=channel_id
        ).with_for_update()
    )
    if found is None:
        raise NotFound(f"channel {channel_id} not found")
    found.queue_version += 1
    return found


async def list_channels(
    session: AsyncSession, *, member: Member, cursor: str | None, limit: int | None
) -> tuple[list[Channel], str | None]:
    size = page_size(limit)
    after = decode_cursor(cursor, int)[0] if cursor else None
    rows = list(
        (
            await session.scalars(
                queries.channels_page(
                    workspace_id=member.workspace_id, after_id=after, limit=size + 1
                )
            )
        ).all()
    )
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return rows[:size], next_cursor


async def update_channel(
    session: AsyncSession,
    *,
    member: Member,
    channel_id: int,
    now: dt.datetime,
    handle: str | None = None,
    timezone: str | None = None,
    schedule: str | list[dict[str, Any]] | Schedule | None = None,
    max_chars: int | None = None,
    clear_max_chars: bool = False,
) -> Channel:
    """Change a channel; a new zone or schedule re-flows its queue in the same transaction."""
    member.require_editor()
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    network = Network(channel.network)
    if handle is not None:
        channel.handle = _check_handle(handle)
    if timezone is not None:
        zone(timezone)
        channel.timezone = timezone
    if schedule is not None:
        channel.schedule = parse_schedule(schedule).to_json()
    if clear_max_chars:
        channel.max_chars = None
    elif max_chars is not None:
        channel.max_chars = _check_max_chars(network, max_chars)
    channel.updated_at = now
    if timezone is not None or schedule is not None:
        await queue.reflow(session, channel=channel, now=now)
    await session.flush()
    return channel


async def set_credentials(
    session: AsyncSession,
    *,
    member: Member,
    channel_id: int,
    credentials: dict[str, Any],
    box: CredentialBox,
    now: dt.datetime,
) -> Channel:
    member.require_editor()
    channel = await get_channel(session, member=member, channel_id=channel_id)
    channel.credentials = box.seal(credentials)
    channel.updated_at = now
    await session.flush()
    return channel


async def pause(
    session: AsyncSession, *, member: Member, channel_id: int, now: dt.datetime
) -> Channel:
    """Hold every queued post of the channel; posts already in flight finish."""
    member.require_editor()
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    if not channel.paused:
        channel.paused = True
        channel.updated_at = now
        await session.execute(
            update(Post)
            .where(Post.channel_id == channel.id, Post.status == PostStatus.SCHEDULED)
            .values(status=PostStatus.HELD, updated_at=now)
        )
    await session.flush()
    return channel


async def resume(
    session: AsyncSession, *, member: Member, channel_id: int, now: dt.datetime
) -> Channel:
    """Release held posts and re-flow the floating ones from now.

    Pinned posts whose time passed while paused are released as they are and go out at once;
    the broadcaster counts them late.
    """
    member.require_editor()
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    if channel.paused:
        channel.paused = False
        channel.updated_at = now
        await queue.reflow(session, channel=channel, now=now)
        await session.execute(
            update(Post)
            .where(Post.channel_id == channel.id, Post.status == PostStatus.HELD)
            .values(status=PostStatus.SCHEDULED, updated_at=now)
        )
    await session.flush()
    return channel


async def delete_channel(session: AsyncSession, *, member: Member, channel_id: int) -> None:
    member.require_editor()
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    busy = await session.scalar(post_queries.in_flight_count(channel_id=channel.id))
    if busy:
        raise Conflict(
            f"channel {channel_id} has {busy} post(s) being published right now; pause it, "
            "wait for them to finish, then delete it"
        )
    await session.delete(channel)
    await session.flush()
