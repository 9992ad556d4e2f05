"""An injectable clock: code asks a `Clock` for the time, tests hand in a `FrozenClock`."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    async def sleep_until(self, instant: dt.datetime) -> None:
        """Return once `now() >= instant`, never before."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    async def sleep_until(self, instant: dt.datetime) -> None:
        # The event loop sleeps on a monotonic clock that may run a hair ahead of the wall
        # clock: loop until the wall clock agrees, so nothing fires early.
        while True:
            remaining = (instant - self.now()).total_seconds()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[dt.datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> dt.datetime:
        return self._now

    async def sleep_until(self, instant: dt.datetime) -> None:
        if instant <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (instant, next(self._order), future))
        await future

    def advance(self, delta: dt.timedelta | float) -> dt.datetime:
        if not isinstance(delta, dt.timedelta):
            delta = dt.timedelta(seconds=delta)
        self._move(self._now + delta)
        return self._now

    def set(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware instant")
        self._move(instant.astimezone(UTC))

    def next_wakeup(self) -> dt.datetime | None:
        """The earliest instant a sleeper waits for, if any."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    def _move(self, instant: dt.datetime) -> None:
        self._now = instant
        while self._sleepers and self._sleepers[0][0] <= instant:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
