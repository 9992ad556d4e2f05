"""Each network's text and media limits: the counters, the checks and their messages.

Expected X lengths come from twitter-text's conformance suite (conformance/validate.yml,
WeightedTweetsWithDiscountedEmojiCounterTest) and expected links from conformance/extract.yml;
Mastodon's from its StatusLengthValidator; Bluesky's from the app.bsky.feed.post lexicon.
"""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onthedot.errors import InvalidInput, TextTooLong
from onthedot.networks import Network

# _url_spans is private, but twitter-text's extraction cases are the clearest way to pin it.
from onthedot.networks.limits import (
    MEDIA_LIMITS,
    TEXT_LIMITS,
    MediaKind,
    _url_spans,
    check_item,
    check_media,
    check_text,
    code_point_length,
    count_graphemes,
    count_text,
    mastodon_length,
    media_kind,
    text_limit,
    threads_length,
    x_weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, 7 code points
WAVE_MEDIUM = "\U0001f44b\U0001f3fd"  # 👋🏽
FLAG_FR = "\U0001f1eb\U0001f1f7"  # 🇫🇷
FLAG_ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
KEYCAP_ONE = "1\ufe0f\u20e3"  # 1️⃣
E_ACUTE_COMBINING = "e\u0301"  # é as two code points


def links(text: str) -> list[str]:
    return [text[start:end] for start, end in _url_spans(text)]


# --- Network ---------------------------------------------------------------------------------


def test_network_values_are_the_stable_lowercase_names() -> None:
    assert [network.value for network in Network] == [
        "mastodon",
        "bluesky",
        "threads",
        "x",
        "linkedin",
        "facebook",
        "instagram",
        "sandbox",
    ]
    assert Network("bluesky") is Network.BLUESKY
    assert f"{Network.X}" == "x"


def test_every_network_has_text_and_media_limits() -> None:
    assert set(TEXT_LIMITS) == set(Network)
    assert set(MEDIA_LIMITS) == set(Network)


# --- Graphemes (Bluesky) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello world", 11),
        ("日本語のテキスト", 8),
        (FAMILY, 1),
        (WAVE_MEDIUM, 1),
        (FLAG_FR, 1),
        (FLAG_FR * 2, 2),
        (FLAG_ENGLAND, 1),
        (KEYCAP_ONE, 1),
        (E_ACUTE_COMBINING, 1),
        ("a\u0308\u0301b", 2),  # stacked combining marks stay with their base
        ("\r\n", 1),
        ("한국어", 3),
        ("\u1100\u1161\u11a8", 1),  # a Hangul syllable spelled in conjoining jamo
    ],
)
def test_count_graphemes(text: str, expected: int) -> None:
    assert count_graphemes(text) == expected


def test_code_point_length_counts_every_code_point() -> None:
    assert code_point_length(FAMILY) == 7
    assert code_point_length(E_ACUTE_COMBINING) == 2
    assert code_point_length("日本") == 2


# --- X -------------------------------------------------------------------------------------


CHINESE_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
    "朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。"
    "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。"
    "独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。"
)
KANA_10 = "あいうえおかきくけこ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Conformance: WeightedTweetsWithDiscountedEmojiCounterTest.
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
        ("285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299),
        ("xxxxxxxxxx-" * 24 + " http://www.twitter.com/jack ", 289),
        ("https://www.twitter.com/aloha " * 10, 240),
        (CHINESE_160, 320),
        ("\U0001f637" * 160, 320),
        ("the" + CHINESE_160, 323),
        ("A\u0301B", 2),  # NFC makes Á one code point
        ("H\U0001f431\u263a" + FAMILY, 7),
        ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
        ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),  # 🙋🏽👨‍🎤
        (
            "This is a tweet with general punctuation characters: "
            "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b"
            " ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
            110,
        ),
        ("randomurl" * 7 + "s.com", 68),  # a 64-character label is no domain
        # A host of 53 kana is over 63 characters in punycode: no link, so 2 per kana.
        (KANA_10 * 12 + " http://" + KANA_10 * 5 + "あいう.com", 358),
        (KANA_10 * 12 + " http://" + KANA_10 * 5 + "あい.com", 264),
        # Conformance: lengths.
        ("This is a test.", 15),
        ("http://test.com", 23),
        ("https://test.com", 23),
        ("test.com", 23),
        ("Test https://test.com test https://test.com test.com test", 86),
        ("\U00010000\U0010ffff", 4),
        ("저찀쯿쿿", 8),
    ],
)
def test_x_weighted_length_matches_twitter_text_conformance(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("héllo wörld", 11),
        ("Привет", 6),  # Cyrillic is below U+10FF: weight 1
        ("مرحبا", 5),
        ("日本語", 6),
        ("한국어", 6),
        ("\U0001f600", 2),
        (FAMILY, 2),
        (WAVE_MEDIUM, 2),
        (FLAG_FR, 2),
        (FLAG_ENGLAND, 2),
        (KEYCAP_ONE, 2),
        ("\u2764\ufe0f", 2),  # ❤️
        ("\U0001f3f3\ufe0f\u200d\U0001f308", 2),  # 🏳️‍🌈
        ("\u00a9", 1),  # © is text unless VS16 asks for emoji...
        ("\u00a9\ufe0f", 2),  # ...then it is one emoji
        (E_ACUTE_COMBINING, 1),  # NFC composes it
        ("x" * 280, 280),
        # Every URL is 23, however long.
        ("https://example.com/" + "a" * 300, 23),
        ("https://example.com/path. Next", 23 + 6),  # the full stop is not part of the link
        ("See example.com/path", 4 + 23),
        ("See www.example.org", 4 + 23),
        ("See foo.jp", 10),  # a bare one-label ccTLD host is no link...
        ("See foo.jp/x", 4 + 23),  # ...unless it has a path
        ("See vine.co", 4 + 23),  # ...or is .co or .tv
        ("mail me: someone@example.com", 28),  # an e-mail address is no link
        ("$AAPL.com", 9),
        ("https://t.co/abcdef's", 23 + 2),
        ("file.txt and notes.py", 21),
        ("中国語example.com日本語", 6 + 23 + 6),
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("text http://domain.co/path", ["http://domain.co/path"]),
        (
            "foo.baz foo.co.jp www.xxxxxxx.baz www.foo.co.uk wwwww.xxxxxxx foo.comm foo.somecom "
            "foo.govedu foo.jp",
            ["foo.co.jp", "www.foo.co.uk"],
        ),
        ("t.co/abcde bit.ly/abcde", ["t.co/abcde", "bit.ly/abcde"]),
        ("@user Try http:// example.com/path", ["example.com/path"]),
        (
            "これは日本語です。example.com/path/index.html中国語example.com/path한국",
            ["example.com/path/index.html", "example.com/path"],
        ),
        (
            "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국"
            "twitter.comテストexample2.comテストhttp://twitter.com/abcde",
            [
                "http://twitter.com/",
                "example.com",
                "http://t.co/abcde",
                "twitter.com",
                "example2.com",
                "http://twitter.com/abcde",
            ],
        ),
        ("twitter.jp日本語it.so中国語foo.jp it.so foo.jp", []),
        ("MLB.tv vine.co twitch.tv t.co", ["MLB.tv", "vine.co", "twitch.tv", "t.co"]),
        ("test http://sub_domain-dash.twitter.com", ["http://sub_domain-dash.twitter.com"]),
        ("test http://twitter_underscore.com", []),
        ("test http://-leadingdash.twitter.com", []),
        ("test http://trailingdash-.twitter.com", []),
        ("test ELPAÍS.com", ["ELPAÍS.com"]),
        ("test http://twitter.com/.", ["http://twitter.com/"]),
        ("Periods http://example.com/path" + "." * 40, ["http://example.com/path"]),
        ("#test.com @test.com #http://test.com @http://test.com #t.co/abcde", []),
        ("According to http://t.co/ulYGBYSo: the internet", ["http://t.co/ulYGBYSo"]),
        ("$http://twitter.com $twitter.com $t.co $TVI.CA", []),
        ("long.test.tar.bz2 test.tar.bz2 tar.bz2", []),
        ("john.doe.gov@mail.com", []),
        ("test http://xn--ls8h.XN--ls8h.la/", ["http://xn--ls8h.XN--ls8h.la/"]),
        (
            "test http://foobar.みんな/ http://foobar.中国/",
            ["http://foobar.みんな/", "http://foobar.中国/"],
        ),
        (
            "text http://en.wikipedia.org/wiki/Primer_(film)",
            ["http://en.wikipedia.org/wiki/Primer_(film)"],
        ),
        ("text http://foo.com?#foo text", ["http://foo.com?#foo"]),
        (
            "Go to http://example.com/view/slug-url-?foo=bar",
            ["http://example.com/view/slug-url-?foo=bar"],
        ),
        ("(http://twitter.com)", ["http://twitter.com"]),
    ],
)
def test_links_are_found_as_twitter_text_finds_them(text: str, expected: list[str]) -> None:
    assert links(text) == expected


def test_mastodon_sees_only_links_with_a_protocol() -> None:
    text = "see example.com/path and https://example.com/path"
    spans = _url_spans(text, require_protocol=True)
    assert [text[start:end] for start, end in spans] == ["https://example.com/path"]


@pytest.mark.parametrize(
    "text",
    [
        "a." * 10_000,
        "日本語のテキスト." * 2_500,
        ("あ" * 60 + ".") * 300 + "x-.com",
        "あ" * 20_000 + ".com",
        "a-" * 10_000 + ".com",
    ],
)
def test_counting_stays_fast_on_long_text_without_spaces(text: str) -> None:
    # twitter-text's own pattern backtracks for seconds or minutes on text like this.
    started = time.perf_counter()
    x_weighted_length(text)
    mastodon_length(text)
    assert time.perf_counter() - started < 5


# --- Mastodon ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n ", 0),
        ("hello", 5),
        ("hi @alice@mastodon.social!", len("hi @alice!")),
        ("hi @alice", len("hi @alice")),
        ("hi @Alice@Example.COM and @bob@x.y.z", len("hi @Alice and @bob")),
        ("write to alice@example.com", len("write to alice@example.com")),  # no mention
        ("https://example.com/" + "a" * 200, 23),
        ("http://a.co", 23),  # a short link still costs 23
        ("see example.com/long/path", len("see example.com/long/path")),  # bare: counts in full
        ("https://example.com/@alice@example.com", 23),  # a mention inside a link is the link
        (FAMILY + E_ACUTE_COMBINING, 2),  # grapheme clusters
        # twitter-text's paths take Latin and Cyrillic letters, not kana: the link ends at "/".
        ("日本語 https://example.jp/ページ", 4 + 23 + 3),
    ],
)
def test_mastodon_length(text: str, expected: int) -> None:
    assert mastodon_length(text) == expected


# --- Threads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("日本語", 3),
        ("\U0001f600", 4),
        (FAMILY, 25),
        (FLAG_FR, 8),
        (WAVE_MEDIUM, 8),
        ("\u2764\ufe0f", 6),
        ("a\U0001f600b", 6),
        (E_ACUTE_COMBINING, 1),
    ],
)
def test_threads_length_counts_emoji_as_their_utf8_bytes(text: str, expected: int) -> None:
    assert threads_length(text) == expected


# --- check_text --------------------------------------------------------------------------------

# A character each network counts as exactly one, so that "n of them" is n long.
ONE = {
    Network.MASTODON: "a",
    Network.BLUESKY: E_ACUTE_COMBINING,  # one grapheme of two code points
    Network.THREADS: "日",
    Network.X: "a",
    Network.LINKEDIN: "a",
    Network.FACEBOOK: "a",
    Network.INSTAGRAM: "a",
    Network.SANDBOX: "a",
}
LIMITS = {
    Network.MASTODON: 500,
    Network.BLUESKY: 300,
    Network.THREADS: 500,
    Network.X: 280,
    Network.LINKEDIN: 3000,
    Network.FACEBOOK: 63206,
    Network.INSTAGRAM: 2200,
    Network.SANDBOX: 500,
}


@pytest.mark.parametrize("network", list(Network))
def test_text_exactly_at_the_limit_passes(network: Network) -> None:
    text = ONE[network] * LIMITS[network]
    assert text_limit(network) == LIMITS[network]
    assert check_text(network, text) == LIMITS[network]
    assert count_text(network, text) == LIMITS[network]


@pytest.mark.parametrize("network", list(Network))
def test_text_one_over_the_limit_fails_by_one(network: Network) -> None:
    text = "a" * (LIMITS[network] + 1)
    with pytest.raises(TextTooLong) as raised:
        check_text(network, text)
    error = raised.value
    assert error.context["network"] == network
    assert error.context["limit"] == LIMITS[network]
    assert error.context["length"] == LIMITS[network] + 1
    assert error.context["over"] == 1
    assert error.code == "text_too_long"
    assert error.status == 422


def test_the_message_says_how_much_over_and_how_it_was_counted() -> None:
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.BLUESKY, "a" * 312)
    assert str(raised.value) == (
        "text is 312 characters on bluesky (counted as graphemes); the limit is 300 — "
        "shorten it by 12"
    )


def test_bluesky_counts_graphemes_not_code_points() -> None:
    assert check_text(Network.BLUESKY, E_ACUTE_COMBINING * 300) == 300
    with pytest.raises(TextTooLong):
        check_text(Network.BLUESKY, E_ACUTE_COMBINING * 301)


def test_bluesky_also_caps_the_text_at_3000_bytes() -> None:
    text = FAMILY * 121  # 121 graphemes, 3025 bytes
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.BLUESKY, text)
    assert raised.value.context["limit"] == 3000
    assert raised.value.context["length"] == 3025
    assert raised.value.context["over"] == 25
    assert "3025 bytes in UTF-8" in str(raised.value)
    assert check_text(Network.BLUESKY, FAMILY * 120) == 120  # 3000 bytes exactly


def test_x_links_count_23_at_the_limit() -> None:
    text = "a" * 256 + " https://example.com/" + "x" * 100  # 256 + 1 + 23 = 280
    assert check_text(Network.X, text) == 280
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.X, "a" + text)
    assert raised.value.context["over"] == 1


def test_x_cjk_counts_double() -> None:
    assert check_text(Network.X, "あ" * 140) == 280
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.X, "あ" * 141)
    assert raised.value.context["length"] == 282
    assert raised.value.context["over"] == 2


def test_mastodon_instance_limit_overrides_the_default() -> None:
    text = "a" * 1000
    assert check_text(Network.MASTODON, text, max_chars=1000) == 1000
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.MASTODON, text + "a", max_chars=1000)
    assert raised.value.context["limit"] == 1000
    assert raised.value.context["over"] == 1
    with pytest.raises(TextTooLong):
        check_text(Network.MASTODON, "a" * 301, max_chars=300)
    assert text_limit(Network.MASTODON, 5000) == 5000


def test_mastodon_remote_mentions_and_links_are_cheap_at_the_limit() -> None:
    start = "@alice@an.extremely.long.instance.example https://example.com/" + "x" * 300 + " "
    counted = len("@alice ") + 23 + len(" ")
    assert check_text(Network.MASTODON, start + "a" * (500 - counted)) == 500
    with pytest.raises(TextTooLong):
        check_text(Network.MASTODON, start + "a" * (501 - counted))


def test_sandbox_takes_an_override() -> None:
    assert check_text(Network.SANDBOX, "a" * 10, max_chars=10) == 10
    with pytest.raises(TextTooLong):
        check_text(Network.SANDBOX, "a" * 11, max_chars=10)


@pytest.mark.parametrize(
    "network", [n for n in Network if n not in (Network.MASTODON, Network.SANDBOX)]
)
def test_other_networks_refuse_an_override(network: Network) -> None:
    with pytest.raises(ValueError, match="fixed"):
        check_text(network, "hi", max_chars=1000)


@pytest.mark.parametrize("max_chars", [0, -5])
def test_an_override_must_be_positive(max_chars: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        check_text(Network.MASTODON, "hi", max_chars=max_chars)


def test_threads_counts_emoji_bytes_against_its_500() -> None:
    assert check_text(Network.THREADS, "\U0001f600" * 125) == 500
    with pytest.raises(TextTooLong) as raised:
        check_text(Network.THREADS, "\U0001f600" * 125 + "a")
    assert raised.value.context["over"] == 1


def test_threads_refuses_more_than_five_links() -> None:
    five = " ".join(f"https://example{i}.com" for i in range(5))
    assert check_text(Network.THREADS, five + " https://example0.com")  # a repeat is one link
    with pytest.raises(InvalidInput) as raised:
        check_text(Network.THREADS, five + " www.example5.org")
    assert not isinstance(raised.value, TextTooLong)
    assert raised.value.context["links"] == 6
    assert "remove 1" in str(raised.value)


def test_check_text_accepts_the_network_by_name() -> None:
    assert check_text("bluesky", "hi") == 2  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        check_text("myspace", "hi")  # type: ignore[arg-type]


# --- check_item --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b", "\u3000"])
def test_an_item_needs_text_or_media(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_item(Network.MASTODON, text, 0)
    assert "text or media" in str(raised.value)


@pytest.mark.parametrize("text", ["", "  "])
def test_an_item_with_media_may_have_no_text(text: str) -> None:
    assert check_item(Network.BLUESKY, text, 1) == len(text)


def test_an_item_checks_its_text() -> None:
    assert check_item(Network.X, "hello", 0) == 5
    with pytest.raises(TextTooLong):
        check_item(Network.X, "a" * 281, 2)
    assert check_item(Network.MASTODON, "a" * 600, 0, max_chars=600) == 600


def test_instagram_needs_media() -> None:
    with pytest.raises(InvalidInput, match="at least one image or video"):
        check_item(Network.INSTAGRAM, "a caption", 0)
    assert check_item(Network.INSTAGRAM, "a caption", 1) == 9


def test_a_negative_media_count_is_a_bug() -> None:
    with pytest.raises(ValueError):
        check_item(Network.X, "hi", -1)


# --- check_media -------------------------------------------------------------------------------

KB, MB, MIB = 1000, 1000 * 1000, 1024 * 1024


@pytest.mark.parametrize(
    ("network", "media"),
    [
        (Network.MASTODON, [("image/jpeg", MB)] * 4),
        (Network.MASTODON, [("image/gif", MB), ("image/png", MB)]),  # a GIF is an image there
        (Network.MASTODON, [("video/mp4", 99 * MIB)]),
        (Network.BLUESKY, [("image/jpeg", 2 * MB)] * 4),
        (Network.BLUESKY, [("video/mp4", 300 * MB)]),
        (Network.MASTODON, [("video/ogg", MB)]),
        (Network.X, [("image/png", 5 * MB)] * 4),
        (Network.X, [("image/gif", 15 * MB)]),
        (Network.X, [("video/mp4", 512 * MB)]),
        (Network.THREADS, [("image/jpeg", MB)] * 10 + [("video/mp4", 100 * MB)] * 10),
        (Network.INSTAGRAM, [("image/jpeg", 8 * MB)] * 9 + [("video/quicktime", 300 * MB)]),
        (Network.LINKEDIN, [("image/png", MB)] * 20),
        (Network.LINKEDIN, [("video/mp4", 500 * MB)]),
        (Network.FACEBOOK, [("image/jpeg", 30 * MB)] * 25),
        (Network.SANDBOX, [("image/webp", 1), ("video/webm", 10**10)]),
        (Network.X, []),
        (Network.X, [("IMAGE/JPG; charset=binary", KB)]),  # names are normalised
    ],
)
def test_media_a_network_takes(network: Network, media: list[tuple[str, int]]) -> None:
    check_media(network, media)


@pytest.mark.parametrize(
    ("network", "media", "message"),
    [
        (Network.MASTODON, [("image/png", MB)] * 5, "5 attachments is too many for mastodon"),
        (Network.BLUESKY, [("image/png", MB)] * 5, "at most 4 per post — remove 1"),
        (Network.THREADS, [("image/png", MB)] * 21, "at most 20 per post"),
        (Network.INSTAGRAM, [("image/jpeg", MB)] * 11, "at most 10 per post"),
        (Network.INSTAGRAM, [("image/png", MB)], "attachment 1 is image/png"),
        (Network.X, [("image/png", MB), ("application/pdf", MB)], "attachment 2 is application"),
        (Network.BLUESKY, [("video/quicktime", MB)], "bluesky does not take"),
        (Network.LINKEDIN, [("image/webp", MB)], "linkedin does not take"),
        (Network.X, [("image/heic", MB)], "it takes image/gif, image/jpeg"),
        (Network.MASTODON, [("image/png", 0)], "attachment 1 (image/png) is empty"),
        (
            Network.BLUESKY,
            [("image/jpeg", 2_200_000)],
            "is 2.2 MB; bluesky takes images up to 2 MB",
        ),
        (Network.BLUESKY, [("image/jpeg", 2_000_001)], "is 2,000,001 bytes"),
        (Network.MASTODON, [("video/x-m4v", MB)], "mastodon does not take"),
        (
            Network.MASTODON,
            [("video/mp4", 120 * MIB)],
            "is 120 MiB; mastodon takes videos up to 99",
        ),
        (Network.MASTODON, [("image/png", 17 * MIB)], "takes images up to 16 MiB"),
        (Network.X, [("image/gif", 16 * MB)], "takes GIFs up to 15 MB"),
        # X's "5 MB" is read as decimal: 5 MiB would pass here and be refused there.
        (Network.X, [("image/png", 5 * MIB)], "takes images up to 5 MB"),
        (
            Network.THREADS,
            [("video/mp4", 2_500_000_000)],
            "is 2.5 GB; threads takes videos up to 1 GB",
        ),
        (Network.LINKEDIN, [("video/mp4", 501 * MB)], "takes videos up to 500 MB"),
        (Network.INSTAGRAM, [("video/mp4", 301 * MB)], "takes videos up to 300 MB"),
        (Network.X, [("video/mp4", MB)] * 2, "x takes at most 1 video per post; this one has 2"),
        (Network.X, [("image/gif", MB)] * 2, "at most 1 GIF per post"),
        (Network.MASTODON, [("video/mp4", MB)] * 2, "at most 1 video per post"),
        (
            Network.X,
            [("image/png", MB), ("video/mp4", MB)],
            "x does not take a video together with other attachments",
        ),
        (Network.X, [("image/gif", MB), ("image/png", MB)], "does not take a GIF together"),
        (Network.BLUESKY, [("video/mp4", MB), ("image/png", MB)], "post the video on its own"),
        (
            Network.MASTODON,
            [("image/png", MB), ("video/webm", MB)],
            "mastodon does not take a video",
        ),
        (
            Network.LINKEDIN,
            [("image/png", MB), ("video/mp4", MB)],
            "linkedin does not take a video",
        ),
        (
            Network.FACEBOOK,
            [("image/png", MB), ("video/mp4", MB)],
            "facebook does not take a video",
        ),
        (Network.SANDBOX, [("image/png", 1)] * 5, "at most 4 per post"),
        (Network.SANDBOX, [("text/plain", 1)], "it takes image/*, video/*"),
    ],
)
def test_media_a_network_refuses(
    network: Network, media: list[tuple[str, int]], message: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_media(network, media)
    assert message in str(raised.value)
    assert raised.value.context["network"] == network


def test_threads_and_instagram_carousels_mix_images_and_videos() -> None:
    check_media(Network.THREADS, [("video/mp4", MB), ("image/png", MB), ("video/quicktime", MB)])
    check_media(Network.INSTAGRAM, [("video/mp4", MB), ("image/jpeg", MB)])


@pytest.mark.parametrize(
    ("network", "content_type", "expected"),
    [
        (Network.X, "image/gif", MediaKind.GIF),
        (Network.MASTODON, "image/gif", MediaKind.IMAGE),
        (Network.BLUESKY, "image/gif", MediaKind.IMAGE),
        (Network.X, "video/mp4", MediaKind.VIDEO),
        (Network.INSTAGRAM, "image/png", None),
        (Network.FACEBOOK, "audio/mpeg", None),
        (Network.SANDBOX, "image/svg+xml", MediaKind.IMAGE),
        (Network.X, "image/jpg", MediaKind.IMAGE),
    ],
)
def test_media_kind(network: Network, content_type: str, expected: MediaKind | None) -> None:
    assert media_kind(network, content_type) == expected


# --- Properties --------------------------------------------------------------------------------

# Characters that steer the link finder, mixed with anything at all.
LINKISH = st.one_of(
    st.sampled_from(
        [
            *("http://", "https://", ".", ".com", ".jp", ".co", "www.", "/", "?", "#", "@"),
            *("$", "_", "-", ":", "(", ")", "日", "é", " ", "\n", "xn--", "t.co/", FAMILY),
            *("\ufe0f", "\u200d"),
        ]
    ),
    st.characters(),
)
TEXTS = st.lists(LINKISH, max_size=40).map("".join)


@given(TEXTS)
def test_counters_take_any_text(text: str) -> None:
    assert x_weighted_length(text) >= 0
    assert mastodon_length(text) >= 0
    assert threads_length(text) >= count_graphemes(text) >= 0
    assert count_graphemes(text) <= code_point_length(text)


@given(TEXTS)
def test_links_are_ordered_disjoint_slices(text: str) -> None:
    position = 0
    for start, end in _url_spans(text):
        assert position <= start < end <= len(text)
        position = end


# Below U+0300 there are no combining marks, so NFC composes nothing into U+1E00 and beyond.
@given(st.text(alphabet=st.characters(max_codepoint=0x02FF), max_size=60))
def test_x_counts_latin_text_without_links_by_code_point(text: str) -> None:
    text = text.replace(".", " ")  # no dot, no link
    assert x_weighted_length(text) == len(unicodedata.normalize("NFC", text))


def test_x_weighs_what_nfc_composes() -> None:
    assert x_weighted_length("a\u0323") == 2  # NFC makes U+1EA1, beyond U+10FF
