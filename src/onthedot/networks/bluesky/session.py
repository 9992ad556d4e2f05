"""One account's authenticated calls: the session's tokens, kept fresh, and retried once.

A Bluesky session is an access JWT (short-lived, about two hours) and a refresh JWT (about
two months), both from com.atproto.server.createSession. onthedot never signs in again to
renew them -- createSession is limited to 30 per 5 minutes and 300 per day per account
(https://docs.bsky.app/docs/advanced-guides/rate-limits) -- but calls
com.atproto.server.refreshSession with the refresh JWT, through the `TokenKeeper`, which
refreshes ahead of the access token's `exp` and once per channel whoever asks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import httpx

from onthedot.clock import Clock
from onthedot.networks.base import Account, AuthRevoked
from onthedot.networks.bluesky import xrpc
from onthedot.networks.credentials import TokenKeeper

__all__ = ["Session"]


class Session:
    """Calls made as one account, through its PDS."""

    def __init__(
        self, account: Account, *, keeper: TokenKeeper, client: xrpc.Xrpc, clock: Clock
    ) -> None:
        self.account = account
        self._keeper = keeper
        self._client = client
        self._clock = clock
        self.credentials: Mapping[str, Any] = account.credentials

    @property
    def did(self) -> str:
        return str(self.credentials.get("did") or "")

    @property
    def handle(self) -> str:
        handle = self.credentials.get("handle") or self.account.handle
        return "@" + str(handle).removeprefix("@")

    @property
    def service(self) -> str:
        return str(self.credentials.get("service") or xrpc.ENTRYWAY).rstrip("/")

    async def start(self) -> Session:
        self.credentials = await self._keeper.current(self.account)
        if not self.did or not self.credentials.get("access_token"):
            raise AuthRevoked(
                f"onthedot holds no Bluesky session for {self.handle}: connect the account "
                "again with an app password",
                code="no_session",
            )
        return self

    async def call(
        self,
        method: str,
        nsid: str,
        *,
        subject: str,
        action: str,
        publishing: bool = False,
        accept: Collection[str] = (),
        base: str | None = None,
        token: str | None = None,
        anonymous: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One XRPC call as the account (or `anonymous`, for public reads); a refusal raises
        its outcome, except the error names in `accept`, whose answers are returned. An
        expired token is refreshed and the call made once more: the PDS refused it before
        acting, so even a publish is safe."""
        for first in (True, False):
            bearer = "" if anonymous else token or str(self.credentials.get("access_token") or "")
            if method == "GET":
                response = await self._client.query(
                    base or self.service, nsid, token=bearer, **kwargs
                )
            else:
                response = await self._client.procedure(
                    base or self.service, nsid, token=bearer, publishing=publishing, **kwargs
                )
            if response.is_success:
                return response
            name = xrpc.error_name(response)
            if name in accept:
                return response
            if first and token is None and not anonymous and name in xrpc.TOKEN_ERRORS:
                self.credentials = await self._keeper.refreshed(
                    self.account, stale=self.credentials
                )
                continue
            raise xrpc.refusal(
                response,
                clock=self._clock,
                handle=self.handle,
                subject=subject,
                action=action,
                publishing=publishing,
            )
        raise AssertionError("unreachable")  # pragma: no cover
