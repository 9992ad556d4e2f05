"""API shapes of channels and their schedules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onthedot.channels.models import Channel
from onthedot.channels.schedule import Schedule
from onthedot.networks import Network

ScheduleIn = str | list[dict[str, Any]]
SCHEDULE_HELP = (
    'Either text as people write it ("Mon–Fri 08:00, 12:30, 17:00; Sat 10:00") or the JSON '
    'form [{"days": ["mon", "tue"], "times": ["08:00"]}].'
)


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    network: Network
    handle: str = Field(min_length=1, max_length=320)
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    schedule: ScheduleIn = Field(default="", description=SCHEDULE_HELP)
    max_chars: int | None = Field(default=None, ge=1, le=1_000_000)
    credentials: dict[str, Any] | None = Field(
        default=None, description="Network credentials; stored encrypted, never returned."
    )


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handle: str | None = Field(default=None, min_length=1, max_length=320)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    schedule: ScheduleIn | None = Field(default=None, description=SCHEDULE_HELP)
    max_chars: int | None = Field(default=None, ge=1, le=1_000_000)


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schedule: ScheduleIn = Field(description=SCHEDULE_HELP)


class ChannelOut(BaseModel):
    id: int
    network: Network
    handle: str
    timezone: str
    schedule: list[dict[str, Any]]
    schedule_text: str
    paused: bool
    paused_reason: str | None = Field(
        description="Why onthedot paused the channel itself, and what to do; null otherwise."
    )
    max_chars: int | None
    has_credentials: bool
    queue_version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, channel: Channel) -> ChannelOut:
        schedule = Schedule.from_json(channel.schedule)
        return cls(
            id=channel.id,
            network=Network(channel.network),
            handle=channel.handle,
            timezone=channel.timezone,
            schedule=schedule.to_json(),
            schedule_text=str(schedule),
            paused=channel.paused,
            paused_reason=channel.paused_reason,
            max_chars=channel.max_chars,
            has_credentials=channel.credentials is not None,
            queue_version=channel.queue_version,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class ChannelPage(BaseModel):
    items: list[ChannelOut]
    next_cursor: str | None
