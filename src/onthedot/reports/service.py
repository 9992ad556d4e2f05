"""Reading the lateness report from the database. Never writes; the caller owns the session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.observability import lateness
from onthedot.reports import queries


async def lateness_report(
    session: AsyncSession, *, minute: lateness.Minute, workspace_id: int | None
) -> lateness.LatenessReport:
    """The lateness of the posts due in `minute`, of one workspace or (None) of all."""
    result = await session.execute(
        queries.posts_due_in_minute(start=minute.start, end=minute.end, workspace_id=workspace_id)
    )
    rows = [
        lateness.Row(network=str(network), status=status, due_at=due_at, published_at=published)
        for network, status, due_at, published in result
        if due_at is not None
    ]
    return lateness.summarise(rows, minute=minute, workspace_id=workspace_id)
