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
"""

from __future__ import annotations

import string
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import regex

from onthedot.errors import InvalidInput, TextTooLong
from onthedot.networks import Network

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
    "text_limit",
    "threads_length",
    "x_weighted_length",
]


# --- Counters ------------------------------------------------------------------------------
# Each counter is a pure function of the text. The patterns they use are compiled once, at the
# bottom of this module, after the data (top-level domains) some are built from.


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
    url_ends = dict(_url_spans(text))
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
        (start, end, _MASTODON_URL_PLACEHOLDER)
        for start, end in _url_spans(text, require_protocol=True)
    ]
    for match in _MASTODON_MENTION_RE.finditer(text):
        if _MASTODON_MENTION_END_RE.match(text, match.end()):
            # Mastodon drops a mention followed by another @, an accented letter or "://": it is
            # an e-mail address or a URL, not a mention.
            continue
        entities.append((match.start(), match.end(), "@" + match.group("username")))
    countable: list[str] = []
    position = 0
    for start, end, replacement in _without_overlaps(entities):
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
        links = len({text[start:end] for start, end in _url_spans(text)})
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
_MP4, _MOV, _WEBM, _M4V = "video/mp4", "video/quicktime", "video/webm", "video/x-m4v"

MEDIA_LIMITS: Final[Mapping[Network, MediaLimits]] = MappingProxyType(
    {
        # docs.joinmastodon.org/user/posting/#media and Mastodon's source: Status
        # MEDIA_ATTACHMENTS_LIMIT 4; MediaAttachment IMAGE_LIMIT 16 MiB, VIDEO_LIMIT 99 MiB
        # (Rails megabytes) and its IMAGE/VIDEO_MIME_TYPES; PostStatusService refuses a video
        # or audio next to any other attachment. GIFs are images (Mastodon turns them into
        # silent looping video). Instances report their own values in GET /api/v2/instance.
        Network.MASTODON: MediaLimits(
            max_items=4,
            image=KindLimit(
                frozenset({_JPEG, _PNG, _GIF, _WEBP, _HEIC, _HEIF, _AVIF}), 4, 16 * _MIB
            ),
            video=KindLimit(frozenset({_MP4, _MOV, _WEBM, _M4V}), 1, 99 * _MIB),
            alone=frozenset({MediaKind.VIDEO}),
        ),
        # Lexicons app.bsky.embed.images (at most 4 images, blob maxSize 1,000,000 bytes,
        # accept image/*), app.bsky.embed.video (one video/mp4 blob, maxSize 100,000,000) and
        # app.bsky.feed.post (embed is images *or* video). We take the common raster formats
        # of image/*; a GIF is posted as a still image.
        Network.BLUESKY: MediaLimits(
            max_items=4,
            image=KindLimit(frozenset({_JPEG, _PNG, _WEBP, _GIF}), 4, 1 * _MB),
            video=KindLimit(frozenset({_MP4}), 1, 100 * _MB),
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
        # 512 MB; X's upload errors give the limits in bytes, as MiB).
        Network.X: MediaLimits(
            max_items=4,
            image=KindLimit(frozenset({_JPEG, _PNG, _WEBP}), 4, 5 * _MIB),
            video=KindLimit(frozenset({_MP4, _MOV}), 1, 512 * _MIB),
            gif=KindLimit(frozenset({_GIF}), 1, 15 * _MIB),
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


# --- Mastodon's entities -------------------------------------------------------------------
# app/validators/status_length_validator.rb replaces every URL with 23 "x" and every mention
# with "@" + its username; the mention pattern is Account::MENTION_RE and the follow-up check
# twitter-text's end_mention_match, as Mastodon's app/lib/extractor.rb applies them.
_MASTODON_URL_PLACEHOLDER: Final = "x" * 23
_WORD: Final = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Ruby's [[:word:]]


def _without_overlaps(
    entities: list[tuple[int, int, str]],
) -> list[tuple[int, int, str]]:
    # As twitter-text's remove_overlapping_entities: by start, drop what overlaps the last kept.
    kept: list[tuple[int, int, str]] = []
    for entity in sorted(entities, key=lambda item: item[0]):
        if not kept or entity[0] >= kept[-1][1]:
            kept.append(entity)
    return kept


# --- URLs as twitter-text finds them ---------------------------------------------------------
# X, Mastodon and the Threads link count need to know where a text's links are, and X and
# Mastodon decide it with twitter-text's rules (conformance/extract.yml and validate.yml):
#
# - a URL starts after the text's start or a character that is not a letter, digit, @, $ or #;
# - it may start with http:// or https://; its host is labels joined by dots, each starting and
#   ending with a domain character (anything but punctuation, spaces and a few invisibles) with
#   "-" -- and, before the domain's own label, "_" -- inside; the host ends in a top-level
#   domain (IANA's list, below) that no letter, digit, @, + or - follows;
# - every label, punycode-encoded, must be 1 to 63 characters long, and the URL at most 4096;
# - without a protocol only the ASCII (and accented Latin) labels count, the URL may not follow
#   "-", "_", "." or "/", and a host of one label under a country code ("foo.jp") needs a path
#   unless the country code is .co or .tv;
# - a path stops before trailing punctuation; a t.co link keeps only its alphanumeric slug.
#
# twitter-text applies these with one regular expression, which backtracks: on long text
# without spaces (Japanese written with ASCII full stops, say) it takes seconds. The host is
# therefore matched here by a scanner that reaches the same greedy result in linear time --
# the longest run of labels that still ends in a top-level domain -- and only the parts that
# cannot backtrack far (protocol, port, path, query) are left to regular expressions.

_LATIN_ACCENTS: Final = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
# twitter-text's punctuation, spaces and invalid characters, none of which a label contains
# (except "_" and "-", which may join a label's parts).
_PUNCTUATION: Final = "!'#%&()*+,\\-./:;<=>?@[]^_{|}~$"
_SPACE_CHARACTERS: Final = "\t\n\v\f\r \x85\xa0\u1680\u180e" + "".join(
    map(chr, [*range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
)
_INVALID_CHARACTERS: Final = "\ufffe\ufeff\uffff\u202a\u202b\u202c\u202d\u202e"
_NOT_DOMAIN_CHARACTERS: Final = frozenset(_PUNCTUATION + _SPACE_CHARACTERS + _INVALID_CHARACTERS)
_NOT_BEFORE_URL: Final = frozenset("@＠$#＃" + _INVALID_CHARACTERS)
# No top-level domain may be followed by one of these (so "example.comm" has none).
_TLD_STOP_CHARACTERS: Final = frozenset("@+-" + string.digits + string.ascii_letters)
_PATH_CHAR: Final = rf"[a-z\u0400-\u04FF0-9!*';:=+,.$/%\#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_BALANCED_PARENS: Final = (  # up to one level nested: /wiki/Primer_(film)
    rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
)
_PATH_END: Final = rf"(?:[+\-a-z\u0400-\u04FF0-9=_\#/{_LATIN_ACCENTS}]|{_BALANCED_PARENS})"
_PATH_PART: Final = (
    rf"(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END}|@{_PATH_CHAR}+/)"
)
_QUERY: Final = r"\?[a-z0-9!?*'@();:&=+$/%\#\[\]\-_.,~|]*[a-z0-9\-_&=\#/]"
_SPECIAL_COUNTRY_TLDS: Final = frozenset({"co", "tv"})
_MAX_URL_LENGTH: Final = 4096
_MAX_LABEL_LENGTH: Final = 63
_MAX_TCO_SLUG_LENGTH: Final = 40


@dataclass(frozen=True, slots=True)
class _UrlMatch:
    """What twitter-text's URL pattern matched: the URL, and the parts its rules look at."""

    start: int
    end: int
    before: str
    protocol: str
    domain_start: int
    domain_end: int
    path: str


def _url_spans(text: str, *, require_protocol: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each URL in ``text``, in order, by twitter-text's rules (see above)."""
    if "." not in text:
        return []
    spans: list[tuple[int, int]] = []
    for match in _url_matches(text):
        url = text[match.start : match.end]
        domain = text[match.domain_start : match.domain_end]
        if not _host_is_valid(url, match.protocol or "https://", domain):
            continue
        if match.protocol:
            tco = _TCO_RE.match(url)
            if tco is None:
                spans.append((match.start, match.end))
            elif len(tco.group(1)) <= _MAX_TCO_SLUG_LENGTH:
                spans.append((match.start, match.start + tco.end()))
            continue
        if require_protocol or match.before in ("-", "_", ".", "/"):
            continue
        ascii_domains = _ascii_domains(domain)
        for start, end in ascii_domains:
            ascii_domain = domain[start:end]
            if (
                match.path
                or _is_short_country_domain(ascii_domain, _SPECIAL_COUNTRY_TLDS)
                or not _is_short_country_domain(ascii_domain, _COUNTRY_TLDS)
            ):
                spans.append((match.domain_start + start, match.domain_start + end))
        if ascii_domains and match.path:
            # The path, and whatever follows the host, belong to the last ASCII host.
            spans[-1] = (spans[-1][0], match.end)
    return spans


def _url_matches(text: str) -> Iterator[_UrlMatch]:
    """Every match of twitter-text's URL pattern, left to right, as a regex search finds them."""
    hosts = _HostScanner(text)
    position = 0
    while position < len(text):
        found = hosts.match_at(position)
        if found is None:
            position += 1
            continue
        before, start, protocol_end, domain_end = found
        tail = _URL_TAIL_RE.match(text, domain_end)
        assert tail is not None  # every part of the tail is optional
        yield _UrlMatch(
            start=start,
            end=tail.end(),
            before=before,
            protocol=text[start:protocol_end],
            domain_start=protocol_end,
            domain_end=domain_end,
            path=tail.group("path") or "",
        )
        position = tail.end()


class _HostScanner:
    """Matches the host part of twitter-text's URL pattern at any position of one text.

    A host is labels and dots ending in a top-level domain; twitter-text's pattern takes as many
    leading labels as still let it end in one. Whether the labels from a given label on can
    end in a top-level domain depends only on the labels after it, so that answer is computed
    once per label, from the right, and every start position reuses it.
    """

    __slots__ = ("_label_end", "_last_underscore", "_results", "_run_starts", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        # Runs of label characters, by where they start: where each ends, and where its last
        # "_" is (a "_" may not be in the domain's own label).
        self._run_starts: list[int] = []
        self._label_end: dict[int, int] = {}
        self._last_underscore: dict[int, int] = {}
        self._results: dict[int, int] = {}
        for run in _LABEL_RUN_RE.finditer(text):
            start, end = run.span()
            self._run_starts.append(start)
            self._label_end[start] = end
            self._last_underscore[start] = text.rfind("_", start, end)

    def match_at(self, position: int) -> tuple[str, int, int, int] | None:
        """(before, URL start, host start, host end) for a match at ``position``, if any."""
        text = self._text
        candidates: list[tuple[str, int]] = []
        if position == 0:
            candidates.append(("", 0))
        before = text[position]
        if not (before.isascii() and before.isalnum()) and before not in _NOT_BEFORE_URL:
            candidates.append((before, position + 1))
        for before, start in candidates:
            protocol = _PROTOCOL_RE.match(text, start)
            if protocol is not None:
                end = self.host_end(protocol.end())
                if end >= 0:
                    return before, start, protocol.end(), end
            end = self.host_end(start)
            if end >= 0:
                return before, start, start, end
        return None

    def host_end(self, start: int) -> int:
        """Where a host starting at ``start`` ends, or -1 if none starts there."""
        text = self._text
        if start >= len(text) or text[start] in _NOT_DOMAIN_CHARACTERS:
            return -1
        # A domain character is a label character, so ``start`` is inside a run.
        run_start = self._run_starts[bisect_right(self._run_starts, start) - 1]
        return self._host_end(start, run_start)

    def _host_end(self, start: int, run_start: int) -> int:
        """The host from ``start``, whose first label is in the run that starts at run_start."""
        if start == run_start and start in self._results:
            return self._results[start]
        text = self._text
        end = self._label_end[run_start]
        result = -1
        if text[end - 1] not in _NOT_DOMAIN_CHARACTERS and end < len(text) and text[end] == ".":
            following = end + 1
            # As many labels as possible first: this one, then the best host from the next.
            if following in self._label_end and text[following] not in _NOT_DOMAIN_CHARACTERS:
                result = self._chain_end(following)
            # Else this label is the domain's own: no "_" in it, and a top-level domain after.
            if result < 0 and self._last_underscore[run_start] < start:
                result = _tld_end(text, following)
        if start == run_start:
            self._results[start] = result
        return result

    def _chain_end(self, run_start: int) -> int:
        # _host_end for a run start, computed for the whole chain of labels after it from the
        # right, so that a chain of thousands of labels needs neither recursion nor rescanning.
        text = self._text
        chain = [run_start]
        while chain[-1] not in self._results:
            end = self._label_end[chain[-1]]
            following = end + 1
            if not (
                text[end - 1] not in _NOT_DOMAIN_CHARACTERS
                and end < len(text)
                and text[end] == "."
                and following in self._label_end
                and text[following] not in _NOT_DOMAIN_CHARACTERS
            ):
                break
            chain.append(following)
        for label in reversed(chain):
            if label not in self._results:
                self._host_end(label, label)
        return self._results[run_start]


def _tld_end(text: str, start: int) -> int:
    """Where a top-level domain starting at ``start`` ends (the longest that fits), or -1."""
    chunk = text[start : start + _LONGEST_TLD]
    # Lower-case without changing length, so that positions in ``chunk`` stay positions in text.
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in chunk)
    for length in range(len(lowered), 0, -1):
        if lowered[:length] in _TLDS:
            after = start + length
            if after == len(text) or text[after] not in _TLD_STOP_CHARACTERS:
                return after
    punycode = _PUNYCODE_TLD_RE.match(text, start)
    return punycode.end() if punycode is not None else -1


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """Spans of twitter-text's "ASCII domains" in ``domain``: runs of ASCII or accented-Latin
    labels ending in a top-level domain, found left to right as its regex would find them."""
    runs = [run.span() for run in _ASCII_LABEL_RUN_RE.finditer(domain)]
    index_of = {start: index for index, (start, _) in enumerate(runs)}
    best = [-1] * len(runs)
    for index in range(len(runs) - 1, -1, -1):
        end = runs[index][1]
        if end < len(domain) and domain[end] == ".":
            following = index_of.get(end + 1)
            if following is not None and best[following] >= 0:
                best[index] = best[following]
            else:
                best[index] = _tld_end(domain, end + 1)
    found: list[tuple[int, int]] = []
    position = 0
    for index, (start, end) in enumerate(runs):
        if end <= position or best[index] < 0:
            continue
        found.append((max(start, position), best[index]))
        position = best[index]
    return found


def _is_short_country_domain(domain: str, tlds: frozenset[str]) -> bool:
    # One label, a dot, and a country code: "foo.jp".
    label, dot, tld = domain.partition(".")
    return (
        bool(dot)
        and "." not in tld
        and tld.lower() in tlds
        and bool(label)
        and label[0] not in _NOT_DOMAIN_CHARACTERS
        and label[-1] not in _NOT_DOMAIN_CHARACTERS
        and all(c == "-" or c not in _NOT_DOMAIN_CHARACTERS for c in label)
    )


def _host_is_valid(url: str, protocol: str, domain: str) -> bool:
    if domain.startswith("xn--") and not _ascii_domains(domain):
        return False
    for label in domain.split("."):
        encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        if not 1 <= len(encoded) <= _MAX_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= _MAX_URL_LENGTH


# --- Top-level domains ---------------------------------------------------------------------
# IANA's list (data.iana.org/TLD/tlds-alpha-by-domain.txt, version 2026111700), internationalised
# domains written in Unicode because that is how posts spell them, split the way twitter-text
# splits its own snapshot of the list (conformance/tld_lib.yml): country codes -- two letters, or
# an internationalised ccTLD as the Public Suffix List's ICANN section has them -- and the rest.
_COUNTRY_TLDS: Final = frozenset(
    """
        ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
        br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk
        dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq
        gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh
        ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn
        mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg
        ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn
        so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us
        uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw ελ ευ бг бел ею мкд мон рф срб укр қаз
        հայ ישראל الاردن البحرين الجزائر السعودية المغرب امارات ایران بارت بھارت تونس سودان
        سورية عراق عمان فلسطين قطر مصر مليسيا موريتانيا پاکستان ڀارت भारत भारतम् भारोत বাংলা
        ভারত ভাৰত ਭਾਰਤ ભારત ଭାରତ இந்தியா இலங்கை சிங்கப்பூர் భారత్ ಭಾರತ ഭാരതം ලංකා ไทย ລາວ გე
        中国 中國 台湾 台灣 新加坡 澳門 香港 한국
    """.split()  # noqa: SIM905 -- a word per domain reads better than 1,400 quoted strings
)
_GENERIC_TLDS: Final = frozenset(
    """
        aaa aarp abb abbott abbvie abc able abogado abudhabi academy accenture accountant
        accountants aco actor ads adult aeg aero aetna afl africa agakhan agency aig airbus
        airforce airtel akdn alibaba alipay allfinanz allstate ally alsace alstom amazon
        americanexpress americanfamily amex amfam amica amsterdam analytics android anquan anz
        aol apartments app apple aquarelle arab aramco archi army arpa art arte asda asia
        associates athleta attorney auction audi audible audio auspost author auto autos aws axa
        azure baby baidu banamex band bank bar barcelona barclaycard barclays barefoot bargains
        baseball basketball bauhaus bayern bbc bbt bbva bcg bcn beats beauty beer berlin best
        bestbuy bet bharti bible bid bike bing bingo bio biz black blackfriday blockbuster blog
        bloomberg blue bms bmw bnpparibas boats boehringer bofa bom bond boo book booking bosch
        bostik boston bot boutique box bradesco bridgestone broadway broker brother brussels
        build builders business buy buzz bzh cab cafe cal call calvinklein cam camera camp canon
        capetown capital capitalone car caravan cards care career careers cars casa case cash
        casino cat catering catholic cba cbn cbre center ceo cern cfa cfd chanel channel charity
        chase chat cheap chintai christmas chrome church cipriani circle cisco citadel citi
        citic city claims cleaning click clinic clinique clothing cloud club clubmed coach codes
        coffee college cologne com commbank community company compare computer comsec condos
        construction consulting contact contractors cooking cool coop corsica country coupon
        coupons courses cpa credit creditcard creditunion cricket crown crs cruise cruises
        cuisinella cymru cyou dad dance data date dating datsun day dclk dds deal dealer deals
        degree delivery dell deloitte delta democrat dental dentist desi design dev dhl diamonds
        diet digital direct directory discount discover dish diy dnp docs doctor dog domains dot
        download drive dtv dubai dupont durban dvag dvr earth eat eco edeka edu education email
        emerck energy engineer engineering enterprises epson equipment ericsson erni esq estate
        eurovision eus events exchange expert exposed express extraspace fage fail fairwinds
        faith family fan fans farm farmers fashion fast fedex feedback ferrari ferrero fidelity
        fido film final finance financial fire firestone firmdale fish fishing fit fitness
        flickr flights flir florist flowers fly foo food football ford forex forsale forum
        foundation fox free fresenius frl frogans frontier ftr fujitsu fun fund furniture futbol
        fyi gal gallery gallo gallup game games gap garden gay gbiz gdn gea gent genting george
        ggee gift gifts gives giving glass gle global globo gmail gmbh gmo gmx godaddy gold
        goldpoint golf goodyear goog google gop got gov grainger graphics gratis green gripe
        grocery group gucci guge guide guitars guru hair hamburg hangout haus hbo hdfc hdfcbank
        health healthcare help here hermes hiphop hisamitsu hitachi hiv hkt hockey holdings
        holiday homedepot homegoods homes homesense honda horse hospital host hosting hot hotels
        hotmail house how hsbc hughes hyatt hyundai ibm icbc ice icu ieee ifm ikano imamat imdb
        immo immobilien inc industries infiniti info ing ink institute insurance insure int
        international intuit investments ipiranga irish ismaili ist istanbul itau itv jaguar
        java jcb jeep jetzt jewelry jio jll jmp jnj jobs joburg jot joy jpmorgan jprs juegos
        kaufen kddi kerryhotels kerryproperties kfh kia kids kim kindle kitchen kiwi koeln
        komatsu kosher kpmg kpn krd kred kuokgroup kyoto lacaixa lamborghini lamer land
        landrover lanxess lasalle lat latino latrobe law lawyer lds lease leclerc lefrak legal
        lego lexus lgbt lidl life lifeinsurance lifestyle lighting like lilly limited limo
        lincoln link live living llc llp loan loans locker locus lol london lotte lotto love lpl
        lplfinancial ltd ltda lundbeck luxe luxury madrid maif maison makeup man management
        mango map market marketing markets marriott marshalls mattel mba mckinsey med media meet
        melbourne meme memorial men menu merck merckmsd miami microsoft mil mini mint mit
        mitsubishi mlb mls mma mobi mobile moda moe moi mom monash money monster mormon mortgage
        moscow moto motorcycles mov movie msd mtn mtr museum music nab nagoya name navy nba nec
        net netbank netflix network neustar new news next nextdirect nexus nfl ngo nhk nico nike
        nikon ninja nissan nissay nokia norton now nowruz nowtv nra nrw ntt nyc obi observer
        office okinawa olayan olayangroup ollo omega one ong onl online ooo open oracle orange
        org organic origins osaka otsuka ott ovh page panasonic paris pars partners parts party
        pay pccw pet pfizer pharmacy phd philips phone photo photography photos physio pics
        pictet pictures pid pin ping pink pioneer pizza place play playstation plumbing plus pnc
        pohl poker politie porn post praxi press prime pro prod productions prof progressive
        promo properties property protection pru prudential pub pwc qpon quebec quest racing
        radio read realestate realtor realty recipes red redumbrella rehab reise reisen reit
        reliance ren rent rentals repair report republican rest restaurant review reviews
        rexroth rich richardli ricoh ril rio rip rocks rodeo rogers room rsvp rugby ruhr run rwe
        ryukyu saarland safe safety sakura sale salon samsclub samsung sandvik sandvikcoromant
        sanofi sap sarl sas save saxo sbi sbs scb schaeffler schmidt scholarships school schule
        schwarz science scot search seat secure security seek select sener services seven sew
        sex sexy sfr shangrila sharp shell shia shiksha shoes shop shopping shouji show silk
        sina singles site ski skin sky skype sling smart smile sncf soccer social softbank
        software sohu solar solutions song sony soy spa space sport spot srl stada staples star
        statebank statefarm stc stcgroup stockholm storage store stream studio study style sucks
        supplies supply support surf surgery suzuki swatch swiss sydney systems tab taipei talk
        taobao target tatamotors tatar tattoo tax taxi tci tdk team tech technology tel temasek
        tennis teva thd theater theatre tiaa tickets tienda tips tires tirol tjmaxx tjx tkmaxx
        tmall today tokyo tools top toray toshiba total tours town toyota toys trade trading
        training travel travelers travelersinsurance trust trv tube tui tunes tushu tvs ubank
        ubs unicom university uno uol ups vacations vana vanguard vegas ventures verisign
        versicherung vet viajes video vig viking villas vin vip virgin visa vision viva vivo
        vlaanderen vodka volvo vote voting voto voyage wales walmart walter wang wanggou watch
        watches weather weatherchannel web webcam weber website wed wedding weibo weir whoswho
        wien wiki williamhill win windows wine winners wme woodside work works world wow wtc wtf
        xbox xerox xihuan xin xxx xyz yachts yahoo yamaxun yandex yodobashi yoga yokohama you
        youtube yun zappos zara zero zip zone zuerich vermögensberater vermögensberatung дети
        католик ком москва онлайн орг рус сайт קום ابوظبي ارامكو العليان بازار بيتك شبكة عرب
        كاثوليك كوم موقع همراه कॉम नेट संगठन คอม みんな アマゾン クラウド グーグル コム ストア
        セール ファッション ポイント 世界 中信 中文网 亚马逊 企业 佛山 信息 健康 八卦 公司 公益
        商城 商店 商标 嘉里 嘉里大酒店 在线 大拿 天主教 娱乐 家電 广东 微博 慈善 我爱你 手机
        招聘 政务 政府 新闻 时尚 書籍 机构 淡马锡 游戏 点看 移动 组织机构 网址 网店 网站 网络
        联通 谷歌 购物 通販 集团 電訊盈科 飞利浦 食品 餐厅 香格里拉 닷넷 닷컴 삼성
    """.split()  # noqa: SIM905 -- a word per domain reads better than 1,400 quoted strings
)


# --- Compiled patterns ---------------------------------------------------------------------

_TLDS: Final = _COUNTRY_TLDS | _GENERIC_TLDS
_LONGEST_TLD: Final = max(map(len, _TLDS))
_NOT_LABEL_CHARACTERS: Final = _NOT_DOMAIN_CHARACTERS - {"_", "-"}

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

_LABEL_RUN_RE: Final = regex.compile(
    "[^" + "".join(f"\\U{ord(c):08X}" for c in sorted(_NOT_LABEL_CHARACTERS)) + "]+"
)
_ASCII_LABEL_RUN_RE: Final = regex.compile(rf"[\-a-z0-9{_LATIN_ACCENTS}]+", regex.IGNORECASE)
_PROTOCOL_RE: Final = regex.compile(r"https?://", regex.IGNORECASE)
_PUNYCODE_TLD_RE: Final = regex.compile(r"xn--[\-0-9a-z]+", regex.IGNORECASE)
_URL_TAIL_RE: Final = regex.compile(
    rf"(?::[0-9]+)?(?P<path>/{_PATH_PART}*)?(?:{_QUERY})?", regex.IGNORECASE
)
_TCO_RE: Final = regex.compile(r"https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)

_MASTODON_MENTION_RE: Final = regex.compile(
    rf"(?<![=/{_WORD}])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)"
    rf"(?:@[{_WORD}.\-]+[{_WORD}]+)?",
    regex.IGNORECASE,
)
_MASTODON_MENTION_END_RE: Final = regex.compile(rf"[@＠{_LATIN_ACCENTS}]|://")
