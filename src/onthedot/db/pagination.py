"""Opaque cursors for keyset pagination: a page never shifts when rows are added before it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from onthedot.db.base import MAX_ID
from onthedot.errors import InvalidCursor

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Cursors this API makes are far shorter; a longer one is refused before it is decoded (deeply
# nested JSON would otherwise exhaust the parser's recursion limit).
MAX_CURSOR_CHARS = 512


def encode_cursor(*values: Any) -> str:
    def plain(v: Any) -> Any:
        return v.isoformat() if isinstance(v, dt.datetime) else v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """Decode a cursor made by `encode_cursor` whose values have the given types."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        out: list[Any] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is dt.datetime:
                parsed = dt.datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive instant")
                # Raises OverflowError for an instant outside the years 1 to 9999 in UTC.
                out.append(parsed.astimezone(dt.UTC))
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError("not an integer")
                if not 0 <= value <= MAX_ID:
                    raise ValueError("not an id")
                out.append(value)
            else:
                raise ValueError("unsupported kind")
        return tuple(out)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidCursor(
            "the cursor is not one this API returned; pass back `next_cursor` unchanged"
        ) from exc


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        from onthedot.errors import InvalidInput

        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    return limit
