"""A scriptable in-memory network for the broadcaster's tests.

It follows the adapter protocol exactly: `commit` creates a post unless a scripted answer
says otherwise; `find` looks posts up by idempotency key; scripted answers can raise any of
the protocol's errors, or create the post and then fail (a lost answer).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from onthedot.clock import Clock
from onthedot.networks import Network
from onthedot.networks.base import (
    Adapter,
    CannotTell,
    Item,
    Job,
    Limits,
    NetworkError,
    Prepared,
    Published,
)


@dataclass
class Call:
    kind: str  # prepare | commit | find
    post_id: int
    position: int
    at: dt.datetime
    reply_to: str | None = None
    key: str | None = None


@dataclass
class FakeNetwork(Adapter):
    clock: Clock
    idempotent: bool = True
    limits: Limits = field(default_factory=Limits)
    network: Network = Network.SANDBOX
    calls: list[Call] = field(default_factory=list)
    posts: dict[str, Published] = field(default_factory=dict)  # by idempotency key
    # Scripted answers for the next commits: an error to raise, or ("ghost", error) to
    # create the post and then raise.
    script: list[Any] = field(default_factory=list)
    find_script: list[Any] = field(default_factory=list)
    before_commit: Callable[[Job, Item], Any] | None = None
    prepare_until: dt.datetime | None = None
    block: asyncio.Event | None = None

    async def prepare(self, job: Job) -> Prepared:
        self.calls.append(Call("prepare", job.post_id, 0, self.clock.now()))
        if self.prepare_until is not None:
            await self.clock.sleep_until(self.prepare_until)
        return Prepared(items={i.position: f"media-{job.post_id}-{i.position}" for i in job.items})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        key = job.idempotency_key(item)
        self.calls.append(
            Call(
                "commit",
                job.post_id,
                item.position,
                self.clock.now(),
                reply_to.network_id if reply_to else None,
                key,
            )
        )
        if self.before_commit is not None:
            result = self.before_commit(job, item)
            if asyncio.iscoroutine(result):
                await result
        if self.block is not None:
            await self.block.wait()
        answer = self.script.pop(0) if self.script else None
        ghost = isinstance(answer, tuple) and answer[0] == "ghost"
        if isinstance(answer, NetworkError) and not ghost:
            raise answer
        if key in self.posts and self.idempotent:
            return self.posts[key]
        published = Published(network_id=f"n{len(self.posts) + 1}", url=None, status=201)
        self.posts[key] = published
        self.created.append((job.post_id, item.position))
        if ghost:
            raise answer[1]
        return published

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        self.calls.append(Call("find", job.post_id, item.position, self.clock.now()))
        answer = self.find_script.pop(0) if self.find_script else None
        if isinstance(answer, NetworkError):
            raise answer
        return self.posts.get(job.idempotency_key(item))

    created: list[tuple[int, int]] = field(default_factory=list)

    def commits(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "commit"]


__all__ = ["Call", "CannotTell", "FakeNetwork"]
