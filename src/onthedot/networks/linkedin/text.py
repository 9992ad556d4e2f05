"""A post's text in LinkedIn's "little text" format, which the Posts API's `commentary` uses.

learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format: the
characters | { } @ [ ] ( ) < > # \\ * _ ~ are reserved and must be escaped with a backslash,
or LinkedIn cuts the text short or refuses it; a hashtag is written as {hashtag|\\#|word}.
Mentions need the member's or page's URN, which a typed "@name" does not give, so an "@"
stays literal text.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["commentary"]

_RESERVED: Final = frozenset("|{}@[]()<>#\\*_~")
# A hashtag starts a word: "#onthedot", not "issue#4" or "C#".
_HASHTAG: Final = re.compile(r"(?<![\w#&])#(\w+)")


def _escape(text: str) -> str:
    return "".join(f"\\{c}" if c in _RESERVED else c for c in text)


def commentary(text: str) -> str:
    """`text` as LinkedIn should show it: reserved characters escaped, hashtags linked."""
    out: list[str] = []
    last = 0
    for match in _HASHTAG.finditer(text):
        out.append(_escape(text[last : match.start()]))
        out.append(f"{{hashtag|\\#|{_escape(match.group(1))}}}")
        last = match.end()
    out.append(_escape(text[last:]))
    return "".join(out)
