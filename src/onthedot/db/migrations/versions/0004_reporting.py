"""the lateness report: posts of one workspace by due time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Self-contained: one index and nothing else, so it can be renumbered or reordered freely.
def upgrade() -> None:
    # A plain CREATE INDEX, not batch mode: SQLite adds an index without rebuilding the table.
    op.create_index(
        op.f("ix_posts_workspace_id_due_at"), "posts", ["workspace_id", "due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_posts_workspace_id_due_at"), table_name="posts")
