"""Posts: one row per target channel, with the thread items and media they carry."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onthedot.db.base import AUTOINCREMENT, Base, BigId, UTCDateTime


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    HELD = "held"  # in the queue of a paused channel
    CLAIMED = "claimed"
    PREPARED = "prepared"
    PUBLISHING = "publishing"
    RETRY_WAIT = "retry_wait"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    MISSED = "missed"


# Posts a person may still change: nothing has started publishing them.
EDITABLE = frozenset({PostStatus.DRAFT, PostStatus.SCHEDULED, PostStatus.HELD})
# Posts waiting in a queue whose due time the queue decides.
QUEUED = (PostStatus.SCHEDULED, PostStatus.HELD)
# Posts the broadcaster owns right now.
IN_FLIGHT = frozenset(
    {PostStatus.CLAIMED, PostStatus.PREPARED, PostStatus.PUBLISHING, PostStatus.RETRY_WAIT}
)
# Posts that may be deleted: any a broadcaster is not publishing right now.
DELETABLE = frozenset(PostStatus) - IN_FLIGHT
# Everything still ahead of its outcome, as shown in a channel's queue.
PENDING = (*QUEUED, *sorted(IN_FLIGHT))


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # The broadcaster's claims: status = 'scheduled' AND due_at <= horizon, read in
        # (due_at, channel_id) order so that a channel's posts due together are adjacent.
        Index(None, "status", "due_at", "channel_id"),
        # A channel's queue and the re-flow of its floating posts.
        Index(None, "channel_id", "status", "due_at"),
        # Post lists, newest first, by workspace or channel, with or without a status.
        Index(None, "workspace_id", "id"),
        Index(None, "workspace_id", "status", "id"),
        Index(None, "channel_id", "id"),
        Index(None, "channel_id", "status", "id"),
        Index(None, "group_id"),
        # The broadcaster: retries coming due, leases run out, a broadcaster's own claims.
        Index(None, "status", "retry_at"),
        Index(None, "status", "lease_until"),
        Index(None, "claimed_by", "status"),
        # The lateness report of one workspace: its posts due in one minute.
        Index(None, "workspace_id", "due_at"),
        # The database itself refuses two floating posts in one slot of a channel.
        Index(
            "uq_posts_channel_slot",
            "channel_id",
            "due_at",
            unique=True,
            sqlite_where=text("NOT pinned AND due_at IS NOT NULL"),
            postgresql_where=text("NOT pinned AND due_at IS NOT NULL"),
        ),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    # The rows created together for several channels share a group id.
    group_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus))
    # Pinned posts keep their instant and take no slot; floating ones fill the schedule.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The fencing token of the broadcaster: bumped by every claim (and by every change a
    # person makes to a claimed post), and checked by every later state change.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    # The broadcaster holding the claim, and until when; an expired lease is recovered.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # In retry_wait: when to try again (due_at keeps the time the post was due).
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Tries that used up the retry budget (rate-limit waits do not count).
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last try may have reached the network: ask it before trying again.
    needs_check: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Why the post failed, is unknown or was missed, in words the user can act on.
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the post reached its outcome (sent, failed, unknown, missed).
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    items: Mapped[list[PostItem]] = relationship(
        back_populates="post",
        order_by="PostItem.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class PostItem(Base):
    """One item of a post; a thread has several, each a reply to the one before."""

    __tablename__ = "post_items"
    __table_args__ = (UniqueConstraint("post_id", "position"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # Where the item landed once published: the network's id and public address.
    network_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    network_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    post: Mapped[Post] = relationship(back_populates="items", lazy="raise")
    media: Mapped[list[PostItemMedia]] = relationship(
        order_by="PostItemMedia.position", cascade="all, delete-orphan", lazy="raise"
    )


class PostItemMedia(Base):
    __tablename__ = "post_item_media"
    __table_args__ = (
        UniqueConstraint("item_id", "position"),
        Index(None, "media_id"),
        AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("post_items.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)


class AttemptOutcome(enum.StrEnum):
    SENT = "sent"  # the network confirmed the post
    RETRY = "retry"  # a transient error; tried again later
    RATE_LIMITED = "rate_limited"  # the network asked to wait; no try used up
    FAILED = "failed"  # a permanent error
    UNKNOWN = "unknown"  # reconciliation could not tell whether the post exists
    FOUND = "found"  # reconciliation found the post on the network
    NOT_FOUND = "not_found"  # reconciliation proved the post is not there


class PublishAttempt(Base):
    """One try at publishing a post (or at finding it after a crash), for the record."""

    __tablename__ = "publish_attempts"
    __table_args__ = (Index(None, "post_id", "id"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # The post's fencing token during this try.
    attempt: Mapped[int] = mapped_column(Integer)
    broadcaster: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # publish | reconcile
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[AttemptOutcome] = mapped_column(_enum(AttemptOutcome))
    network_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Seconds between the post's due time and the network's answer (sent tries only).
    lateness_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class Broadcaster(Base):
    """A running (or stopped) broadcaster process and its heartbeat."""

    __tablename__ = "broadcasters"
    # Live broadcasters that stopped heartbeating: stopped_at IS NULL AND heartbeat_at < …
    __table_args__ = (Index(None, "stopped_at", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
