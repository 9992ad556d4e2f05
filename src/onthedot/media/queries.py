"""Named queries on media (checked by the query-plan guard)."""

from __future__ import annotations

from sqlalchemy import Select, select

from onthedot.media.models import Media


def media_page(*, workspace_id: int, after_id: int | None, limit: int) -> Select[Media]:
    query = select(Media).where(Media.workspace_id == workspace_id)
    if after_id is not None:
        query = query.where(Media.id > after_id)
    return query.order_by(Media.id).limit(limit)
