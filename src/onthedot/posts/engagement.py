"""A sent post's engagement, read live from its network, item by item.

Nothing is stored yet: this is what the analytics to come will collect. A network that
cannot be asked right now, or does not report a figure, is said per item instead of failing
the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts.service import Member
from onthedot.channels import queries as channel_queries
from onthedot.channels.credentials import account_of
from onthedot.crypto import CredentialBox
from onthedot.errors import Conflict
from onthedot.networks.base import Engagement, NetworkError
from onthedot.networks.runtime import Networks
from onthedot.posts import service

__all__ = ["ItemEngagement", "fetch"]


@dataclass(frozen=True, slots=True)
class ItemEngagement:
    position: int
    network_id: str
    url: str | None
    engagement: Engagement | None
    error: str | None = None


async def fetch(
    session: AsyncSession,
    *,
    member: Member,
    post_id: int,
    networks: Networks,
    box: CredentialBox | None,
) -> list[ItemEngagement]:
    post = await service.get_post(session, member=member, post_id=post_id)
    published = [item for item in post.items if item.network_id]
    if not published:
        raise Conflict(f"post {post_id} has not been published yet; it has no engagement")
    channel = await session.scalar(channel_queries.channel_by_id(channel_id=post.channel_id))
    assert channel is not None  # a post's channel is deleted with it
    account = account_of(channel, box)
    adapter = networks.adapter(account.network)
    out = []
    for item in sorted(published, key=lambda i: i.position):
        assert item.network_id is not None
        try:
            figures: Engagement | None = await adapter.engagement(account, item.network_id)
            error = None
        except NetworkError as exc:
            figures, error = None, exc.message
        out.append(
            ItemEngagement(
                position=item.position,
                network_id=item.network_id,
                url=item.network_url,
                engagement=figures,
                error=error,
            )
        )
    return out
