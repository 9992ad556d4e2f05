"""Facets at UTF-8 byte offsets, record keys that are valid TIDs, image sizes from headers."""

from __future__ import annotations

import datetime as dt
import re

from onthedot.networks import Network
from onthedot.networks.base import Item, Job
from onthedot.networks.bluesky.records import AtUri, image_size, record_key, slot_at, tid
from onthedot.networks.bluesky.richtext import find_spans, link_card_url, to_facets
from tests.unit.networks.bluesky.conftest import png

TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
DUE = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def spans(text: str) -> list[tuple[str, str, str]]:
    raw = text.encode()
    return [(s.kind, s.value, raw[s.byte_start : s.byte_end].decode()) for s in find_spans(text)]


def test_offsets_are_utf8_bytes() -> None:
    text = "✨ café @Alice.bsky.social 👋🏽 #Tag!"
    found = find_spans(text)
    assert [(s.kind, s.byte_start, s.byte_end) for s in found] == [
        ("mention", 10, 28),
        ("tag", 38, 42),
    ]
    assert spans(text) == [
        ("mention", "alice.bsky.social", "@Alice.bsky.social"),
        ("tag", "Tag", "#Tag"),
    ]


def test_links_lose_the_sentence_s_punctuation() -> None:
    assert spans("see https://example.com/a_(b), and (https://x.test/y).") == [
        ("link", "https://example.com/a_(b)", "https://example.com/a_(b)"),
        ("link", "https://x.test/y", "https://x.test/y"),
    ]


def test_what_is_not_a_facet() -> None:
    assert spans("mail me@example.com, #123, a#b, @nodot, https://localhost") == []
    # A handle inside a URL belongs to the URL.
    assert [k for k, _, _ in spans("https://bsky.app/profile/@a.b.test")] == ["link"]
    assert spans("#" + "a" * 65) == []


def test_unresolved_mentions_stay_text() -> None:
    found = find_spans("hi @a.test and @b.test https://c.test")
    facets = to_facets(found, {"a.test": "did:plc:a"})
    kinds = [f["features"][0]["$type"].rsplit("#", 1)[1] for f in facets]
    assert kinds == ["mention", "link"]
    assert link_card_url(found) == "https://c.test"


def job(post_id: int, channel_id: int = 3) -> Job:
    items = tuple(Item(item_id=i, position=i, text=str(i)) for i in range(3))
    return Job(post_id, channel_id, 1, Network.BLUESKY, "@a", {}, items, DUE)


def test_tid_encoding() -> None:
    assert tid(0, 0) == "2222222222222"
    assert TID_RE.match(tid(2**53 - 1, 1023))


def test_record_keys_are_stable_distinct_and_in_thread_order() -> None:
    a, b = job(1), job(2)
    keys = [record_key(a, i) for i in a.items]
    assert all(TID_RE.match(k) for k in keys)
    assert keys == sorted(keys) and len(set(keys)) == 3
    assert keys == [record_key(job(1), i) for i in a.items]  # every try, every broadcaster
    assert record_key(b, b.items[0]) not in keys
    assert record_key(job(1, channel_id=4), a.items[0]) not in keys
    # The key's timestamp is the due second.
    value = 0
    for char in keys[0]:
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    assert (value >> 10) // 1_000_000 == int(DUE.timestamp())


def test_at_uri() -> None:
    uri = AtUri.parse("at://did:plc:x/app.bsky.feed.post/3abc")
    assert uri is not None and str(uri) == "at://did:plc:x/app.bsky.feed.post/3abc"
    assert AtUri.parse("https://bsky.app/x") is None


def test_image_sizes_from_headers() -> None:
    assert image_size(png(640, 480)) == (640, 480)
    assert image_size(b"GIF89a" + (320).to_bytes(2, "little") + (200).to_bytes(2, "little")) == (
        320,
        200,
    )
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0\x00\x04ab"
        + b"\xff\xc0\x00\x11\x08"
        + (300).to_bytes(2, "big")
        + (400).to_bytes(2, "big")
        + b"\x00" * 12
    )
    assert image_size(jpeg) == (400, 300)
    webp = (
        b"RIFF\x00\x00\x00\x00WEBPVP8X"
        + b"\x00" * 8
        + (99).to_bytes(3, "little")
        + (49).to_bytes(3, "little")
    )
    assert image_size(webp) == (100, 50)
    assert image_size(b"not an image") is None


def test_late_slots_move_the_key_forward_five_minutes_each() -> None:
    a = job(1)
    assert slot_at(a, DUE) == 0 and slot_at(a, DUE + dt.timedelta(minutes=4, seconds=59)) == 0
    assert slot_at(a, DUE + dt.timedelta(minutes=17)) == 3
    keys = [record_key(a, a.items[0], slot) for slot in range(3)]
    assert keys == sorted(keys) and len(set(keys)) == 3
    assert record_key(a, a.items[0], 0) == record_key(a, a.items[0])
