"""One account's Graph calls: its token and how messages name it, bound once.

Every call an adapter makes is on behalf of one account; binding both here keeps the calls
short, and the token lookup (with its "reconnect the channel") in one place. The token is read
at each call, not when the caller is made, so a call that needs none fails on nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from onthedot.networks.base import AuthRevoked
from onthedot.networks.meta.graph import Graph

__all__ = ["Caller", "required_id"]


def at_name(handle: str) -> str:
    """ "@alice", however the handle was stored."""
    return "@" + handle.strip().lstrip("@")


def required_id(creds: Mapping[str, Any], key: str, missing: str) -> str:
    """An id the channel must hold (its Page, its Instagram account); `missing` says what to do
    without it."""
    value = creds.get(key)
    if not value:
        raise AuthRevoked(missing)
    return str(value)


@dataclass(frozen=True, slots=True)
class Caller:
    graph: Graph
    # Paths are relative to the API version: "v1.0" on Threads, GRAPH_VERSION elsewhere.
    version: str
    creds: Mapping[str, Any]
    # How messages name the account: "@alice", "the Page Alice's Bakery".
    account: str
    # What to say when the channel holds no token.
    no_access: str

    @property
    def token(self) -> str:
        token = self.creds.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthRevoked(self.no_access)
        return token

    async def get(
        self, path: str, *, doing: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.graph.call(
            "GET",
            f"{self.version}/{path}",
            token=self.token,
            account=self.account,
            doing=doing,
            params=params,
        )

    async def post(
        self,
        path: str,
        *,
        doing: str,
        data: Mapping[str, Any],
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        publishing: bool = False,
    ) -> dict[str, Any]:
        return await self.graph.call(
            "POST",
            f"{self.version}/{path}",
            token=self.token,
            account=self.account,
            doing=doing,
            publishing=publishing,
            data=data,
            files=files,
        )

    def pages(
        self, path: str, *, doing: str, params: Mapping[str, Any]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        return self.graph.pages(
            f"{self.version}/{path}",
            token=self.token,
            account=self.account,
            doing=doing,
            params=params,
        )
