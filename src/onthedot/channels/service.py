"""Channels: create, read, change and pause them. Queue effects go through posts.queue."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts.service import Member
from onthedot.channels import queries
from onthedot.channels.models import Channel
from onthedot.channels.schedule import Schedule, zone
from onthedot.config import Settings
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


async def _hold(
    session: AsyncSession, channel: Channel, *, now: dt.datetime, reason: str | None
) -> None:
    """Pause a locked channel: hold every post that has not started publishing.

    Run again on a channel already paused, it also holds what came back meanwhile (a post
    that was publishing at the pause and now waits to be retried).
    """
    if not channel.paused:
        channel.paused = True
        channel.updated_at = now
    if reason is not None and channel.paused_reason != reason:
        channel.paused_reason = reason
        channel.updated_at = now
    await session.execute(post_queries.hold_for_pause(channel_id=channel.id, now=now))
    await session.flush()


async def pause(
    session: AsyncSession, *, member: Member, channel_id: int, now: dt.datetime
) -> Channel:
    """Hold the channel's posts: queued ones, and those a broadcaster claimed or waits to
    retry (its later writes miss: they carry the old fencing token). Posts already being
    published finish."""
    member.require_editor()
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    await _hold(session, channel, now=now, reason=None)
    return channel


async def pause_for_reason(
    session: AsyncSession, *, channel_id: int, reason: str, now: dt.datetime
) -> None:
    """The same pause, taken by onthedot itself (a network revoked its access, say).

    `reason` is shown with the channel until a person resumes it; it should say what to do,
    e.g. "Mastodon revoked onthedot's access: reconnect the channel, then resume it". Runs
    in the caller's transaction; a channel deleted meanwhile has nothing left to pause.
    """
    channel = await session.scalar(queries.channel_by_id(channel_id=channel_id).with_for_update())
    if channel is None:
        return
    channel.queue_version += 1
    await _hold(session, channel, now=now, reason=reason.strip() or "paused by onthedot")


PastPinned = Literal["publish", "missed"]
PAST_PINNED: tuple[PastPinned, ...] = get_args(PastPinned)


def _missed_reason(due_at: dt.datetime, tz_name: str) -> str:
    local = due_at.astimezone(zone(tz_name))
    when = local.strftime("%Y-%m-%d %H:%M %Z") + (
        "" if local.tzname() == tz_name else f" ({tz_name})"
    )
    return f"not published: it was due at {when} while the channel was paused"


async def resume(
    session: AsyncSession,
    *,
    member: Member,
    channel_id: int,
    now: dt.datetime,
    past_pinned: PastPinned | None = None,
    settings: Settings | None = None,
) -> Channel:
    """Release held posts and re-flow the floating ones from now.

    Pinned posts whose time passed while paused follow `past_pinned`: "publish" releases
    them as they are, so they go out at once (the broadcaster counts them late); "missed"
    marks them missed, with the reason in `last_error`. None means the installation's
    setting (`settings.resume_past_pinned`; "publish" without settings).
    """
    member.require_editor()
    if past_pinned is None:
        past_pinned = settings.resume_past_pinned if settings is not None else "publish"
    if past_pinned not in PAST_PINNED:
        raise InvalidInput(
            f"past_pinned must be 'publish' (pinned posts whose time passed while paused go "
            f"out at once) or 'missed' (they are marked missed), not {past_pinned!r}"
        )
    channel = await lock_channel(session, member=member, channel_id=channel_id)
    if channel.paused:
        channel.paused = False
        channel.paused_reason = None
        channel.updated_at = now
        if past_pinned == "missed":
            past = (
                await session.execute(post_queries.held_pinned_past(channel_id=channel.id, now=now))
            ).all()
            if past:
                await session.execute(
                    update(Post),
                    [
                        {
                            "id": post_id,
                            "status": PostStatus.MISSED,
                            "finished_at": now,
                            "last_error": _missed_reason(due_at, channel.timezone),
                            "updated_at": now,
                        }
                        for post_id, due_at in past
                        if due_at is not None
                    ],
                )
        await queue.reflow(session, channel=channel, now=now)
        await session.execute(post_queries.release_held(channel_id=channel.id, now=now))
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
