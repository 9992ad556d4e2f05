"""Loading what adapters need for a batch of claimed posts, in a few queries per batch."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from onthedot.channels.models import Channel
from onthedot.crypto import CredentialBox
from onthedot.errors import ConfigurationError
from onthedot.media.models import Media
from onthedot.networks import Network
from onthedot.networks.base import Item, Job, MediaFile, Published
from onthedot.posts.models import PostItem, PostItemMedia


@dataclass(slots=True)
class ChannelInfo:
    network: str
    handle: str
    credentials: Mapping[str, Any]


@dataclass(slots=True)
class Loaded:
    """One claimed post's content, with the items already on the network."""

    job: Job
    done: dict[int, Published] = field(default_factory=dict)  # by item position


def items_of(post_ids: Sequence[int]) -> Any:
    return select(
        PostItem.id,
        PostItem.post_id,
        PostItem.position,
        PostItem.text,
        PostItem.network_id,
        PostItem.network_url,
    ).where(PostItem.post_id.in_(post_ids))


def item_media_of(item_ids: Sequence[int]) -> Any:
    return select(PostItemMedia.item_id, PostItemMedia.position, PostItemMedia.media_id).where(
        PostItemMedia.item_id.in_(item_ids)
    )


def media_by_ids(media_ids: Sequence[int]) -> Any:
    return select(Media.id, Media.path, Media.content_type, Media.size, Media.filename).where(
        Media.id.in_(media_ids)
    )


def channels_by_ids(channel_ids: Sequence[int]) -> Any:
    return select(Channel.id, Channel.network, Channel.handle, Channel.credentials).where(
        Channel.id.in_(channel_ids)
    )


async def load(
    conn: AsyncConnection,
    claimed: Sequence[Any],
    *,
    box: CredentialBox | None,
    media_dir: Path,
) -> dict[int, Loaded | str]:
    """Jobs by post id; a string instead of a job says why the post cannot be published."""
    post_ids = [row.id for row in claimed]
    channel_ids = sorted({row.channel_id for row in claimed})
    channels: dict[int, ChannelInfo | str] = {}
    for found in (await conn.execute(channels_by_ids(channel_ids))).all():
        channels[found.id] = _channel_info(found, box)
    items: dict[int, list[Any]] = defaultdict(list)
    for item in (await conn.execute(items_of(post_ids))).all():
        items[item.post_id].append(item)
    media: dict[int, list[tuple[int, MediaFile]]] = defaultdict(list)
    item_ids = [i.id for rows in items.values() for i in rows]
    links: list[Any] = []
    for start in range(0, len(item_ids), 900):
        links += (await conn.execute(item_media_of(item_ids[start : start + 900]))).all()
    files: dict[int, MediaFile] = {}
    media_ids = sorted({link.media_id for link in links})
    for start in range(0, len(media_ids), 900):
        for m in (await conn.execute(media_by_ids(media_ids[start : start + 900]))).all():
            files[m.id] = MediaFile(
                path=media_dir / m.path,
                content_type=m.content_type,
                size=m.size,
                filename=m.filename,
            )
    for link in links:
        media[link.item_id].append((link.position, files[link.media_id]))
    out: dict[int, Loaded | str] = {}
    for row in claimed:
        channel = channels.get(row.channel_id)
        if channel is None:
            out[row.id] = "the channel was deleted"
            continue
        if isinstance(channel, str):
            out[row.id] = channel
            continue
        post_items = sorted(items.get(row.id, []), key=lambda i: i.position)
        if not post_items:
            out[row.id] = "the post has no text or media to publish"
            continue
        job = Job(
            post_id=row.id,
            channel_id=row.channel_id,
            workspace_id=row.workspace_id,
            network=Network(channel.network),
            handle=channel.handle,
            credentials=channel.credentials,
            items=tuple(
                Item(
                    item_id=i.id,
                    position=i.position,
                    text=i.text,
                    media=tuple(f for _, f in sorted(media.get(i.id, []), key=lambda p: p[0])),
                )
                for i in post_items
            ),
            due_at=row.due_at,
        )
        done = {
            i.position: Published(network_id=i.network_id, url=i.network_url)
            for i in post_items
            if i.network_id is not None
        }
        out[row.id] = Loaded(job=job, done=done)
    return out


def _channel_info(channel: Any, box: CredentialBox | None) -> ChannelInfo | str:
    credentials: Mapping[str, Any] = {}
    if channel.credentials is not None:
        if box is None:
            return "the channel's credentials cannot be read: no encryption key is configured"
        try:
            credentials = box.open(channel.credentials)
        except ConfigurationError as exc:
            return exc.detail
    return ChannelInfo(network=channel.network, handle=channel.handle, credentials=credentials)
