"""Helpers shared by the end-to-end API tests: calls, problem checks, and "nothing written"."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.db.models import Base
from tests.conftest import Actor

API = "/api/v1"
PROBLEM = "application/problem+json"
# Europe/Berlin. The clock stands at Thu 2026-11-26 07:00 there, so the first slot is 08:00.
SCHEDULE = "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"
# A valid PNG of one pixel (any bytes would do: the type comes from Content-Type).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
# Ids no row has (the suites create a few dozen rows at most).
UNKNOWN_ID = 987_654_321
# The tables a request can write to. Any change after a refused request is a bug.
TABLES = (
    "workspaces",
    "users",
    "memberships",
    "api_tokens",
    "channels",
    "posts",
    "post_items",
    "post_item_media",
    "media",
)


def headers(actor: Actor | Mapping[str, str] | None) -> dict[str, str]:
    if actor is None:
        return {}
    if isinstance(actor, Actor):
        return actor.headers
    return dict(actor)


async def call(
    client: httpx.AsyncClient,
    actor: Actor | Mapping[str, str] | None,
    method: str,
    path: str,
    *,
    json: Any = None,
    content: bytes | None = None,
    params: Mapping[str, str | int] | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One API call as `actor` (None: without any Authorization header)."""
    return await client.request(
        method,
        API + path,
        headers={**headers(actor), **(extra_headers or {})},
        json=json,
        content=content,
        params=params,
    )


def ok(response: httpx.Response, status: int | None = None) -> Any:
    """The JSON body of a successful response (an image's bytes; None for 204); fails with
    the problem shown."""
    expected = status if status is not None else response.status_code
    assert response.status_code == expected and response.is_success, (
        f"{response.request.method} {response.request.url.path} -> {response.status_code} "
        f"{response.text}"
    )
    if response.status_code == 204:
        return None
    if response.headers.get("content-type", "").startswith("image/"):
        return response.content
    return response.json()


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with a stable code, and return its body."""
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM), where
    body: dict[str, Any] = response.json()
    assert body["code"] == code, f"{where}: {body}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].endswith(f"/{code}")
    return body


def cursor_of(*values: Any) -> str:
    """A cursor in the API's own encoding (to forge wrong ones)."""
    raw = json.dumps(list(values)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- making things through the API ----------------------------------------------------------


async def new_channel(client: httpx.AsyncClient, actor: Actor, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "network": "sandbox",
        "handle": "@acme@example.social",
        "timezone": "Europe/Berlin",
        "schedule": SCHEDULE,
    }
    body.update(fields)
    created: dict[str, Any] = ok(await call(client, actor, "POST", "/channels", json=body), 201)
    return created


async def new_posts(
    client: httpx.AsyncClient, actor: Actor, channel_ids: list[int], **fields: Any
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"channel_ids": channel_ids}
    if "items" not in fields:
        body["text"] = "hello"
    body.update(fields)
    created: list[dict[str, Any]] = ok(await call(client, actor, "POST", "/posts", json=body), 201)
    return created


async def new_post(
    client: httpx.AsyncClient, actor: Actor, channel_id: int, **fields: Any
) -> dict[str, Any]:
    (post,) = await new_posts(client, actor, [channel_id], **fields)
    return post


async def upload(
    client: httpx.AsyncClient,
    actor: Actor,
    data: bytes = PNG,
    content_type: str = "image/png",
    filename: str = "pixel.png",
) -> dict[str, Any]:
    response = await call(
        client,
        actor,
        "POST",
        "/media",
        content=data,
        params={"filename": filename},
        extra_headers={"Content-Type": content_type},
    )
    created: dict[str, Any] = ok(response, 201)
    return created


# --- "nothing was written" ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, list[str]]
    files: frozenset[str]

    def assert_same_as(self, later: Snapshot) -> None:
        for name in TABLES:
            before, after = self.tables[name], later.tables[name]
            assert before == after, (
                f"table {name} changed:\n  gone {sorted(set(before) - set(after))}\n"
                f"  new  {sorted(set(after) - set(before))}"
            )
        assert self.files == later.files, (
            f"media dir changed: gone {sorted(self.files - later.files)}, "
            f"new {sorted(later.files - self.files)}"
        )


class DbState:
    """Every row of the tables a request can write, and every file in the media dir."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], media_dir: Path) -> None:
        self._sessionmaker = sessionmaker
        self._media_dir = media_dir

    async def take(self) -> Snapshot:
        tables: dict[str, list[str]] = {}
        async with self._sessionmaker() as session:
            for name in TABLES:
                table = Base.metadata.tables[name]
                rows = await session.execute(select(table).order_by(*table.primary_key.columns))
                tables[name] = [repr(tuple(row)) for row in rows]
        files = frozenset(
            str(p.relative_to(self._media_dir)) for p in self._media_dir.rglob("*") if p.is_file()
        )
        return Snapshot(tables, files)

    @asynccontextmanager
    async def unchanged(self) -> AsyncIterator[None]:
        """Assert that whatever runs inside writes nothing at all."""
        before = await self.take()
        yield
        before.assert_same_as(await self.take())
