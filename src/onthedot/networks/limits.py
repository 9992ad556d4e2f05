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
    counts 1 in the Latin and punctuation ranges and 2 elsewhere (CJK, most other scripts).
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
    entities = [(start, end, _MASTODON_URL_PLACEHOLDER) for start, end in _url_spans(text, True)]
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
        # transformedURLLength 23, emojiParsingEnabled; docs.x.com counting-characters.
        Network.X: TextLimit(
            max_chars=280,
            count=x_weighted_length,
            counted_as="weighted: each link 23, each emoji 2, CJK and most non-Latin letters 2",
        ),
        # learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api:
        # commentary up to 3000 characters. LinkedIn does not say how it counts them.
        Network.LINKEDIN: TextLimit(
            max_chars=3000, count=code_point_length, counted_as="counted as code points"
        ),
        # Facebook's long-standing post limit of 63,206 characters; the Graph API reference
        # for /{page-id}/feed documents no other.
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
            raise InvalidInput(
                f"attachment {position} ({mime}) is {_format_size(size, rule.max_bytes)}; "
                f"{network} takes {_plural(kind)} up to {_format_size(rule.max_bytes)}",
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
                f"{_plural(kind) if rule.max_count != 1 else kind.value} per post; "
                f"this one has {count}",
                network=network,
                kind=kind,
                limit=rule.max_count,
                count=count,
            )
    for kind in kinds:
        if kind in limits.alone and len(media) > 1:
            raise InvalidInput(
                f"on {network} a {kind.value} must be the post's only attachment; "
                f"post it on its own, without the other {len(media) - 1}",
                network=network,
                kind=kind,
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


def _plural(kind: MediaKind) -> str:
    return "GIFs" if kind is MediaKind.GIF else kind.value + "s"


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
# X, Mastodon and our Threads link count all need to know where a text's links are, and X and
# Mastodon both decide it with twitter-text's rules (conformance/extract.yml, validate.yml):
#
# - a URL starts after the text's start or a character that is not a letter, digit, @, $ or #;
# - with http:// or https://, or without, it has a host of labels and a known top-level domain
#   (IANA's list, below) that is not followed by a letter, digit, @, + or -;
# - without a protocol only the ASCII (and accented Latin) labels count, a host of one label and
#   a country-code domain ("foo.jp") needs a path unless its domain is .co or .tv, and the URL
#   may not follow "-", "_", "." or "/";
# - every label, punycode-encoded, must be 1 to 63 characters, and the URL at most 4096;
# - a path stops before trailing punctuation; a t.co link keeps only its alphanumeric slug.

_LATIN_ACCENTS: Final = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_PUNCTUATION: Final = r"!'\#%&()*+,\\\-./:;<=>?@\[\]\^_{|}~$"
_SPACES: Final = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID: Final = r"\uFFFE\uFEFF\uFFFF\u202A-\u202E"
_DOMAIN_CHAR: Final = rf"[^{_PUNCTUATION}{_SPACES}{_INVALID}]"
# A label runs to the next dot, so it can be matched possessively; that keeps the pattern
# linear on long runs of text without spaces.
_SUBDOMAIN_LABEL: Final = rf"{_DOMAIN_CHAR}(?:[_\-]*+{_DOMAIN_CHAR})*+"
_DOMAIN_LABEL: Final = rf"{_DOMAIN_CHAR}(?:\-*+{_DOMAIN_CHAR})*+"
_TLD: Final = r"(?:\L<tlds>(?=[^0-9a-z@+\-]|$)|xn--[\-0-9a-z]+)"
_PATH_CHAR: Final = rf"[a-z\u0400-\u04FF0-9!*';:=+,.$/%\#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_BALANCED_PARENS: Final = (
    rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"  # one level nested
)
_PATH_END: Final = rf"(?:[+\-a-z\u0400-\u04FF0-9=_\#/{_LATIN_ACCENTS}]|{_BALANCED_PARENS})"
_PATH_PART: Final = (
    rf"(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_END}|@{_PATH_CHAR}+/)"
)
_QUERY: Final = r"\?[a-z0-9!?*'@();:&=+$/%\#\[\]\-_.,~|]*[a-z0-9\-_&=\#/]"
_URL_PATTERN: Final = rf"""
    (?P<before>^|[^a-z0-9@＠$\#＃{_INVALID}])
    (?P<url>
        (?P<protocol>https?://)?
        (?P<domain>(?:{_SUBDOMAIN_LABEL}\.)*{_DOMAIN_LABEL}\.{_TLD})
        (?::[0-9]+)?
        (?P<path>/{_PATH_PART}*)?
        (?:{_QUERY})?
    )
"""
_ASCII_DOMAIN_PATTERN: Final = rf"(?:[\-a-z0-9{_LATIN_ACCENTS}]+\.)+{_TLD}"
_MAX_URL_LENGTH: Final = 4096
_MAX_LABEL_LENGTH: Final = 63
_MAX_TCO_SLUG_LENGTH: Final = 40


def _url_spans(text: str, require_protocol: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each URL in ``text``, in order, by twitter-text's rules (see above)."""
    if "." not in text:
        return []
    spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(text):
        url, protocol, domain = match.group("url", "protocol", "domain")
        start, end = match.span("url")
        if not _host_is_valid(url, protocol or "https://", domain):
            continue
        if protocol:
            tco = _TCO_RE.match(url)
            if tco is not None:
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                end = start + tco.end()
            spans.append((start, end))
            continue
        if require_protocol or match.group("before") in ("-", "_", ".", "/"):
            continue
        path = match.group("path")
        domain_start = match.start("domain")
        found = False
        for ascii_domain in _ASCII_DOMAIN_RE.finditer(domain):
            found = True
            if (
                path
                or _SPECIAL_SHORT_DOMAIN_RE.fullmatch(ascii_domain.group())
                or not _SHORT_COUNTRY_DOMAIN_RE.fullmatch(ascii_domain.group())
            ):
                spans.append(
                    (domain_start + ascii_domain.start(), domain_start + ascii_domain.end())
                )
        if found and path:
            # The path (and what follows the host) belongs to the last ASCII host.
            spans[-1] = (spans[-1][0], end)
    return spans


def _host_is_valid(url: str, protocol: str, domain: str) -> bool:
    if domain.startswith("xn--") and _ASCII_DOMAIN_RE.search(domain) is None:
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

_URL_RE: Final = regex.compile(
    _URL_PATTERN,
    regex.VERBOSE | regex.IGNORECASE,
    tlds=sorted(_COUNTRY_TLDS | _GENERIC_TLDS),
)
_ASCII_DOMAIN_RE: Final = regex.compile(
    _ASCII_DOMAIN_PATTERN, regex.IGNORECASE, tlds=sorted(_COUNTRY_TLDS | _GENERIC_TLDS)
)
_SHORT_COUNTRY_DOMAIN_RE: Final = regex.compile(
    rf"{_DOMAIN_LABEL}\.\L<cctlds>(?=[^0-9a-z@+\-]|$)",
    regex.IGNORECASE,
    cctlds=sorted(_COUNTRY_TLDS),
)
_SPECIAL_SHORT_DOMAIN_RE: Final = regex.compile(rf"{_DOMAIN_LABEL}\.(?:co|tv)", regex.IGNORECASE)
_TCO_RE: Final = regex.compile(r"https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)

_MASTODON_MENTION_RE: Final = regex.compile(
    rf"(?<![=/{_WORD}])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)"
    rf"(?:@[{_WORD}.\-]+[{_WORD}]+)?",
    regex.IGNORECASE,
)
_MASTODON_MENTION_END_RE: Final = regex.compile(rf"[@＠{_LATIN_ACCENTS}]|://")
