"""HTTP routes for media uploads."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from onthedot.db.base import Id
from onthedot.deps import BoxDep, ClockDep, MemberDep, SessionDep, SettingsDep
from onthedot.errors import NotFound
from onthedot.media import service
from onthedot.networks.public_media import PATH, resolve_token

router = APIRouter(prefix="/media", tags=["media"])
# Files a network fetches itself (Threads, Instagram), at sealed, expiring addresses.
public_router = APIRouter(include_in_schema=False)

CHUNK = 1024 * 1024


class MediaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime


class MediaPage(BaseModel):
    items: list[MediaOut]
    next_cursor: str | None


@router.post("", response_model=MediaOut, status_code=status.HTTP_201_CREATED)
async def upload_media(
    request: Request,
    session: SessionDep,
    member: MemberDep,
    settings: SettingsDep,
    clock: ClockDep,
    filename: str = Query(default="upload", max_length=255),
) -> object:
    """Upload one file as the raw request body, with its `Content-Type`.

    `curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' …/media?filename=photo.jpg`
    """

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            yield chunk

    return await service.store(
        session,
        member=member,
        filename=filename,
        content_type=request.headers.get("content-type", ""),
        chunks=chunks(),
        media_dir=settings.media_dir,
        max_bytes=settings.max_media_bytes,
        now=clock.now(),
    )


@router.get("", response_model=MediaPage)
async def list_media(
    session: SessionDep,
    member: MemberDep,
    cursor: str | None = None,
    limit: int | None = Query(default=None, ge=1, le=200),
) -> MediaPage:
    rows, next_cursor = await service.list_media(session, member=member, cursor=cursor, limit=limit)
    return MediaPage(items=[MediaOut.model_validate(m) for m in rows], next_cursor=next_cursor)


@router.get("/{media_id}", response_model=MediaOut)
async def read_media(media_id: Id, session: SessionDep, member: MemberDep) -> object:
    return await service.get_media(session, member=member, media_id=media_id)


@router.delete("/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_media(media_id: Id, session: SessionDep, member: MemberDep) -> None:
    await service.delete_media(session, member=member, media_id=media_id)


@public_router.get(PATH + "{token}")
async def public_media(
    token: str, settings: SettingsDep, clock: ClockDep, box: BoxDep
) -> FileResponse:
    if box is None:
        raise NotFound("this media address is unknown or has expired")
    path, content_type = resolve_token(
        token, box=box, media_dir=settings.media_dir, now=clock.now()
    )
    return FileResponse(path, media_type=content_type)
