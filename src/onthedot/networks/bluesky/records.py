"""Record keys, record addresses and the pieces of a post record that need no network.

A Bluesky post is a record in the account's repository, at
`at://<did>/app.bsky.feed.post/<rkey>`. The client may choose the record key, and a post's
key must be a TID (https://atproto.com/specs/record-key, https://atproto.com/specs/tid):
onthedot derives it from the post, the channel, the due time and the item's position, so
every try of one item writes to the same key. The PDS never holds two records under one
key, so a retry cannot publish a post twice, and `find` asks for that key. A try made long
after the due time uses the key of its five-minute slot (see `record_key`); `find` asks for
each slot's key up to the present.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from dataclasses import dataclass
from typing import Final

from onthedot.networks.base import Item, Job

__all__ = [
    "POST_COLLECTION",
    "AtUri",
    "image_size",
    "post_url",
    "record_key",
    "slot_at",
    "tid",
]

POST_COLLECTION: Final = "app.bsky.feed.post"
# base32-sortable, the TID alphabet.
_TID_ALPHABET: Final = "234567abcdefghijklmnopqrstuvwxyz"
_MICROS: Final = 1_000_000
# A late try (a retry, an overdue post) writes under a key of its own time slot, so the key's
# TID is never more than this behind the time it is written.
SLOT: Final = dt.timedelta(minutes=5)


def tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since the Unix epoch, 10 bits of clock identifier,
    the top bit 0, written as 13 base32-sortable characters."""
    if not 0 <= micros < 2**53 or not 0 <= clock_id < 2**10:
        raise ValueError("a TID holds 53 bits of microseconds and 10 bits of clock id")
    value = (micros << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _due(job: Job) -> dt.datetime:
    return job.due_at if job.due_at.tzinfo else job.due_at.replace(tzinfo=dt.UTC)


def slot_at(job: Job, now: dt.datetime) -> int:
    """Which slot a try made at `now` writes under: 0 up to `SLOT` after the due time, then
    one more every `SLOT`."""
    return max(0, int((now - _due(job)) // SLOT))


def record_key(job: Job, item: Item, slot: int = 0) -> str:
    """The key for every try of this item made in `slot`, distinct for every post and channel.

    The timestamp is the due second plus the slot, so keys sort like the posts and stay
    within minutes of the time they are written: Bluesky's PDS has taken a client's key for
    a post only when its TID is close to the current time (10 minutes when it began to allow
    them; github.com/intrnl/langit issue 19). Within that second, a millisecond and the clock
    id come from a hash of the post and the channel (about a million distinct keys for posts
    of one account due in the same second), and the microsecond is the item's position, so a
    thread's keys sort in thread order.
    """
    seed = hashlib.sha256(f"onthedot:{job.post_id}:{job.channel_id}".encode()).digest()
    (mixed,) = struct.unpack(">Q", seed[:8])
    second = int(_due(job).timestamp()) + slot * int(SLOT.total_seconds())
    micros = second * _MICROS + (mixed % 1000) * 1000 + item.position % 1000
    return tid(micros, (mixed >> 10) & 0x3FF)


@dataclass(frozen=True, slots=True)
class AtUri:
    did: str
    collection: str
    rkey: str

    def __str__(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"

    @classmethod
    def parse(cls, value: str) -> AtUri | None:
        if not value.startswith("at://"):
            return None
        parts = value.removeprefix("at://").split("/")
        if len(parts) != 3 or not all(parts):
            return None
        return cls(parts[0], parts[1], parts[2])


def post_url(uri: AtUri) -> str:
    """The post's page on bsky.app; by DID, which outlives handle changes."""
    return f"https://bsky.app/profile/{uri.did}/post/{uri.rkey}"


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image, read from its header, for the
    embed's aspectRatio (lexicon app.bsky.embed.defs#aspectRatio); None if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        # Start-of-frame markers carry the size; C4 (DHT), C8 and CC are not frames.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None
