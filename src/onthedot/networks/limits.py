"""Each network's limits on a post's text and media, checked when the post is created.

A post that a network would refuse is refused here, at creation, with a message that says what
to change -- not hours later, when the publisher calls the network and nobody is watching. This
module holds the facts (how long a text may be, how each network measures it, which attachments
it takes) and pure functions that apply them. Every number names the page it comes from; the
same facts, for people, are in docs/networks/limits.md.

Counting is the hard part, because no two networks count alike: Bluesky counts grapheme
clusters, X weighs code points and counts every link as 23, Mastodon counts links as 23 and a
remote mention without its domain, Threads counts an emoji as its UTF-8 bytes. Each rule has its
own counter below, exact where the network publishes its rule and documented where it does not.
X's and Mastodon's counts and Threads' cap on links need to know where a text's links are;
`_links` finds them as twitter-text does, from the top-level domains in `_tlds`.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import regex

from onthedot.errors import InvalidInput, TextTooLong
from onthedot.networks import Network
from onthedot.networks._links import (
    MASTODON_MENTION_END_RE,
    MASTODON_MENTION_RE,
    MASTODON_URL_PLACEHOLDER,
    url_spans,
    without_overlaps,
)

__all__ = [
    "MEDIA_LIMITS",
    "TEXT_LIMITS",
    "KindLimit",
    "MediaKind",
    "MediaLimits",
    "TextLimit",
    "check_item",
    "check_media",
    "check_text",
    "code_point_length",
    "count_graphemes",
    "count_text",
    "mastodon_length",
    "media_kind",
    "takes_threads",
    "text_limit",
    "threads_length",
    "x_weighted_length",
]


# The unit tests pin link extraction to twitter-text's conformance cases through this name.
_url_spans = url_spans


# --- Counters ------------------------------------------------------------------------------
# Each counter is a pure function of the text. The patterns they use are compiled once, at the
# bottom of this module; the links in a text are found by `_links`.


def code_point_length(text: str) -> int:
    """Unicode code points: what "characters" means where a network documents nothing finer."""
    return len(text)


def count_graphemes(text: str) -> int:
    """Extended grapheme clusters (Unicode UAX #29), what a reader sees as one character.

    Bluesky's post record limits text by graphemes, and Mastodon's server counts them too:
    "👍🏽" is one, "é" written as e + combining accent is one, a family emoji is one.
    """
    return len(_GRAPHEME_RE.findall(text))


def x_weighted_length(text: str) -> int:
    """The length X gives a post, per twitter-text's version 3 configuration.

    The text is NFC-normalised first. Then every URL counts 23 (X wraps them all in t.co links),
    including bare domains such as ``example.com/path`` that X turns into links; every emoji --
    a ZWJ sequence, a skin tone, a flag, a keycap -- counts 2 in total; every other code point
    counts 1 up to U+10FF (Latin, Greek, Cyrillic, Hebrew, Arabic, Indic scripts, Thai...) and
    in a few punctuation ranges, and 2 beyond (CJK, Hangul, most symbols).
    """
    text = unicodedata.normalize("NFC", text)
    url_ends = dict(url_spans(text))
    emoji_ends = {match.start(): match.end() for match in _EMOJI_RE.finditer(text)}
    length = 0
    index = 0
    # twitter-text walks the text once, giving a URL or an emoji that *starts* at a position its
    # fixed weight and jumping past it; an emoji found inside a URL is therefore never counted.
    while index < len(text):
        if index in url_ends:
            length += _X_URL_LENGTH
            index = url_ends[index]
        elif index in emoji_ends:
            length += _X_DEFAULT_WEIGHT
            index = emoji_ends[index]
        else:
            length += _x_code_point_weight(ord(text[index]))
            index += 1
    return length


def mastodon_length(text: str) -> int:
    """The length Mastodon's server gives a status text (its StatusLengthValidator).

    Every http(s) URL counts 23 characters whatever its length (bare domains are not links on
    Mastodon, so they count in full); a mention of a remote account, ``@user@domain``, counts as
    ``@user``; and the result is measured in grapheme clusters, not code points.
    """
    if not text.strip():
        return 0
    entities = [
        (start, end, MASTODON_URL_PLACEHOLDER)
        for start, end in url_spans(text, require_protocol=True)
    ]
    for match in MASTODON_MENTION_RE.finditer(text):
        if MASTODON_MENTION_END_RE.match(text, match.end()):
            # Mastodon drops a mention followed by another @, an accented letter or "://": it is
            # an e-mail address or a URL, not a mention.
            continue
        entities.append((match.start(), match.end(), "@" + match.group("username")))
    countable: list[str] = []
    position = 0
    for start, end, replacement in without_overlaps(entities):
        countable.append(text[position:start])
        countable.append(replacement)
        position = end
    countable.append(text[position:])
    return count_graphemes("".join(countable))


def threads_length(text: str) -> int:
    """The length Threads gives a text: one per character, but an emoji counts its UTF-8 bytes.

    Meta documents only "Emojis are counted as the number of UTF-8 bytes" and links the
    grapheme-splitter package, so a character here is a grapheme cluster, and a cluster that is
    an emoji counts the UTF-8 bytes of all its code points: "😀" is 4, a family emoji 25.
    """
    length = 0
    for cluster in _GRAPHEME_RE.findall(text):
        length += len(cluster.encode("utf-8")) if _EMOJI_RE.search(cluster) else 1
    return length


def count_text(network: Network, text: str) -> int:
    """The length of ``text`` as ``network`` counts it (see each counter)."""
    return TEXT_LIMITS[Network(network)].count(text)


# --- Text limits ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextLimit:
    """How long a post's text may be on one network, and how the network measures it."""

    max_chars: int
    count: Callable[[str], int]
    # Finishes "text is 312 characters on bluesky (...)": says how the number was reached.
    counted_as: str
    # Mastodon instances set their own limit (configuration.statuses.max_characters); the
    # sandbox takes one for tests. Nowhere else may a caller move the limit.
    overridable: bool = False
    # Bluesky's record also caps the text's size in UTF-8 bytes, on top of its graphemes.
    max_utf8_bytes: int | None = None
    # Threads refuses a post with more than this many distinct links.
    max_links: int | None = None


TEXT_LIMITS: Final[Mapping[Network, TextLimit]] = MappingProxyType(
    {
        # Default 500; each instance may differ and reports its own in GET /api/v2/instance,
        # configuration.statuses.max_characters. Counting from Mastodon's
        # app/validators/status_length_validator.rb (URL_PLACEHOLDER_CHARS = 23, mentions
        # shortened to @username, grapheme clusters); docs.joinmastodon.org/user/posting/.
        # The content warning (spoiler_text) shares the same budget on Mastodon.
        Network.MASTODON: TextLimit(
            max_chars=500,
            count=mastodon_length,
            counted_as="counted as graphemes, each link as 23, @user@domain as @user",
            overridable=True,
        ),
        # Lexicon app.bsky.feed.post: text maxGraphemes 300, maxLength 3000 (UTF-8 bytes).
        Network.BLUESKY: TextLimit(
            max_chars=300,
            count=count_graphemes,
            counted_as="counted as graphemes",
            max_utf8_bytes=3000,
        ),
        # developers.facebook.com/documentation/threads/posts ("Text posts are limited to 500
        # characters. Emojis are counted as the number of UTF-8 bytes.") and
        # .../threads/create-posts/text-attachments (more than 5 links fail to post).
        Network.THREADS: TextLimit(
            max_chars=500,
            count=threads_length,
            counted_as="counted as characters, each emoji as its UTF-8 bytes",
            max_links=5,
        ),
        # twitter-text config/v3.json: maxWeightedTweetLength 280, scale 100, defaultWeight 200,
        # transformedURLLength 23, emojiParsingEnabled; checked against the weightedLength
        # cases of twitter-text's conformance/validate.yml. (X Premium accounts may post up to
        # 25,000; a channel that needs it needs an override here first.)
        Network.X: TextLimit(
            max_chars=280,
            count=x_weighted_length,
            counted_as="weighted: each link 23, each emoji 2, CJK and others beyond U+10FF 2",
        ),
        # learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api:
        # commentary up to 3000 characters. LinkedIn does not say how it counts them.
        Network.LINKEDIN: TextLimit(
            max_chars=3000, count=code_point_length, counted_as="counted as code points"
        ),
        # 63,206 characters: Facebook's widely cited post limit. Meta's Graph API reference
        # for POST /{page-id}/feed states none, so this is the best available number.
        Network.FACEBOOK: TextLimit(
            max_chars=63206, count=code_point_length, counted_as="counted as code points"
        ),
        # developers.facebook.com/docs/instagram-platform/content-publishing: captions are
        # limited to 2,200 characters.
        Network.INSTAGRAM: TextLimit(
            max_chars=2200, count=code_point_length, counted_as="counted as code points"
        ),
        # Ours: publishes nowhere, so its limit only has to be predictable.
        Network.SANDBOX: TextLimit(
            max_chars=500,
            count=code_point_length,
            counted_as="counted as code points",
            overridable=True,
        ),
    }
)


# Networks where a post can be a thread: each item a reply to the one before. LinkedIn's
# comments, Facebook's and Instagram's are not posts of the account's feed, so a thread there
# is refused at creation rather than published as something else.
THREADED: Final = frozenset(
    {Network.MASTODON, Network.BLUESKY, Network.THREADS, Network.X, Network.SANDBOX}
)


def takes_threads(network: Network) -> bool:
    return Network(network) in THREADED


def text_limit(network: Network, max_chars: int | None = None) -> int:
    """The text limit that applies on ``network``, given the channel's own ``max_chars``."""
    network = Network(network)
    rule = TEXT_LIMITS[network]
    if max_chars is None:
        return rule.max_chars
    if not rule.overridable:
        raise ValueError(f"the text limit on {network} is fixed; max_chars cannot change it")
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    return max_chars


def check_text(network: Network, text: str, *, max_chars: int | None = None) -> int:
    """Return ``text``'s length as ``network`` counts it, or raise if the network would refuse it.

    ``max_chars`` is the instance's own limit on Mastodon (and a test's on the sandbox); it is
    a programming error anywhere else. Raises `TextTooLong` when the text is over the limit,
    and `InvalidInput` for Threads' cap on links.
    """
    network = Network(network)
    rule = TEXT_LIMITS[network]
    limit = text_limit(network, max_chars)
    length = rule.count(text)
    if length > limit:
        over = length - limit
        raise TextTooLong(
            f"text is {length} characters on {network} ({rule.counted_as}); "
            f"the limit is {limit} — shorten it by {over}",
            network=network,
            limit=limit,
            length=length,
            over=over,
            counted_as=rule.counted_as,
        )
    if rule.max_utf8_bytes is not None:
        size = len(text.encode("utf-8"))
        if size > rule.max_utf8_bytes:
            over = size - rule.max_utf8_bytes
            raise TextTooLong(
                f"text is {size} bytes in UTF-8 on {network}; the limit is "
                f"{rule.max_utf8_bytes} bytes — shorten it by {over} bytes",
                network=network,
                limit=rule.max_utf8_bytes,
                length=size,
                over=over,
                counted_as="bytes in UTF-8",
            )
    if rule.max_links is not None:
        links = len({text[start:end] for start, end in url_spans(text)})
        if links > rule.max_links:
            raise InvalidInput(
                f"text has {links} different links; {network} allows at most "
                f"{rule.max_links} — remove {links - rule.max_links}",
                network=network,
                limit=rule.max_links,
                links=links,
            )
    return length


def check_item(
    network: Network, text: str, media_count: int, *, max_chars: int | None = None
) -> int:
    """Check one post item: it needs text or media, and its text must fit (`check_text`).

    Empty or blank text is fine when media is attached. Returns the counted length of the text.
    The attachments themselves are checked by `check_media`.
    """
    network = Network(network)
    if media_count < 0:
        raise ValueError(f"media_count cannot be negative, got {media_count}")
    if media_count == 0 and MEDIA_LIMITS[network].requires_media:
        raise InvalidInput(
            f"a post on {network} needs at least one image or video",
            network=network,
        )
    if media_count == 0 and _is_blank(text):
        raise InvalidInput(
            "a post needs text or media: the text is empty and nothing is attached",
            network=network,
        )
    return check_text(network, text, max_chars=max_chars)


def _is_blank(text: str) -> bool:
    # Zero-width characters are invisible too: a "text" of only those would post as nothing.
    return _BLANK_RE.fullmatch(text) is not None


# --- Media limits --------------------------------------------------------------------------


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    # A GIF is its own kind only where the network treats it apart (X: one GIF, alone, 15 MB);
    # elsewhere it is an image.
    GIF = "gif"


@dataclass(frozen=True, slots=True)
class KindLimit:
    """What a network takes of one kind of media in one post."""

    # Exact MIME types, or "image/*" / "video/*" for any of that family.
    mime_types: frozenset[str]
    max_count: int | None
    max_bytes: int | None


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """What a network takes as attachments to one post. None means no documented limit."""

    max_items: int | None
    image: KindLimit | None
    video: KindLimit | None
    gif: KindLimit | None = None
    # Kinds that must be the post's only attachment.
    alone: frozenset[MediaKind] = frozenset()
    # Instagram has no text-only posts.
    requires_media: bool = False


_MB: Final = 1000 * 1000
_GB: Final = 1000 * 1000 * 1000
_MIB: Final = 1024 * 1024

_JPEG, _PNG, _GIF, _WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
_HEIC, _HEIF, _AVIF, _BMP, _TIFF = (
    "image/heic",
    "image/heif",
    "image/avif",
    "image/bmp",
    "image/tiff",
)
_MP4, _MOV, _WEBM, _OGV = "video/mp4", "video/quicktime", "video/webm", "video/ogg"

MEDIA_LIMITS: Final[Mapping[Network, MediaLimits]] = MappingProxyType(
    {
        # docs.joinmastodon.org/user/posting/#media and Mastodon's source: Status
        # MEDIA_ATTACHMENTS_LIMIT 4; MediaAttachment IMAGE_LIMIT 16 MiB, VIDEO_LIMIT 99 MiB
        # (Rails megabytes) and its IMAGE/VIDEO_MIME_TYPES (video: mp4, ogg, quicktime, webm;
        # not x-m4v, which Mastodon answers with 422); PostStatusService refuses a video
        # or audio next to any other attachment. GIFs are images (Mastodon turns them into
        # silent looping video). Instances report their own values in GET /api/v2/instance.
        Network.MASTODON: MediaLimits(
            max_items=4,
            image=KindLimit(
                frozenset({_JPEG, _PNG, _GIF, _WEBP, _HEIC, _HEIF, _AVIF}), 4, 16 * _MIB
            ),
            video=KindLimit(frozenset({_MP4, _MOV, _WEBM, _OGV}), 1, 99 * _MIB),
            alone=frozenset({MediaKind.VIDEO}),
        ),
        # Lexicons app.bsky.embed.images (at most 4 images, accept image/*),
        # app.bsky.embed.video (one video/mp4) and app.bsky.feed.post (embed is images *or*
        # video). Blob sizes were raised in 2026: images to 2,000,000 bytes (bsky-docs #413/
        # #414), video to 300,000,000 (atproto PR #5373). We take the common raster formats
        # of image/*; a GIF is posted as a still image.
        Network.BLUESKY: MediaLimits(
            max_items=4,
            image=KindLimit(frozenset({_JPEG, _PNG, _WEBP, _GIF}), 4, 2 * _MB),
            video=KindLimit(frozenset({_MP4}), 1, 300 * _MB),
            alone=frozenset({MediaKind.VIDEO}),
        ),
        # developers.facebook.com/documentation/threads/posts: carousels of up to 20 images
        # and videos, mixed; image JPEG or PNG up to 8 MB; video MOV or MP4 up to 1 GB.
        Network.THREADS: MediaLimits(
            max_items=20,
            image=KindLimit(frozenset({_JPEG, _PNG}), 20, 8 * _MB),
            video=KindLimit(frozenset({_MP4, _MOV}), 20, 1 * _GB),
        ),
        # docs.x.com/x-api/media/quickstart/best-practices ("up to 4 photos, 1 animated GIF
        # or 1 video in a Post") and docs.x.com/x-api/media (image 5 MB, GIF 15 MB, video
        # 512 MB). Taken as decimal megabytes, the stricter reading, so a file we pass X
        # takes. (Best practices allow longer, larger videos; 512 MB is what every tier takes.)
        Network.X: MediaLimits(
            max_items=4,
            image=KindLimit(frozenset({_JPEG, _PNG, _WEBP}), 4, 5 * _MB),
            video=KindLimit(frozenset({_MP4, _MOV}), 1, 512 * _MB),
            gif=KindLimit(frozenset({_GIF}), 1, 15 * _MB),
            alone=frozenset({MediaKind.VIDEO, MediaKind.GIF}),
        ),
        # learn.microsoft.com/linkedin/marketing/community-management/shares/: multiimage-
        # post-api (2 to 20 images), images-api (JPG, GIF, PNG; no byte limit documented),
        # videos-api (MP4, 75 KB to 500 MB); a post carries images or one video, not both.
        Network.LINKEDIN: MediaLimits(
            max_items=20,
            image=KindLimit(frozenset({_JPEG, _PNG, _GIF}), 20, None),
            video=KindLimit(frozenset({_MP4}), 1, 500 * _MB),
            alone=frozenset({MediaKind.VIDEO}),
        ),
        # developers.facebook.com/docs/graph-api/photo-uploads (JPEG, BMP, PNG, GIF, TIFF;
        # "we recommend uploading photos under 4MB" -- advice, so not enforced) and
        # .../reference/page/photos (multi-photo posts attach photos only, so a video is
        # alone). Meta documents no cap on photos per post and no video size we can enforce.
        Network.FACEBOOK: MediaLimits(
            max_items=None,
            image=KindLimit(frozenset({_JPEG, _BMP, _PNG, _GIF, _TIFF}), None, None),
            video=KindLimit(frozenset({_MP4, _MOV}), 1, None),
            alone=frozenset({MediaKind.VIDEO}),
        ),
        # developers.facebook.com/docs/instagram-platform/content-publishing: carousels of
        # up to 10 images and videos; JPEG is the only image format; IG User media reference:
        # images up to 8 MB, videos (reels) MOV or MP4 up to 300 MB. No text-only posts.
        Network.INSTAGRAM: MediaLimits(
            max_items=10,
            image=KindLimit(frozenset({_JPEG}), 10, 8 * _MB),
            video=KindLimit(frozenset({_MP4, _MOV}), 10, 300 * _MB),
            requires_media=True,
        ),
        # Ours: any image or video, four per post, mixed, any size.
        Network.SANDBOX: MediaLimits(
            max_items=4,
            image=KindLimit(frozenset({"image/*"}), 4, None),
            video=KindLimit(frozenset({"video/*"}), 4, None),
        ),
    }
)

# Names browsers and phones send for types that have a registered one.
_MIME_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"image/jpg": _JPEG, "image/pjpeg": _JPEG, "video/mov": _MOV}
)


def media_kind(network: Network, content_type: str) -> MediaKind | None:
    """What ``network`` would take an attachment of ``content_type`` as, or None if it won't."""
    limits = MEDIA_LIMITS[Network(network)]
    mime = _normalise_mime(content_type)
    kind, rule = _kind_and_rule(limits, mime)
    if kind is None or rule is None or not _accepts(rule, mime):
        return None
    return kind


def check_media(network: Network, media: Sequence[tuple[str, int]]) -> None:
    """Raise `InvalidInput` unless ``network`` takes these attachments in one post.

    ``media`` holds each attachment's (content type, size in bytes), in post order.
    """
    network = Network(network)
    limits = MEDIA_LIMITS[network]
    if limits.max_items is not None and len(media) > limits.max_items:
        raise InvalidInput(
            f"{len(media)} attachments is too many for {network}, which takes at most "
            f"{limits.max_items} per post — remove {len(media) - limits.max_items}",
            network=network,
            limit=limits.max_items,
            count=len(media),
        )
    kinds: Counter[MediaKind] = Counter()
    for position, (content_type, size) in enumerate(media, start=1):
        mime = _normalise_mime(content_type)
        kind, rule = _kind_and_rule(limits, mime)
        if kind is None or rule is None or not _accepts(rule, mime):
            raise InvalidInput(
                f"attachment {position} is {content_type or 'of no stated type'}, which "
                f"{network} does not take; it takes {_describe_accepted(limits)}",
                network=network,
                attachment=position,
                content_type=content_type,
            )
        if size <= 0:
            raise InvalidInput(
                f"attachment {position} ({mime}) is empty",
                network=network,
                attachment=position,
            )
        if rule.max_bytes is not None and size > rule.max_bytes:
            size_text, limit_text = _format_size(size, rule.max_bytes), _format_size(rule.max_bytes)
            if size_text == limit_text:  # over by less than the rounding: show the bytes
                size_text, limit_text = f"{size:,} bytes", f"{rule.max_bytes:,} bytes"
            raise InvalidInput(
                f"attachment {position} ({mime}) is {size_text}; "
                f"{network} takes {_plural(kind)} up to {limit_text}",
                network=network,
                attachment=position,
                limit=rule.max_bytes,
                size=size,
            )
        kinds[kind] += 1
    for kind, count in kinds.items():
        rule = _rule(limits, kind)
        if rule is not None and rule.max_count is not None and count > rule.max_count:
            raise InvalidInput(
                f"{network} takes at most {rule.max_count} "
                f"{_plural(kind) if rule.max_count != 1 else _singular(kind)} per post; "
                f"this one has {count}",
                network=network,
                kind=kind,
                limit=rule.max_count,
                count=count,
            )
    for kind in kinds:
        if kind in limits.alone and len(media) > 1:
            raise InvalidInput(
                f"{network} does not take a {_singular(kind)} together with other attachments, "
                f"and this post has {len(media)} — post the {_singular(kind)} on its own",
                network=network,
                kind=kind,
                count=len(media),
            )


def _normalise_mime(content_type: str) -> str:
    mime = content_type.split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(mime, mime)


def _kind_and_rule(limits: MediaLimits, mime: str) -> tuple[MediaKind | None, KindLimit | None]:
    if mime == _GIF and limits.gif is not None:
        return MediaKind.GIF, limits.gif
    if mime.startswith("image/"):
        return MediaKind.IMAGE, limits.image
    if mime.startswith("video/"):
        return MediaKind.VIDEO, limits.video
    return None, None


def _rule(limits: MediaLimits, kind: MediaKind) -> KindLimit | None:
    if kind is MediaKind.IMAGE:
        return limits.image
    if kind is MediaKind.VIDEO:
        return limits.video
    return limits.gif


def _accepts(rule: KindLimit, mime: str) -> bool:
    return mime in rule.mime_types or mime.split("/", 1)[0] + "/*" in rule.mime_types


def _describe_accepted(limits: MediaLimits) -> str:
    types: set[str] = set()
    for rule in (limits.image, limits.video, limits.gif):
        if rule is not None:
            types |= rule.mime_types
    return ", ".join(sorted(types))


def _singular(kind: MediaKind) -> str:
    return "GIF" if kind is MediaKind.GIF else kind.value


def _plural(kind: MediaKind) -> str:
    return _singular(kind) + "s"


def _format_size(size: int, like: int | None = None) -> str:
    """``size`` in the unit the network documents the limit ``like`` in: MiB, GB, MB or bytes."""
    scale = like if like is not None else size
    for unit, name in ((_MIB, "MiB"), (_GB, "GB"), (_MB, "MB")):
        if scale % unit == 0 and scale >= unit:
            value = f"{size / unit:.1f}".removesuffix(".0")
            return f"{value} {name}"
    return f"{size} bytes"


# --- X's weights ---------------------------------------------------------------------------
# twitter-text config/v3.json, with every weight divided by its scale of 100: code points in
# these ranges weigh 1, all others 2 (defaultWeight 200), a URL 23 (transformedURLLength), an
# emoji sequence 2 in all (emojiParsingEnabled: it weighs the default weight once).
_X_WEIGHT_ONE_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_DEFAULT_WEIGHT: Final = 2
_X_URL_LENGTH: Final = 23


def _x_code_point_weight(code_point: int) -> int:
    for start, end in _X_WEIGHT_ONE_RANGES:
        if start <= code_point <= end:
            return 1
    return _X_DEFAULT_WEIGHT


# --- Compiled patterns ---------------------------------------------------------------------

_GRAPHEME_RE: Final = regex.compile(r"\X")
_BLANK_RE: Final = regex.compile(r"[\s\u200B-\u200D\u2060\uFEFF]*")

# Emoji as twemoji-parser (which twitter-text uses) finds them: a whole sequence is one emoji.
# A symbol that is text by default (©, ♟) is an emoji only with VS16 (U+FE0F) after it.
_EMOJI_ELEMENT: Final = (
    r"[\p{Extended_Pictographic}\p{Emoji_Presentation}][\p{Emoji_Modifier}\uFE0F]?"
)
_EMOJI_RE: Final = regex.compile(
    r"\p{Regional_Indicator}{2}"  # a flag
    r"|[#*0-9]\uFE0F?\u20E3"  # a keycap
    r"|\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F"  # a subdivision flag, spelled in tags
    rf"|{_EMOJI_ELEMENT}(?:\u200D{_EMOJI_ELEMENT})+"  # a ZWJ sequence
    r"|\p{Emoji_Modifier_Base}\p{Emoji_Modifier}"  # a skin tone
    r"|\p{Extended_Pictographic}\uFE0F"  # a symbol asked for as emoji
    r"|\p{Emoji_Presentation}"  # emoji by default
)
