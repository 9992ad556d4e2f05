"""A thin Graph API client on onthedot's `HttpClient`: one call, its failure mapped once.

The token travels in the `Authorization: Bearer` header (the Graph API accepts it there as
well as in `access_token`), so it never sits in a URL that a proxy or a log could keep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import orjson

from onthedot.clock import Clock
from onthedot.networks.base import Transient
from onthedot.networks.http import MAYBE_PUBLISHED, HttpClient
from onthedot.networks.meta.errors import refusal

__all__ = ["GRAPH_VERSION", "Graph"]

# developers.facebook.com/docs/graph-api/changelog: each version lives at least two years.
GRAPH_VERSION: Final = "v23.0"
MAX_PAGES: Final = 5


class Graph:
    def __init__(self, http: HttpClient, base_url: str, *, service: str, clock: Clock) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.clock = clock

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base_url}/{path.lstrip('/')}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        account: str,
        doing: str,
        publishing: bool = False,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """The answer's JSON object; a failure raised as the broadcaster's outcome."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        response = await self.http.request(
            method,
            self.url(path),
            service=self.service,
            publishing=publishing,
            params=params,
            data=data,
            files=files,
            headers=headers,
        )
        if not response.is_success:
            raise refusal(
                response,
                service=self.service,
                account=account,
                doing=doing,
                publishing=publishing,
                now=self.clock.now(),
            )
        try:
            body = orjson.loads(response.content or b"{}")
        except orjson.JSONDecodeError:
            then = MAYBE_PUBLISHED if publishing else "onthedot tries again"
            raise Transient(
                f"{self.service} answered {response.status_code} with something other than "
                f"JSON while onthedot was {doing}; {then}",
                status=response.status_code,
                maybe_sent=publishing,
            ) from None
        return body if isinstance(body, dict) else {}

    async def pages(
        self,
        path: str,
        *,
        token: str,
        account: str,
        doing: str,
        params: Mapping[str, Any],
        max_pages: int = MAX_PAGES,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The `data` of each page of an edge, following `paging.cursors.after`."""
        query = dict(params)
        for _ in range(max_pages):
            body = await self.call(
                "GET", path, token=token, account=account, doing=doing, params=query
            )
            data = [entry for entry in body.get("data") or [] if isinstance(entry, dict)]
            yield data
            paging = body.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not data or not paging.get("next") or not isinstance(after, str):
                return
            query["after"] = after


def parse_time(value: Any) -> dt.datetime | None:
    """Meta's timestamps: ISO 8601 with a "+0000" offset (2026-11-26T08:00:00+0000)."""
    if not isinstance(value, str):
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            instant = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant.astimezone(dt.UTC)
