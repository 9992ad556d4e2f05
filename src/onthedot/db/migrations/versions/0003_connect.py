"""connecting accounts: OAuth requests under way, credential expiry, network account ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onthedot.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On SQLite, adding columns rebuilds the table; keep AUTOINCREMENT (see 0002).
_KEEP_IDS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "connect_requests",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("channel", sa.JSON(), nullable=False),
        sa.Column("expires_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_connect_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_connect_requests_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_connect_requests")),
    )
    with op.batch_alter_table("connect_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_requests_expires_at"), ["expires_at"])
        batch_op.create_index(batch_op.f("ix_connect_requests_workspace_id"), ["workspace_id"])
    with op.batch_alter_table("channels", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.add_column(
            sa.Column(
                "credentials_expire_at", onthedot.db.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("account_id", sa.String(length=255), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_channels_credentials_expire_at"), ["credentials_expire_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None, table_kwargs=_KEEP_IDS) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channels_credentials_expire_at"))
        batch_op.drop_column("account_id")
        batch_op.drop_column("credentials_expire_at")
    with op.batch_alter_table("connect_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_requests_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_connect_requests_expires_at"))
    op.drop_table("connect_requests")
