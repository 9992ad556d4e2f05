"""Channel credentials in the database: the store token refreshes go through, and the
refresher that renews them before they expire.

Credentials are sealed (`onthedot.crypto`); only their expiry is kept in the clear, so the
refresher finds the channels due for renewal through an index instead of opening every row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.channels import queries, service
from onthedot.channels.models import Channel
from onthedot.clock import Clock
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import Account, Adapter, AuthRevoked, NetworkError, Unsupported
from onthedot.networks.credentials import CredentialStore, Renew, expires_at

__all__ = [
    "DbCredentialStore",
    "RefreshReport",
    "account_of",
    "refresh_expiring",
    "run_refresher",
]

log = logging.getLogger("onthedot.credentials")

# Renew tokens this long before they expire: long enough to ride out a network's outage.
REFRESH_AHEAD = dt.timedelta(days=3)
REFRESH_EVERY_S = 3600.0
REFRESH_BATCH = 100


class DbCredentialStore(CredentialStore):
    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: CredentialBox) -> None:
        self._sessions = sessions
        self._box = box
        # One renewal per channel at a time in this process (the refresher and the adapters
        # share this store); the database keeps processes apart.
        self._locks: dict[int, asyncio.Lock] = {}

    async def load(self, channel_id: int) -> dict[str, Any]:
        async with self._sessions() as session:
            channel = await session.scalar(queries.channel_by_id(channel_id=channel_id))
            if channel is None or channel.credentials is None:
                return {}
            return self._box.open(channel.credentials)

    async def refresh(
        self, channel_id: int, *, stale: Mapping[str, Any], renew: Renew
    ) -> dict[str, Any]:
        """On PostgreSQL the channel's row stays locked while the network renews the
        tokens, so another broadcaster waits and then reads the new ones. SQLite has one
        writing process (the broadcaster's file lock), and a write lock held over a network
        call would stall every other write: there, compare and swap."""
        async with self._locks.setdefault(channel_id, asyncio.Lock()):
            return await self._refresh(channel_id, stale=stale, renew=renew)

    async def _refresh(
        self, channel_id: int, *, stale: Mapping[str, Any], renew: Renew
    ) -> dict[str, Any]:
        if self._sessions.kw["bind"].dialect.name == "postgresql":
            async with self._sessions() as session, session.begin():
                channel = await session.scalar(
                    queries.channel_by_id(channel_id=channel_id).with_for_update()
                )
                if channel is None:
                    return dict(stale)
                stored = self._box.open(channel.credentials) if channel.credentials else {}
                if stored and stored != dict(stale):
                    return stored
                new = await renew(stored or dict(stale))
                channel.credentials = self._box.seal(new)
                channel.credentials_expire_at = expires_at(new)
                return new
        stored = await self.load(channel_id)
        if stored and stored != dict(stale):
            return stored
        base = stored or dict(stale)
        new = await renew(base)
        return (
            new if await self._swap(channel_id, old=base, new=new) else await self.load(channel_id)
        )

    async def _swap(
        self, channel_id: int, *, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> bool:
        async with self._sessions() as session, session.begin():
            channel = await session.scalar(
                queries.channel_by_id(channel_id=channel_id).with_for_update()
            )
            if channel is None:
                return False
            stored = self._box.open(channel.credentials) if channel.credentials else {}
            if stored != dict(old):
                return False
            channel.credentials = self._box.seal(dict(new))
            channel.credentials_expire_at = expires_at(new)
            return True


@dataclass(slots=True)
class RefreshReport:
    refreshed: list[int] = field(default_factory=list)
    # Channels paused because the network will not renew their access.
    revoked: list[int] = field(default_factory=list)
    # Channels whose network could not be asked; tried again on the next round.
    failed: list[int] = field(default_factory=list)


async def refresh_expiring(
    sessions: async_sessionmaker[AsyncSession],
    *,
    adapters: Mapping[Network, Adapter],
    box: CredentialBox,
    clock: Clock,
    store: CredentialStore | None = None,
    ahead: dt.timedelta = REFRESH_AHEAD,
) -> RefreshReport:
    """Renew every channel's credentials that expire within `ahead`.

    A refusal pauses the channel with the network's reason (its posts wait instead of
    failing one by one); a transient failure leaves the channel as it is.
    """
    report = RefreshReport()
    # The adapters' own store, so a renewal here and one at publishing never overlap.
    store = store or DbCredentialStore(sessions, box)
    now = clock.now()
    async with sessions() as session:
        accounts = [
            account_of(channel, box)
            for channel in await session.scalars(
                queries.credentials_expiring(before=now + ahead, limit=REFRESH_BATCH)
            )
            if channel.credentials is not None
        ]
    for account in accounts:
        channel_id = account.channel_id
        adapter = adapters.get(account.network)
        if adapter is None:
            continue

        async def renew(
            stored: dict[str, Any], account: Account = account, adapter: Adapter = adapter
        ) -> dict[str, Any]:
            return await adapter.refresh(account.with_credentials(stored))

        try:
            await store.refresh(channel_id, stale=account.credentials, renew=renew)
        except Unsupported:
            continue
        except AuthRevoked as exc:
            report.revoked.append(channel_id)
            async with sessions() as session, session.begin():
                await service.pause_for_reason(
                    session,
                    channel_id=channel_id,
                    reason=f"{exc.message}. Its posts are held until you reconnect it",
                    now=clock.now(),
                )
            log.warning("channel %s paused: its access could not be renewed", channel_id)
            continue
        except NetworkError as exc:
            report.failed.append(channel_id)
            log.warning("channel %s: renewing its access failed for now: %s", channel_id, exc)
            continue
        report.refreshed.append(channel_id)
    return report


def account_of(channel: Channel, box: CredentialBox | None) -> Account:
    """The channel as an adapter sees it, its credentials opened (none without a key)."""
    sealed = channel.credentials
    return Account(
        channel_id=channel.id,
        workspace_id=channel.workspace_id,
        network=Network(channel.network),
        handle=channel.handle,
        credentials=box.open(sealed) if box is not None and sealed is not None else {},
    )


async def run_refresher(
    sessions: async_sessionmaker[AsyncSession],
    *,
    adapters: Mapping[Network, Adapter],
    box: CredentialBox,
    clock: Clock,
    stop: asyncio.Event,
    store: CredentialStore | None = None,
    every_s: float = REFRESH_EVERY_S,
) -> None:
    """Renew expiring credentials every `every_s` until `stop` is set."""
    while not stop.is_set():
        try:
            report = await refresh_expiring(
                sessions, adapters=adapters, box=box, clock=clock, store=store
            )
            if report.refreshed or report.revoked or report.failed:
                log.info(
                    "credentials renewed for %d channel(s), %d paused, %d to retry",
                    len(report.refreshed),
                    len(report.revoked),
                    len(report.failed),
                )
        except Exception:
            log.exception("renewing channel credentials failed; trying again later")
        wake = clock.now() + dt.timedelta(seconds=every_s)
        sleeper = asyncio.ensure_future(clock.sleep_until(wake))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()
