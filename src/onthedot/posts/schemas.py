"""API shapes of posts and queue operations."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onthedot.db.base import Id
from onthedot.posts.models import AttemptOutcome, Post, PostStatus, PublishAttempt
from onthedot.posts.service import ItemInput, Mode

# Far above any network's limit; refuses absurd payloads before anything is counted.
MAX_TEXT_CHARS = 100_000

AT_HELP = (
    "For mode 'custom': an ISO 8601 time. With an offset (2026-12-01T09:00:00+01:00) it is that "
    "instant; without one (2026-12-01T09:00) it is a wall time in each channel's own zone."
)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=MAX_TEXT_CHARS)
    media_ids: list[Id] = Field(default_factory=list, max_length=20)

    def to_input(self) -> ItemInput:
        return ItemInput(text=self.text, media_ids=tuple(self.media_ids))


class _Content(BaseModel):
    """Either `text` (a single post) or `items` (a thread, or media per item)."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    media_ids: list[Id] | None = Field(default=None, max_length=20)
    items: list[ItemIn] | None = Field(default=None, min_length=1, max_length=25)

    def content(self) -> list[ItemInput] | None:
        if self.items is not None:
            if self.text is not None or self.media_ids is not None:
                raise ValueError("give either `text`/`media_ids` or `items`, not both")
            return [i.to_input() for i in self.items]
        if self.text is None and self.media_ids is None:
            return None
        return [ItemInput(text=self.text or "", media_ids=tuple(self.media_ids or ()))]


class PostCreate(_Content):
    channel_ids: list[Id] = Field(min_length=1, max_length=50)
    mode: Mode = Mode.QUEUE
    at: dt.datetime | None = Field(default=None, description=AT_HELP)

    @model_validator(mode="after")
    def _has_content(self) -> Self:
        if self.content() is None:
            raise ValueError("a post needs `text` or `items`")
        return self


class PostUpdate(_Content):
    @model_validator(mode="after")
    def _valid(self) -> Self:
        self.content()
        return self


class PlaceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode
    at: dt.datetime | None = Field(default=None, description=AT_HELP)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(ge=1, description="1 is the head of the queue.")


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post_ids: list[Id] = Field(max_length=10_000)
    queue_version: int | None = Field(
        default=None, description="The channel's queue_version you saw; refused if it changed."
    )


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["sent", "retry"] = Field(
        description=(
            "'sent': you checked the network and the post is there (for a post in `unknown`). "
            "'retry': it is not; publish it again at once (for `unknown` or `failed`)."
        )
    )


class ItemOut(BaseModel):
    text: str
    media_ids: list[int]
    network_id: str | None = Field(description="The item's id on the network, once published.")
    network_url: str | None = Field(description="Where the item can be seen, once published.")
    published_at: dt.datetime | None


class PostOut(BaseModel):
    id: int
    group_id: str
    channel_id: int
    status: PostStatus
    pinned: bool
    queue_position: int | None
    due_at: dt.datetime | None
    items: list[ItemOut]
    last_error: str | None = Field(
        description="Why the post failed, is unknown or was missed (or what its last try hit)."
    )
    tries: int = Field(description="Tries that counted against the retry budget.")
    finished_at: dt.datetime | None = Field(
        description="When the post reached its outcome (sent, failed, unknown, missed)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, post: Post) -> PostOut:
        return cls(
            id=post.id,
            group_id=post.group_id,
            channel_id=post.channel_id,
            status=post.status,
            pinned=post.pinned,
            queue_position=post.queue_position,
            due_at=post.due_at,
            items=[
                ItemOut(
                    text=i.text,
                    media_ids=[m.media_id for m in i.media],
                    network_id=i.network_id,
                    network_url=i.network_url,
                    published_at=i.published_at,
                )
                for i in post.items
            ],
            last_error=post.last_error,
            tries=post.tries,
            finished_at=post.finished_at,
            created_at=post.created_at,
            updated_at=post.updated_at,
        )


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class QueueOut(BaseModel):
    channel_id: int
    timezone: str
    paused: bool
    queue_version: int
    items: list[PostOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    """One try at publishing a post, or at finding it on the network after a crash."""

    id: int
    attempt: int = Field(description="The post's fencing token during this try.")
    broadcaster: str
    kind: str = Field(description="publish, or reconcile (looking for the post on the network).")
    started_at: dt.datetime
    ended_at: dt.datetime
    outcome: AttemptOutcome
    network_status: int | None = Field(description="The network's HTTP status, if it answered.")
    error_code: str | None
    error: str | None
    lateness_s: float | None = Field(
        description="Seconds between the due time and the network's answer (sent tries)."
    )

    @classmethod
    def of(cls, row: PublishAttempt) -> AttemptOut:
        return cls(
            id=row.id,
            attempt=row.attempt,
            broadcaster=row.broadcaster,
            kind=row.kind,
            started_at=row.started_at,
            ended_at=row.ended_at,
            outcome=row.outcome,
            network_status=row.network_status,
            error_code=row.error_code,
            error=row.error,
            lateness_s=row.lateness_s,
        )


class AttemptPage(BaseModel):
    items: list[AttemptOut]
    next_cursor: str | None
