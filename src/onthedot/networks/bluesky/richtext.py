"""Where a post's links, mentions and hashtags are, as Bluesky facets want them.

Bluesky posts carry no markup: a facet points at a range of the text by UTF-8 byte offsets,
start inclusive and end exclusive, and says what the range is -- a link (its URI), a
mention (the account's DID, not its handle) or a hashtag (the tag without "#")
(https://docs.bsky.app/docs/advanced-guides/post-richtext, lexicon app.bsky.richtext.facet).
Nothing here calls the network: mentions come back with their handles, and the adapter
resolves them to DIDs ahead of the due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import regex

__all__ = ["Span", "find_spans", "link_card_url", "to_facets"]

# Lexicon app.bsky.richtext.facet#tag: a tag is at most 64 graphemes and 640 bytes.
MAX_TAG_GRAPHEMES: Final = 64
MAX_TAG_BYTES: Final = 640

# A mention is "@" and a handle, which is a domain name (https://atproto.com/specs/handle),
# at the start of the text or after a character that is not part of a word.
_MENTION_RE: Final = regex.compile(
    r"(?:^|(?<=[^\w@]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)"
)
# An http(s) URL starting a word; the trailing punctuation of a sentence is not part of it.
_URL_RE: Final = regex.compile(r"(?:^|(?<=[\s(\[<\"']))(https?://[^\s<>\"]+)", regex.IGNORECASE)
_URL_TRAILING: Final = ".,;:!?'\")]}"
# A hashtag starts the text or follows a space; "#" or the full-width "＃"; it is not all
# digits, and it stops at a space or at invisible separators.
_TAG_RE: Final = regex.compile(
    r"(?:^|(?<=\s))[#＃]([^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]+)"
)
_TAG_TRAILING_RE: Final = regex.compile(r"\p{P}+$")
_GRAPHEME_RE: Final = regex.compile(r"\X")

Kind = Literal["link", "mention", "tag"]


@dataclass(frozen=True, slots=True)
class Span:
    """One link, mention or tag: its kind, its value (URI, handle, tag) and its byte range."""

    kind: Kind
    value: str
    byte_start: int
    byte_end: int


def _bytes_before(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _span(text: str, kind: Kind, value: str, start: int, end: int) -> Span:
    return Span(kind, value, _bytes_before(text, start), _bytes_before(text, end))


def find_spans(text: str) -> list[Span]:
    """Links, mentions and hashtags in `text`, in text order, none overlapping another."""
    spans: list[tuple[int, int, Span]] = []
    for match in _URL_RE.finditer(text):
        url = match.group(1)
        while url and url[-1] in _URL_TRAILING:
            # A closing parenthesis belongs to the URL if the URL opened one: /wiki/a_(b).
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if "." not in url.partition("://")[2]:
            continue
        start = match.start(1)
        spans.append((start, start + len(url), _span(text, "link", url, start, start + len(url))))
    for match in _MENTION_RE.finditer(text):
        start, end = match.start(), match.end()
        handle = match.group(1).lower()
        spans.append((start, end, _span(text, "mention", handle, start, end)))
    for match in _TAG_RE.finditer(text):
        tag = _TAG_TRAILING_RE.sub("", match.group(1))
        if not tag or tag.isdigit() or tag.startswith("\ufe0f"):
            continue
        if (
            len(_GRAPHEME_RE.findall(tag)) > MAX_TAG_GRAPHEMES
            or len(tag.encode("utf-8")) > MAX_TAG_BYTES
        ):
            continue
        start = match.start()
        end = match.start(1) + len(tag)
        spans.append((start, end, _span(text, "tag", tag, start, end)))
    spans.sort(key=lambda s: (s[0], -s[1]))
    kept: list[Span] = []
    reach = -1
    for start, end, span in spans:
        if start >= reach:  # a mention inside a URL (https://x.y/@a.b) is part of the URL
            kept.append(span)
            reach = end
    return kept


def to_facets(spans: list[Span], dids: dict[str, str]) -> list[dict[str, Any]]:
    """Facets for the spans; a mention whose handle did not resolve to a DID is left as text,
    as Bluesky's own apps do."""
    facets: list[dict[str, Any]] = []
    for span in spans:
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "mention":
            did = dids.get(span.value)
            if did is None:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        facets.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets


def link_card_url(spans: list[Span]) -> str | None:
    """The link a card is made for: the first one, as Bluesky's app does."""
    return next((s.value for s in spans if s.kind == "link"), None)
