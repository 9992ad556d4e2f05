"""Where the links are in a text, as twitter-text finds them -- and, for Mastodon, the mentions.

X, Mastodon and the Threads link count need to know where a text's links are, and X and
Mastodon decide it with twitter-text's rules (conformance/extract.yml and validate.yml):

- a URL starts after the text's start or a character that is not a letter, digit, @, $ or #;
- it may start with http:// or https://; its host is labels joined by dots, each starting and
  ending with a domain character (anything but punctuation, spaces and a few invisibles) with
  "-" -- and, before the domain's own label, "_" -- inside; the host ends in a top-level
  domain (IANA's list, in `_tlds`) that no letter, digit, @, + or - follows;
- every label, punycode-encoded, must be 1 to 63 characters long, and the URL at most 4096;
- without a protocol only the ASCII (and accented Latin) labels count, the URL may not follow
  "-", "_", "." or "/", and a host of one label under a country code ("foo.jp") needs a path
  unless the country code is .co or .tv;
- a path stops before trailing punctuation; a t.co link keeps only its alphanumeric slug.

twitter-text applies these with one regular expression, which backtracks: on long text
without spaces (Japanese written with ASCII full stops, say) it takes seconds. The host is
therefore matched here by a scanner that reaches the same greedy result in linear time --
the longest run of labels that still ends in a top-level domain -- and only the parts that
cannot backtrack far (protocol, port, path, query) are left to regular expressions.

Mastodon also shortens mentions when it counts a text, and its mention patterns use the same
accented-Latin letters as the link patterns, so its entities are here too (at the bottom).
"""

from __future__ import annotations

import string
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import regex

from onthedot.networks._tlds import COUNTRY_TLDS, GENERIC_TLDS

__all__ = [
    "MASTODON_MENTION_END_RE",
    "MASTODON_MENTION_RE",
    "MASTODON_URL_PLACEHOLDER",
    "url_spans",
    "without_overlaps",
]


# --- Characters and patterns ---------------------------------------------------------------
# The characters twitter-text's rules name, and the patterns built from them.
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

_TLDS: Final = COUNTRY_TLDS | GENERIC_TLDS
_LONGEST_TLD: Final = max(map(len, _TLDS))
_NOT_LABEL_CHARACTERS: Final = _NOT_DOMAIN_CHARACTERS - {"_", "-"}

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


# --- URLs ----------------------------------------------------------------------------------


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


def url_spans(text: str, *, require_protocol: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each URL in ``text``, in order, by twitter-text's rules (see the top)."""
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
                or not _is_short_country_domain(ascii_domain, COUNTRY_TLDS)
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


# --- Mastodon's entities -------------------------------------------------------------------
# app/validators/status_length_validator.rb replaces every URL with 23 "x" and every mention
# with "@" + its username; the mention pattern is Account::MENTION_RE and the follow-up check
# twitter-text's end_mention_match, as Mastodon's app/lib/extractor.rb applies them.
MASTODON_URL_PLACEHOLDER: Final = "x" * 23
_WORD: Final = r"\p{L}\p{M}\p{Nd}\p{Pc}"  # Ruby's [[:word:]]

MASTODON_MENTION_RE: Final = regex.compile(
    rf"(?<![=/{_WORD}])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)"
    rf"(?:@[{_WORD}.\-]+[{_WORD}]+)?",
    regex.IGNORECASE,
)
MASTODON_MENTION_END_RE: Final = regex.compile(rf"[@＠{_LATIN_ACCENTS}]|://")


def without_overlaps(
    entities: list[tuple[int, int, str]],
) -> list[tuple[int, int, str]]:
    # As twitter-text's remove_overlapping_entities: by start, drop what overlaps the last kept.
    kept: list[tuple[int, int, str]] = []
    for entity in sorted(entities, key=lambda item: item[0]):
        if not kept or entity[0] >= kept[-1][1]:
            kept.append(entity)
    return kept
