"""TokenKeeper: tokens renewed ahead of expiry, once per channel however many posts ask."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.base import Account
from onthedot.networks.credentials import MemoryCredentialStore, TokenKeeper

T0 = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


def _creds(token: str, expires: dt.datetime) -> dict[str, Any]:
    return {"access_token": token, "refresh_token": f"r-{token}", "expires_at": expires.isoformat()}


def _account(credentials: dict[str, Any]) -> Account:
    return Account(
        channel_id=7, workspace_id=1, network=Network.X, handle="@a", credentials=credentials
    )


class Renewer:
    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, account: Account) -> dict[str, Any]:
        # Single-use refresh tokens: renewing twice from the same one would fail on X.
        used = account.credentials["refresh_token"]
        assert used not in self.calls, "a refresh token was used twice"
        self.calls.append(used)
        await self.gate.wait()
        n = len(self.calls)
        return _creds(f"t{n}", self.clock.now() + dt.timedelta(hours=2))


async def test_fresh_tokens_are_used_as_they_are() -> None:
    clock = FrozenClock(T0)
    creds = _creds("t0", T0 + dt.timedelta(hours=1))
    store = MemoryCredentialStore({7: creds})
    renew = Renewer(clock)
    keeper = TokenKeeper(store, clock=clock, refresh=renew)
    assert await keeper.current(_account(creds)) == creds
    assert renew.calls == []


async def test_tokens_about_to_expire_are_renewed_once_for_many_posts_and_stored() -> None:
    clock = FrozenClock(T0)
    creds = _creds("t0", T0 + dt.timedelta(minutes=4))  # inside the 5-minute margin
    store = MemoryCredentialStore({7: creds})
    renew = Renewer(clock)
    renew.gate.clear()
    keeper = TokenKeeper(store, clock=clock, refresh=renew)
    waiting = [asyncio.create_task(keeper.current(_account(creds))) for _ in range(50)]
    await asyncio.sleep(0)
    renew.gate.set()
    results = await asyncio.gather(*waiting)
    assert renew.calls == ["r-t0"]
    assert {r["access_token"] for r in results} == {"t1"}
    assert store.credentials[7]["access_token"] == "t1"
    # Later posts carry the old credentials from their claim; the keeper knows better.
    assert (await keeper.current(_account(creds)))["access_token"] == "t1"


async def test_a_token_the_network_refused_is_renewed_unless_someone_did_already() -> None:
    clock = FrozenClock(T0)
    creds = _creds("t0", T0 + dt.timedelta(hours=1))
    store = MemoryCredentialStore({7: creds})
    renew = Renewer(clock)
    keeper = TokenKeeper(store, clock=clock, refresh=renew)
    first = await keeper.refreshed(_account(creds), stale=creds)
    assert first["access_token"] == "t1"
    # A second caller that also saw t0 refused gets t1 without a second renewal.
    second = await keeper.refreshed(_account(creds), stale=creds)
    assert second["access_token"] == "t1"
    assert renew.calls == ["r-t0"]


async def test_another_process_renewal_is_taken_from_the_store() -> None:
    clock = FrozenClock(T0)
    creds = _creds("t0", T0 + dt.timedelta(minutes=1))
    other = _creds("elsewhere", T0 + dt.timedelta(hours=2))
    store = MemoryCredentialStore({7: other})  # renewed by another broadcaster
    renew = Renewer(clock)
    keeper = TokenKeeper(store, clock=clock, refresh=renew)
    assert (await keeper.current(_account(creds)))["access_token"] == "elsewhere"
    assert renew.calls == []


async def test_renewal_follows_the_clock() -> None:
    clock = FrozenClock(T0)
    creds = _creds("t0", T0 + dt.timedelta(hours=2))
    store = MemoryCredentialStore({7: creds})
    renew = Renewer(clock)
    keeper = TokenKeeper(store, clock=clock, refresh=renew)
    await keeper.current(_account(creds))
    clock.advance(dt.timedelta(hours=1, minutes=56))
    assert (await keeper.current(_account(creds)))["access_token"] == "t1"
    assert renew.calls == ["r-t0"]
