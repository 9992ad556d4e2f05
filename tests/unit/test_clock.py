"""The clocks: a frozen one that tests move by hand, and the system one never wakes early."""

from __future__ import annotations

import asyncio
import datetime as dt

from onthedot.clock import FrozenClock, SystemClock

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


async def test_frozen_clock_wakes_sleepers_in_order_when_moved() -> None:
    clock = FrozenClock(T0)
    woke: list[str] = []

    async def sleeper(name: str, at: dt.datetime) -> None:
        await clock.sleep_until(at)
        woke.append(name)
        assert clock.now() >= at

    tasks = [
        asyncio.create_task(sleeper("late", T0 + dt.timedelta(seconds=10))),
        asyncio.create_task(sleeper("early", T0 + dt.timedelta(seconds=5))),
    ]
    await asyncio.sleep(0)
    assert clock.next_wakeup() == T0 + dt.timedelta(seconds=5)
    clock.advance(4.999)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(0.001)
    await asyncio.sleep(0)
    assert woke == ["early"]
    clock.set(T0 + dt.timedelta(minutes=1))
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    assert clock.next_wakeup() is None


async def test_frozen_clock_returns_at_once_for_the_past() -> None:
    clock = FrozenClock(T0)
    await asyncio.wait_for(clock.sleep_until(T0 - dt.timedelta(seconds=1)), timeout=1)
    await asyncio.wait_for(clock.sleep_until(T0), timeout=1)


async def test_a_cancelled_sleeper_is_forgotten() -> None:
    clock = FrozenClock(T0)
    task = asyncio.create_task(clock.sleep_until(T0 + dt.timedelta(seconds=1)))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert clock.next_wakeup() is None


async def test_system_clock_never_returns_before_the_instant() -> None:
    clock = SystemClock()
    for _ in range(20):
        target = clock.now() + dt.timedelta(milliseconds=2)
        await clock.sleep_until(target)
        assert clock.now() >= target
