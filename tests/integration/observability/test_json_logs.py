"""The JSON logs of a whole publish: every line is JSON, every state change says which post,
channel, attempt and network, requests carry their id, and no credential shows anywhere."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog

from onthedot.config import Settings
from onthedot.networks.base import Transient
from onthedot.observability.logging import configure_logging
from tests.integration.observability.conftest import Stack, World

TOKEN = "tok_RECOGNIZABLE_test_token_0123456789"
PASSWORD = "pw-RECOGNIZABLE-hunter2"
STATES = {"claimed", "prepared", "publishing", "sent", "retry_wait", "failed", "unknown"}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging(Settings.model_construct(log_level="debug", log_format="json"), stream=out)
    try:
        yield out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()


def parse(out: io.StringIO) -> list[dict[str, Any]]:
    lines = out.getvalue().splitlines()
    assert lines
    return [json.loads(line) for line in lines]  # every line is one JSON object


def state_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("state") in STATES]


async def test_a_publish_logs_each_state_and_no_secret(stack: Stack, captured: io.StringIO) -> None:
    owner = stack.team.owner
    headers = {**owner.headers, "X-Request-ID": "req-publish-1"}
    due = stack.clock.now() + dt.timedelta(seconds=30)
    async with httpx.AsyncClient(base_url=f"{stack.url}/api/v1", headers=headers) as api:
        made = await api.post(
            "/channels",
            json={
                "network": "sandbox",
                "handle": "@logs",
                "timezone": "UTC",
                "credentials": {"token": TOKEN, "app_password": PASSWORD},
            },
        )
        assert made.status_code == 201, made.text
        assert made.headers["x-request-id"] == "req-publish-1"
        channel_id = made.json()["id"]
        posted = await api.post(
            "/posts",
            json={
                "channel_ids": [channel_id],
                "text": "logged",
                "mode": "custom",
                "at": due.isoformat(),
            },
        )
        assert posted.status_code == 201, posted.text
        post_id = posted.json()[0]["id"]

        b = stack.broadcaster()
        await b.start()
        try:
            await b.pump()
            await b.settle()
            stack.clock.set(due + dt.timedelta(milliseconds=5))
            await b.settle()
        finally:
            await b.shutdown()
            for adapter in set(b.adapters.values()):
                await adapter.aclose()
        assert (await api.get(f"/posts/{post_id}")).json()["status"] == "sent"

    text = captured.getvalue()
    for secret in (TOKEN, PASSWORD, owner.token):
        assert secret not in text
    lines = parse(captured)
    changes = state_lines(lines)
    assert [c["state"] for c in changes] == ["claimed", "prepared", "publishing", "sent"]
    for change in changes:
        assert change["post_id"] == post_id and change["channel_id"] == channel_id
        assert change["attempt"] == 1 and change["network"] == "sandbox"
        assert change["logger"] == "onthedot.posts" and change["timestamp"].endswith("Z")
    assert changes[-1]["lateness_s"] == 0.005 and changes[-1]["result"] == "sent"
    requests = [line for line in lines if line.get("logger") == "onthedot.http"]
    create = next(r for r in requests if r["route"] == "/api/v1/channels" and r["method"] == "POST")
    assert create["request_id"] == "req-publish-1" and create["status"] == 201
    assert any(r["route"] == "/api/v1/posts/{post_id}" for r in requests)


async def test_retries_and_failures_are_logged_with_their_reason(
    world: World, captured: io.StringIO
) -> None:
    from onthedot.broadcaster.engine import Broadcaster, Config
    from onthedot.networks import Network

    ch = await world.channel()
    due = world.clock.now() + dt.timedelta(seconds=5)
    post_id = await world.post(ch, due)
    world.net.script = [Transient(f"503 (Authorization: Bearer {TOKEN})", status=503)]
    b = Broadcaster(
        world.engine,
        {Network.SANDBOX: world.net},
        clock=world.clock,
        config=Config.from_settings(prepare_lead_s=60.0),
    )
    await b.start()
    try:
        await b.pump()
        world.clock.set(due)
        await b.settle()
    finally:
        await b.shutdown()
    assert TOKEN not in captured.getvalue()
    (retry,) = [c for c in state_lines(parse(captured)) if c["state"] == "retry_wait"]
    assert retry["post_id"] == post_id and retry["result"] == "retry" and retry["level"] == "info"
    assert "Bearer [redacted]" in retry["error"] and retry["retry_at"]
