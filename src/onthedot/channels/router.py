"""HTTP routes for channels, their schedules, and pausing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from onthedot.channels import service
from onthedot.channels.schemas import (
    ChannelCreate,
    ChannelOut,
    ChannelPage,
    ChannelUpdate,
    ScheduleBody,
)
from onthedot.db.base import Id
from onthedot.deps import BoxDep, ClockDep, MemberDep, SessionDep, SettingsDep

router = APIRouter(prefix="/channels", tags=["channels"])

PAST_PINNED_HELP = (
    "What becomes of pinned posts whose time passed while the channel was paused: 'publish' "
    "(they go out at once, counted late) or 'missed' (marked missed, not published). "
    "Default: the installation's ONTHEDOT_RESUME_PAST_PINNED."
)


@router.post("", response_model=ChannelOut, status_code=status.HTTP_201_CREATED)
async def create_channel(
    body: ChannelCreate, session: SessionDep, member: MemberDep, clock: ClockDep, box: BoxDep
) -> ChannelOut:
    channel = await service.create_channel(
        session,
        member=member,
        network=body.network,
        handle=body.handle,
        timezone=body.timezone,
        schedule=body.schedule,
        max_chars=body.max_chars,
        credentials=body.credentials,
        box=box,
        now=clock.now(),
    )
    return ChannelOut.of(channel)


@router.get("", response_model=ChannelPage)
async def list_channels(
    session: SessionDep,
    member: MemberDep,
    cursor: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=200),
) -> ChannelPage:
    rows, next_cursor = await service.list_channels(
        session, member=member, cursor=cursor, limit=limit
    )
    return ChannelPage(items=[ChannelOut.of(c) for c in rows], next_cursor=next_cursor)


@router.get("/{channel_id}", response_model=ChannelOut)
async def read_channel(channel_id: Id, session: SessionDep, member: MemberDep) -> ChannelOut:
    return ChannelOut.of(await service.get_channel(session, member=member, channel_id=channel_id))


@router.patch("/{channel_id}", response_model=ChannelOut)
async def update_channel(
    channel_id: Id, body: ChannelUpdate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> ChannelOut:
    channel = await service.update_channel(
        session,
        member=member,
        channel_id=channel_id,
        now=clock.now(),
        handle=body.handle,
        timezone=body.timezone,
        schedule=body.schedule,
        max_chars=body.max_chars,
        clear_max_chars="max_chars" in body.model_fields_set and body.max_chars is None,
    )
    return ChannelOut.of(channel)


@router.put("/{channel_id}/schedule", response_model=ChannelOut)
async def set_schedule(
    channel_id: Id, body: ScheduleBody, session: SessionDep, member: MemberDep, clock: ClockDep
) -> ChannelOut:
    channel = await service.update_channel(
        session, member=member, channel_id=channel_id, now=clock.now(), schedule=body.schedule
    )
    return ChannelOut.of(channel)


@router.post("/{channel_id}/pause", response_model=ChannelOut)
async def pause_channel(
    channel_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep
) -> ChannelOut:
    """Pause a channel: its posts wait (held) until it is resumed; posts being published
    finish."""
    return ChannelOut.of(
        await service.pause(session, member=member, channel_id=channel_id, now=clock.now())
    )


@router.post("/{channel_id}/resume", response_model=ChannelOut)
async def resume_channel(
    channel_id: Id,
    session: SessionDep,
    member: MemberDep,
    clock: ClockDep,
    settings: SettingsDep,
    past_pinned: Annotated[service.PastPinned | None, Query(description=PAST_PINNED_HELP)] = None,
) -> ChannelOut:
    """Resume a paused channel: held posts go back to the queue, floating ones re-flowed
    from now."""
    return ChannelOut.of(
        await service.resume(
            session,
            member=member,
            channel_id=channel_id,
            now=clock.now(),
            past_pinned=past_pinned,
            settings=settings,
        )
    )


@router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(channel_id: Id, session: SessionDep, member: MemberDep) -> None:
    await service.delete_channel(session, member=member, channel_id=channel_id)
