"""Named queries on channels (checked by the query-plan guard like every critical query)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Delete, Select, delete, select

from onthedot.channels.models import Channel, ConnectRequest


def channel_in_workspace(*, workspace_id: int, channel_id: int) -> Select[Channel]:
    return select(Channel).where(Channel.id == channel_id, Channel.workspace_id == workspace_id)


def channels_page(*, workspace_id: int, after_id: int | None, limit: int) -> Select[Channel]:
    query = select(Channel).where(Channel.workspace_id == workspace_id)
    if after_id is not None:
        query = query.where(Channel.id > after_id)
    return query.order_by(Channel.id).limit(limit)


def channel_by_id(*, channel_id: int) -> Select[Channel]:
    """A channel whatever its workspace: for onthedot's own changes (the broadcaster's)."""
    return select(Channel).where(Channel.id == channel_id)


def credentials_expiring(*, before: dt.datetime, limit: int) -> Select[Channel]:
    """Channels whose tokens expire before `before`, soonest first: the refresher's work."""
    return (
        select(Channel)
        .where(Channel.credentials_expire_at < before)
        .order_by(Channel.credentials_expire_at)
        .limit(limit)
    )


def channel_of_account(*, workspace_id: int, network: str, account_id: str) -> Select[Channel]:
    """The workspace's channel of one network account, if it was connected before."""
    return select(Channel).where(
        Channel.workspace_id == workspace_id,
        Channel.network == network,
        Channel.account_id == account_id,
    )


def expired_connect_requests(*, now: dt.datetime) -> Delete:
    """OAuth connections nobody finished in time (the expires_at index)."""
    return delete(ConnectRequest).where(ConnectRequest.expires_at < now)
