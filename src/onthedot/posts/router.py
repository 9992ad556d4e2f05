"""HTTP routes for posts and every queue operation."""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from onthedot.db.base import Id
from onthedot.deps import BoxDep, ClockDep, MemberDep, NetworksDep, SessionDep
from onthedot.errors import InvalidInput
from onthedot.posts import engagement, service
from onthedot.posts.models import PostStatus
from onthedot.posts.schemas import (
    AttemptOut,
    AttemptPage,
    MoveBody,
    OrderBody,
    PlaceBody,
    PostCreate,
    PostOut,
    PostPage,
    PostUpdate,
    QueueOut,
    ResolveBody,
)

router = APIRouter(tags=["posts"])


@router.post("/posts", response_model=list[PostOut], status_code=status.HTTP_201_CREATED)
async def create_posts(
    body: PostCreate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> list[PostOut]:
    """Create a post for one or more channels (one post per channel, sharing a group id)."""
    items = body.content()
    assert items is not None
    posts = await service.create_posts(
        session,
        member=member,
        channel_ids=body.channel_ids,
        items=items,
        mode=body.mode,
        at=body.at,
        now=clock.now(),
    )
    return [PostOut.of(p) for p in posts]


@router.get("/posts", response_model=PostPage)
async def list_posts(
    session: SessionDep,
    member: MemberDep,
    channel_id: Id | None = None,
    status_: Annotated[PostStatus | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=200),
) -> PostPage:
    rows, next_cursor = await service.list_posts(
        session, member=member, channel_id=channel_id, status=status_, cursor=cursor, limit=limit
    )
    return PostPage(items=[PostOut.of(p) for p in rows], next_cursor=next_cursor)


@router.get("/posts/{post_id}", response_model=PostOut)
async def read_post(post_id: Id, session: SessionDep, member: MemberDep) -> PostOut:
    return PostOut.of(await service.get_post(session, member=member, post_id=post_id))


@router.patch("/posts/{post_id}", response_model=PostOut)
async def update_post(
    post_id: Id, body: PostUpdate, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    try:
        items = body.content()
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return PostOut.of(
        await service.update_post(
            session, member=member, post_id=post_id, items=items, now=clock.now()
        )
    )


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(post_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep) -> None:
    await service.delete_post(session, member=member, post_id=post_id, now=clock.now())


@router.post("/posts/{post_id}/place", response_model=PostOut)
async def place_post(
    post_id: Id, body: PlaceBody, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    """Share now, share next, add to queue, set a custom time, or move back to drafts."""
    return PostOut.of(
        await service.set_mode(
            session, member=member, post_id=post_id, mode=body.mode, at=body.at, now=clock.now()
        )
    )


@router.post("/posts/{post_id}/share-now", response_model=PostOut)
async def share_now(
    post_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    return PostOut.of(
        await service.set_mode(
            session, member=member, post_id=post_id, mode=service.Mode.NOW, at=None, now=clock.now()
        )
    )


@router.post("/posts/{post_id}/move-to-top", response_model=PostOut)
async def move_to_top(
    post_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    return PostOut.of(
        await service.move(session, member=member, post_id=post_id, position=1, now=clock.now())
    )


@router.post("/posts/{post_id}/move", response_model=PostOut)
async def move_post(
    post_id: Id, body: MoveBody, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    return PostOut.of(
        await service.move(
            session, member=member, post_id=post_id, position=body.position, now=clock.now()
        )
    )


@router.get("/posts/{post_id}/attempts", response_model=AttemptPage)
async def list_attempts(
    post_id: Id,
    session: SessionDep,
    member: MemberDep,
    cursor: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=200),
) -> AttemptPage:
    """Every try at publishing the post (and at finding it after a crash), newest first."""
    rows, next_cursor = await service.list_attempts(
        session, member=member, post_id=post_id, cursor=cursor, limit=limit
    )
    return AttemptPage(items=[AttemptOut.of(a) for a in rows], next_cursor=next_cursor)


class EngagementOut(BaseModel):
    position: int
    network_id: str
    url: str | None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    clicks: int | None = None
    impressions: int | None = None
    error: str | None = Field(
        default=None, description="Why the figures are missing (null when they are here)."
    )


@router.get("/posts/{post_id}/engagement", response_model=list[EngagementOut])
async def read_engagement(
    post_id: Id, session: SessionDep, member: MemberDep, networks: NetworksDep, box: BoxDep
) -> list[EngagementOut]:
    """Likes, reposts, replies (and clicks where the network tells) of each published item,
    read from the network now. null: the network does not report that figure."""
    rows = await engagement.fetch(
        session, member=member, post_id=post_id, networks=networks, box=box
    )
    return [
        EngagementOut(
            position=row.position,
            network_id=row.network_id,
            url=row.url,
            error=row.error,
            **(asdict(row.engagement) if row.engagement is not None else {}),
        )
        for row in rows
    ]


@router.post("/posts/{post_id}/resolve", response_model=PostOut)
async def resolve_post(
    post_id: Id, body: ResolveBody, session: SessionDep, member: MemberDep, clock: ClockDep
) -> PostOut:
    """Settle a post in `unknown` or `failed`: "sent" (you found it on the network; unknown
    only) or "retry" (publish it again at once)."""
    return PostOut.of(
        await service.resolve(
            session, member=member, post_id=post_id, outcome=body.outcome, now=clock.now()
        )
    )


@router.get("/channels/{channel_id}/queue", response_model=QueueOut)
async def read_queue(
    channel_id: Id,
    session: SessionDep,
    member: MemberDep,
    cursor: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=200),
) -> QueueOut:
    channel, rows, next_cursor = await service.queue_page(
        session, member=member, channel_id=channel_id, cursor=cursor, limit=limit
    )
    return QueueOut(
        channel_id=channel.id,
        timezone=channel.timezone,
        paused=channel.paused,
        queue_version=channel.queue_version,
        items=[PostOut.of(p) for p in rows],
        next_cursor=next_cursor,
    )


@router.put("/channels/{channel_id}/queue/order", response_model=list[PostOut])
async def reorder_queue(
    channel_id: Id, body: OrderBody, session: SessionDep, member: MemberDep, clock: ClockDep
) -> list[PostOut]:
    ordered = await service.reorder(
        session,
        member=member,
        channel_id=channel_id,
        post_ids=body.post_ids,
        queue_version=body.queue_version,
        now=clock.now(),
    )
    return [PostOut.of(p) for p in ordered]


@router.post("/channels/{channel_id}/queue/shuffle", response_model=list[PostOut])
async def shuffle_queue(
    channel_id: Id, session: SessionDep, member: MemberDep, clock: ClockDep
) -> list[PostOut]:
    ordered = await service.shuffle(
        session,
        member=member,
        channel_id=channel_id,
        rng=random.Random(),  # noqa: S311 - a queue order, not a secret
        now=clock.now(),
    )
    return [PostOut.of(p) for p in ordered]
