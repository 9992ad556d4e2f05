"""Keeping a channel's tokens fresh, once per channel, whoever asks.

A channel's credentials are a JSON object, sealed at rest (`onthedot.crypto`). Where they
expire they carry `expires_at` (ISO 8601, UTC). Many posts of one channel can fall due at
once, and some networks hand out single-use refresh tokens (X): two refreshes racing would
leave one of them holding a dead token. So a refresh happens under a per-channel lock in the
process, the newest credentials are remembered, and the store makes sure no two processes
renew the same credentials (see `onthedot.channels.credentials`): whoever comes second reads
what the first stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from onthedot.clock import Clock
from onthedot.networks.base import Account
from onthedot.networks.http import parse_instant

__all__ = ["CredentialStore", "MemoryCredentialStore", "TokenKeeper", "expires_at"]

Renew = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
Refresh = Callable[[Account], Awaitable[dict[str, Any]]]

# Refresh this long before the network would refuse the token.
DEFAULT_MARGIN = dt.timedelta(minutes=5)


class CredentialStore(Protocol):
    async def load(self, channel_id: int) -> dict[str, Any]: ...

    async def refresh(
        self, channel_id: int, *, stale: Mapping[str, Any], renew: Renew
    ) -> dict[str, Any]:
        """The channel's credentials after `stale` was found expired: the stored ones if
        somebody renewed them meanwhile, else `renew(stored)`, stored before it is returned.
        Two processes never renew the same credentials at once."""
        ...


class MemoryCredentialStore:
    """A store in a dict: for tests, and for installations without a key."""

    def __init__(self, initial: Mapping[int, Mapping[str, Any]] | None = None) -> None:
        self.credentials: dict[int, dict[str, Any]] = {
            k: dict(v) for k, v in (initial or {}).items()
        }
        self.replaced = 0
        self._locks: dict[int, asyncio.Lock] = {}

    async def load(self, channel_id: int) -> dict[str, Any]:
        return dict(self.credentials.get(channel_id, {}))

    async def refresh(
        self, channel_id: int, *, stale: Mapping[str, Any], renew: Renew
    ) -> dict[str, Any]:
        async with self._locks.setdefault(channel_id, asyncio.Lock()):
            stored = self.credentials.get(channel_id)
            if stored and stored != dict(stale):
                return dict(stored)
            new = await renew(dict(stored or stale))
            self.credentials[channel_id] = dict(new)
            self.replaced += 1
            return dict(new)


def expires_at(credentials: Mapping[str, Any]) -> dt.datetime | None:
    value = credentials.get("expires_at")
    return parse_instant(value) if isinstance(value, str) else None


class TokenKeeper:
    def __init__(
        self,
        store: CredentialStore,
        *,
        clock: Clock,
        refresh: Refresh,
        margin: dt.timedelta = DEFAULT_MARGIN,
    ) -> None:
        self._store = store
        self._clock = clock
        self._refresh = refresh
        self._margin = margin
        self._newest: dict[int, dict[str, Any]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, channel_id: int) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    def _fresh(self, credentials: Mapping[str, Any]) -> bool:
        expiry = expires_at(credentials)
        return expiry is None or expiry - self._margin > self._clock.now()

    async def current(self, account: Account) -> Mapping[str, Any]:
        """Credentials good for a call now: the newest known, refreshed if about to expire."""
        newest = self._newest.get(account.channel_id, account.credentials)
        if self._fresh(newest):
            return newest
        return await self.refreshed(account, stale=newest)

    async def refreshed(self, account: Account, *, stale: Mapping[str, Any]) -> Mapping[str, Any]:
        """Credentials other than `stale`, which the network just refused as expired."""
        async with self._lock(account.channel_id):
            newest = self._newest.get(account.channel_id)
            if newest is not None and newest != dict(stale) and self._fresh(newest):
                return newest  # renewed while this caller waited for the lock

            async def renew(stored: dict[str, Any]) -> dict[str, Any]:
                return await self._refresh(account.with_credentials(stored))

            new = await self._store.refresh(account.channel_id, stale=stale, renew=renew)
            self._newest[account.channel_id] = new
            return new
