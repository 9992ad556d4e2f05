"""Named queries on media (checked by the query-plan guard)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select

from onthedot.media.models import Media


def media_page(*, workspace_id: int, after_id: int | None, limit: int) -> Select[Media]:
    query = select(Media).where(Media.workspace_id == workspace_id)
    if after_id is not None:
        query = query.where(Media.id > after_id)
    return query.order_by(Media.id).limit(limit)


def media_by_ids(*, workspace_id: int, media_ids: Sequence[int]) -> Select[Media]:
    """The media a post refers to; another workspace's ids simply find nothing."""
    return select(Media).where(Media.id.in_(media_ids), Media.workspace_id == workspace_id)
