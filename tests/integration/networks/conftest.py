"""`open_stage`: the real broadcaster over a network's contract fake (see stage.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.clock import FrozenClock
from onthedot.crypto import CredentialBox
from tests.conftest import Team
from tests.integration.broadcaster.conftest import Ledger, Maker
from tests.integration.networks.stage import OpenStage, Setup, Stage, staged


@pytest.fixture
async def open_stage(
    sessionmaker: Maker, engine: AsyncEngine, clock: FrozenClock, team: Team, box: CredentialBox
) -> AsyncIterator[OpenStage]:
    """Open stages that are taken down (broadcaster stopped, client closed) after the test."""
    ledger = Ledger(sessionmaker, engine, clock, team)
    async with AsyncExitStack() as stack:

        async def open_(setup: Setup[Any]) -> Stage[Any]:
            return await stack.enter_async_context(staged(ledger, box, setup))

        yield open_
