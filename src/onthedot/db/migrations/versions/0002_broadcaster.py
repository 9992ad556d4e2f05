"""broadcaster state, attempts and heartbeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:34:40.403732
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onthedot.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On SQLite, adding columns rebuilds the table; without this the copy would lose
# AUTOINCREMENT and SQLite could hand a deleted post's id to a new one (and with it the
# deleted post's idempotency keys).
_KEEP_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:

    op.create_table(
        "broadcasters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasters")),
    )
    with op.batch_alter_table("broadcasters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcasters_stopped_at_heartbeat_at"),
            ["stopped_at", "heartbeat_at"],
            unique=False,
        )

    op.create_table(
        "publish_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("broadcaster", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "sent",
                "retry",
                "rate_limited",
                "failed",
                "unknown",
                "found",
                "not_found",
                name="attemptoutcome",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("network_status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lateness_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_publish_attempts_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_attempts")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_attempts_post_id_id"), ["post_id", "id"], unique=False
        )

    with op.batch_alter_table("channels", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("post_items", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("network_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("network_url", sa.String(length=2048), nullable=True))
        batch_op.add_column(
            sa.Column("published_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("posts", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("lease_until", onthedot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("retry_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("tries", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "needs_check", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("finished_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_posts_claimed_by_status"), ["claimed_by", "status"], unique=False
        )
        batch_op.drop_index("ix_posts_status_due_at")
        batch_op.create_index(
            batch_op.f("ix_posts_status_due_at_channel_id"),
            ["status", "due_at", "channel_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_posts_status_lease_until"), ["status", "lease_until"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_posts_status_retry_at"), ["status", "retry_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("posts", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_status_retry_at"))
        batch_op.drop_index(batch_op.f("ix_posts_status_lease_until"))
        batch_op.drop_index(batch_op.f("ix_posts_status_due_at_channel_id"))
        batch_op.create_index("ix_posts_status_due_at", ["status", "due_at"], unique=False)
        batch_op.drop_index(batch_op.f("ix_posts_claimed_by_status"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("needs_check")
        batch_op.drop_column("tries")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("post_items", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.drop_column("published_at")
        batch_op.drop_column("network_url")
        batch_op.drop_column("network_id")

    with op.batch_alter_table("channels", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.drop_column("paused_reason")

    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_attempts_post_id_id"))

    op.drop_table("publish_attempts")
    with op.batch_alter_table("broadcasters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasters_stopped_at_heartbeat_at"))

    op.drop_table("broadcasters")
