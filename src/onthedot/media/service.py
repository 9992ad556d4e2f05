"""Media files: stored once by content (SHA-256), referenced by posts, uploaded to each network
by its adapter when a post is prepared."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts.service import Member
from onthedot.db.pagination import decode_cursor, encode_cursor, page_size
from onthedot.errors import Conflict, InvalidInput, NotFound
from onthedot.media import queries
from onthedot.media.models import Media
from onthedot.posts.models import PostItemMedia

ACCEPTED_FAMILIES = ("image/", "video/")
MAX_CONTENT_TYPE_CHARS = 127


def _check_type(content_type: str) -> str:
    content_type = content_type.split(";")[0].strip().lower()
    if len(content_type) > MAX_CONTENT_TYPE_CHARS:  # media.content_type holds 127
        raise InvalidInput(
            f"a media type has at most {MAX_CONTENT_TYPE_CHARS} characters, not {len(content_type)}"
        )
    if not content_type.startswith(ACCEPTED_FAMILIES):
        raise InvalidInput(
            f"media of type '{content_type or 'unknown'}' is not supported; "
            "upload an image or a video"
        )
    return content_type


def _move_into_place(tmp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)


async def store(
    session: AsyncSession,
    *,
    member: Member,
    filename: str,
    content_type: str,
    chunks: AsyncIterator[bytes],
    media_dir: Path,
    max_bytes: int,
    now: dt.datetime,
) -> Media:
    """Stream an upload to disk, checking its size as it comes, and record it."""
    member.require_editor()
    content_type = _check_type(content_type)
    # NUL cannot be stored in PostgreSQL text, and has no place in a file name.
    filename = Path((filename or "upload").replace("\x00", "")).name[:255] or "upload"
    # File I/O runs in worker threads so a large upload never blocks the event loop.
    await asyncio.to_thread(media_dir.mkdir, parents=True, exist_ok=True)
    fd, tmp_name = await asyncio.to_thread(tempfile.mkstemp, dir=media_dir, prefix=".upload-")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(
                        f"'{filename}' is over the {max_bytes // (1024 * 1024)} MiB upload limit"
                    )
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
        if size == 0:
            raise InvalidInput(f"'{filename}' is empty")
        sha = digest.hexdigest()
        relative = Path(sha[:2]) / sha
        await asyncio.to_thread(_move_into_place, tmp, media_dir / relative)
    finally:
        await asyncio.to_thread(tmp.unlink, missing_ok=True)
    media = Media(
        workspace_id=member.workspace_id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=sha,
        path=str(relative),
        created_at=now,
    )
    session.add(media)
    await session.flush()
    return media


async def get_media(session: AsyncSession, *, member: Member, media_id: int) -> Media:
    found = await session.scalar(
        queries.media_by_ids(workspace_id=member.workspace_id, media_ids=[media_id])
    )
    if found is None:
        raise NotFound(f"media {media_id} not found")
    return found


async def list_media(
    session: AsyncSession, *, member: Member, cursor: str | None, limit: int | None
) -> tuple[list[Media], str | None]:
    size = page_size(limit)
    after = decode_cursor(cursor, int)[0] if cursor else None
    query = queries.media_page(workspace_id=member.workspace_id, after_id=after, limit=size + 1)
    rows = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(rows[size - 1].id) if len(rows) > size else None
    return rows[:size], next_cursor


async def delete_media(session: AsyncSession, *, member: Member, media_id: int) -> None:
    member.require_editor()
    media = await get_media(session, member=member, media_id=media_id)
    used = await session.scalar(select(exists().where(PostItemMedia.media_id == media.id)))
    if used:
        raise Conflict(f"media {media_id} is attached to a post; remove it from the post first")
    await session.delete(media)
    await session.flush()
