"""FastAPI dependencies shared by every router: settings, clock, session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.accounts import service as accounts_service
from onthedot.accounts.service import Member
from onthedot.clock import Clock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.errors import AuthenticationFailed
from onthedot.networks.runtime import Networks


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_networks(request: Request) -> Networks:
    networks: Networks = request.app.state.networks
    return networks


def get_box(request: Request) -> CredentialBox | None:
    box: CredentialBox | None = request.app.state.box
    return box


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed when the handler returns and before the
    response is sent (scope="function"), rolled back if it raises: a failed request writes
    nothing, and a success is only reported once it is stored."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
BoxDep = Annotated["CredentialBox | None", Depends(get_box)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NetworksDep = Annotated[Networks, Depends(get_networks)]


async def get_member(request: Request, session: SessionDep, clock: ClockDep) -> Member:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "send your API token as `Authorization: Bearer odt_…`; create one with "
            "`onthedot token create`"
        )
    return await accounts_service.authenticate(session, token=token.strip(), now=clock.now())


MemberDep = Annotated[Member, Depends(get_member)]
