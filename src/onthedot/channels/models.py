"""Channels: one connected account on one network, with its zone and posting schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onthedot.db.base import AUTOINCREMENT, Base, BigId, UTCDateTime


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (Index(None, "workspace_id", "id"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64))
    # Posting schedule in its JSON form: [{"days": ["mon", …], "times": ["08:00", …]}].
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why onthedot paused the channel itself (the network revoked its access, say).
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Per-account text limit where the network sets it per server (a Mastodon instance).
    max_chars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Fernet token of the network credentials (JSON); see onthedot.crypto.
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # When the sealed credentials expire, in the clear so the refresher can find them.
    credentials_expire_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True
    )
    # The account's id on its network, which stays when the handle changes: a connection of
    # the same account again replaces this channel's credentials instead of adding a channel.
    account_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Bumped by every queue change; the row is also the lock that serialises them.
    queue_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConnectRequest(Base):
    """An OAuth connection under way: the network sends the user back with its `state`."""

    __tablename__ = "connect_requests"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    # Sealed like credentials: a PKCE verifier, a client registered on a Mastodon instance.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    # The channel to create: {"timezone": ..., "schedule": [...]}.
    channel: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
