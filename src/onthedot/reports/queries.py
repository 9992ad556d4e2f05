"""The lateness report's one statement: the posts due in one minute and when each went out.

Checked by the query-plan guard (`reports.posts_due_in_minute*` in
`onthedot.observability.query_guard.CRITICAL_QUERIES`): it reads only that minute's posts.

When a post went out: `post_items.published_at` of its first item. The broadcaster writes it
per item when the network's answer (with the new post's id) comes back, so it is the first
moment onthedot knows the network accepted the post, and a thread's first item is timed by
itself. The other candidates say something else: `publish_attempts.lateness_s` is measured
when the request left (before the network accepted anything), and `posts.finished_at` and
the attempt's `ended_at` come after a thread's last item and once the outcome is decided. For a
post found on the network after its broadcaster died, `published_at` is when it was found:
an upper bound, late rather than early.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select

from onthedot.channels.models import Channel
from onthedot.posts.models import Post, PostItem, PostStatus


def posts_due_in_minute(
    *, start: dt.datetime, end: dt.datetime, workspace_id: int | None
) -> Select[str, PostStatus, dt.datetime | None, dt.datetime | None]:
    """Network, status, due time and first item's `published_at` of every post due in
    [start, end); of one workspace, or of the whole installation."""
    # A correlated subquery rather than a join: it is always one (post_id, position) index
    # lookup per post, whereas a join's plan depends on the statistics (with few rows,
    # PostgreSQL walks the whole items index on `position = 0` and filters on the post).
    # Items are numbered from 0.
    published = (
        select(PostItem.published_at)
        .where(PostItem.post_id == Post.id, PostItem.position == 0)
        .scalar_subquery()
    )
    query = (
        select(Channel.network, Post.status, Post.due_at, published)
        .join(Channel, Channel.id == Post.channel_id)
        .where(Post.due_at >= start, Post.due_at < end)
    )
    if workspace_id is not None:
        # The (workspace_id, due_at) index: one workspace's posts of that minute only.
        return query.where(Post.workspace_id == workspace_id)
    # Every status, spelled out, so that the broadcaster's (status, due_at, channel_id) index
    # serves the range: one short index range per status, and no index of its own to write
    # at 08:00. Without that index the broadcaster cannot claim either, and the guard (and
    # `onthedot doctor`) reports it on `broadcaster.due_channels`.
    return query.where(Post.status.in_(list(PostStatus)))
