"""Fixtures of the end-to-end API tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.api import create_app
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from tests.e2e.helpers import DbState

# The app whose routes every e2e test reuses; see `client`.
_shared: list[FastAPI] = []


@pytest.fixture
async def client(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> AsyncIterator[httpx.AsyncClient]:
    """tests/conftest.py's `client`, made faster for suites of many short tests.

    Each test still builds its own app with `create_app` (its settings, clock, database and
    key), and requests run on that app's state. Only the routes are those of the session's
    first app: FastAPI prepares routes on their first request, about 0.2 s per app, which
    here would be paid by every test.
    """
    own = create_app(settings, clock=clock, engine=engine, box=box)
    if not _shared:
        _shared.append(own)
    app = _shared[0]
    app.state = own.state
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def state(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> DbState:
    """Snapshots of every table a request may write, and of the media dir."""
    return DbState(sessionmaker, settings.media_dir)
