"""The sandbox adapter over real HTTP (aiohttp, as the broadcaster runs it) against the
sandbox served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from onthedot.networks import Network
from onthedot.networks.base import Item, Job, Prepared, RateLimited, Transient
from onthedot.networks.sandbox import SandboxAdapter
from onthedot.sandbox.app import create_sandbox_app
from onthedot.sandbox.config import SandboxConfig
from onthedot.sandbox.spike import free_port

DUE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    port = free_port()
    app = create_sandbox_app(SandboxConfig(seed=1))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def _job(post_id: int, *texts: str) -> Job:
    return Job(
        post_id=post_id,
        channel_id=1,
        workspace_id=1,
        network=Network.SANDBOX,
        handle="@alice",
        credentials={"token": "t"},
        items=tuple(Item(item_id=i, position=i, text=t) for i, t in enumerate(texts)),
        due_at=DUE,
    )


async def test_publish_find_and_failures_over_http(sandbox_url: str) -> None:
    adapter = SandboxAdapter(sandbox_url)
    try:
        job = _job(1, "hello", "a reply")
        prepared = await adapter.prepare(job)
        assert adapter.idempotent  # learned from the sandbox ("key" mode)
        first = await adapter.commit(job, prepared, job.items[0], None)
        second = await adapter.commit(job, prepared, job.items[1], first)
        assert first.network_id != second.network_id
        found_again = await adapter.find(job, job.items[1], first)
        assert found_again is not None and found_again.network_id == second.network_id
        async with httpx.AsyncClient() as http:
            await http.put(f"{sandbox_url}/api/v1/config", json={"ghost_rate": 1.0})
            ghost = _job(2, "lost answer")
            with pytest.raises(Transient) as lost:
                await adapter.commit(ghost, Prepared(), ghost.items[0], None)
            assert lost.value.maybe_sent and lost.value.status == 502
            found = await adapter.find(ghost, ghost.items[0], None)
            assert found is not None
            await http.put(
                f"{sandbox_url}/api/v1/config", json={"ghost_rate": 0.0, "throttle_rate": 1.0}
            )
            with pytest.raises(RateLimited) as limited:
                await adapter.commit(_job(3, "slow down"), Prepared(), Item(0, 0, "x"), None)
            assert limited.value.reset_at is not None
    finally:
        await adapter.aclose()


async def test_an_unreachable_sandbox_means_nothing_was_sent() -> None:
    adapter = SandboxAdapter(f"http://127.0.0.1:{free_port()}", idempotent=True)
    try:
        job = _job(4, "nobody home")
        with pytest.raises(Transient) as err:
            await adapter.commit(job, Prepared(), job.items[0], None)
        assert err.value.maybe_sent is False
        assert "could not reach the sandbox" in err.value.message
    finally:
        await adapter.aclose()
