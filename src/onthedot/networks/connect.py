"""Connecting an account: each network's way of handing onthedot credentials.

Most networks use OAuth 2: `authorize` gives the address to send the user to and a secret
(a PKCE verifier, the client registered on a Mastodon instance) that onthedot keeps sealed on
its side until the network redirects back; `finish` turns the code in that redirect into
credentials. Bluesky uses an app password instead: `login` takes it and opens a session.
Whatever the flow, the result is a `Connected` account, which becomes a channel.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from onthedot.networks import Network
from onthedot.networks.base import Unsupported

__all__ = ["Authorization", "Connected", "Connector"]


@dataclass(frozen=True, slots=True)
class Authorization:
    url: str
    # Kept sealed by onthedot under the OAuth `state` until the redirect comes back.
    secret: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connected:
    handle: str
    credentials: dict[str, Any]
    # The account's id on the network, which stays when the handle changes.
    account_id: str
    display_name: str | None = None
    # The account's text limit where the network sets it per server (a Mastodon instance).
    max_chars: int | None = None


class Connector(ABC):
    network: Network
    flow: Literal["oauth", "password"] = "oauth"
    # What `options` the flow takes, for the CLI's and the API's help: name → description.
    options: Mapping[str, str] = {}

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        raise Unsupported(f"{self.network.value} does not connect through OAuth")

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        """`query` is the redirect's query string (code, state, or error)."""
        raise Unsupported(f"{self.network.value} does not connect through OAuth")

    async def login(self, *, options: Mapping[str, str]) -> Connected:
        raise Unsupported(f"{self.network.value} does not connect with a password")
