"""What the command-line modules share: running work against the configured database, and
acting as a workspace's owner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from onthedot.accounts import queries as accounts_queries
from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Role, Workspace
from onthedot.accounts.service import Member
from onthedot.config import Settings
from onthedot.console import fail
from onthedot.db.engine import create_engine, create_sessionmaker, safe_url
from onthedot.errors import InvalidInput, NotFound, OnTheDotError

T = TypeVar("T")

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="ONTHEDOT_WORKSPACE",
        help="Workspace id or name (optional when there is only one).",
    ),
]


def run_engine(work: Callable[[AsyncEngine], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run `work` with an engine on the configured database; errors print one line."""
    settings = settings or Settings()

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except OnTheDotError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(
            f"cannot reach the database ({safe_url(settings.database_url)}): {exc}"
        ) from None


def run_unit(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in one transaction against the configured database."""

    async def in_transaction(engine: AsyncEngine) -> T:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await work(session)

    return run_engine(in_transaction)


async def owner_of(session: AsyncSession, ref: str | None) -> Member:
    """The CLI acts as the workspace's first owner."""
    if ref is None:
        workspaces = (
            await session.scalars(select(Workspace).order_by(Workspace.id).limit(2))
        ).all()
        if not workspaces:
            raise NotFound("there is no workspace yet; create one with `onthedot workspace create`")
        if len(workspaces) > 1:
            raise InvalidInput("there are several workspaces; say which with --workspace")
        workspace = workspaces[0]
    else:
        workspace = await accounts_service.find_workspace(session, ref=ref)
    owner = await session.scalar(accounts_queries.first_owner(workspace_id=workspace.id))
    if owner is None:
        raise NotFound(f"workspace {workspace.id} has no owner")
    return Member(user_id=owner.user_id, workspace_id=workspace.id, role=Role.OWNER)
