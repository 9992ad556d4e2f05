"""Command-line connection of network accounts, credential renewal, and engagement."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.channels import connect as connect_service
from onthedot.channels.credentials import refresh_expiring
from onthedot.cli_support import WorkspaceOpt, owner_of, run_engine
from onthedot.clock import SystemClock
from onthedot.config import Settings
from onthedot.console import table
from onthedot.crypto import credential_box
from onthedot.db.engine import create_sessionmaker
from onthedot.errors import InvalidInput
from onthedot.networks import Network
from onthedot.networks.registry import REAL_NETWORKS
from onthedot.posts import engagement as engagement_service

__all__ = ["connect", "engagement", "refresh_credentials"]


def _options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--option takes NAME=VALUE, not {pair!r}")
        options[name.strip()] = value
    return options


def _query_of(address: str) -> dict[str, str]:
    query = dict(parse_qsl(urlsplit(address.strip()).query))
    if "state" not in query:
        raise InvalidInput(
            "that address has no state in it: paste the whole address the network sent you "
            "to, starting with http"
        )
    return query


def connect(
    network: Annotated[Network, typer.Argument(help="The network to connect an account of.")],
    tz: Annotated[str, typer.Option("--tz", help="The channel's IANA time zone.")],
    schedule: Annotated[
        str, typer.Option(help='Posting times, e.g. "Mon–Fri 08:00, 12:30; Sat 10:00".')
    ] = "",
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="NAME=VALUE, repeatable: instance=https://… (Mastodon), identifier=… and "
            "app_password=… (Bluesky), page_id=… (Facebook).",
        ),
    ] = None,
    redirected_to: Annotated[
        str | None,
        typer.Option(
            help="The address the network sent you back to, if you have it already; "
            "otherwise you are asked for it."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Connect a network account as a channel (again: renews its access)."""
    if network not in REAL_NETWORKS:
        raise typer.BadParameter(f"{network.value} accounts are added with `channel add`")
    settings = Settings()
    options = _options(option or [])

    async def work(engine: AsyncEngine) -> str:
        from onthedot.broadcaster.service import build_networks

        clock, box = SystemClock(), credential_box(settings)
        sessions = create_sessionmaker(engine)
        networks = build_networks(settings, engine=engine, clock=clock, box=box)
        try:
            connector = networks.connector(network)
            if connector.flow == "password":
                async with sessions() as session, session.begin():
                    member = await owner_of(session, workspace)
                    channel = await connect_service.login(
                        session,
                        member=member,
                        connector=connector,
                        options=options,
                        timezone=tz,
                        schedule=schedule,
                        box=box,
                        settings=settings,
                        now=clock.now(),
                    )
                    return f"channel {channel.id} connected: {channel.handle}"
            async with sessions() as session, session.begin():
                member = await owner_of(session, workspace)
                url = await connect_service.start(
                    session,
                    member=member,
                    connector=connector,
                    redirect_uri=networks.context.redirect_uri(network),
                    options=options,
                    timezone=tz,
                    schedule=schedule,
                    box=box,
                    now=clock.now(),
                )
            address = redirected_to
            if address is None:
                typer.echo(f"Open this address and allow onthedot access:\n\n  {url}\n")
                address = typer.prompt(
                    f"{network.value} then sends you to {networks.context.redirect_uri(network)}"
                    "?…; paste that whole address here"
                )
            query = _query_of(address)
            async with sessions() as session, session.begin():
                channel = await connect_service.finish(
                    session,
                    connector=connector,
                    state=query["state"],
                    query=query,
                    box=box,
                    settings=settings,
                    now=clock.now(),
                )
                return f"channel {channel.id} connected: {channel.handle}"
        finally:
            await networks.aclose()

    typer.echo(run_engine(work, settings))


def refresh_credentials() -> None:
    """Renew the access of every channel whose tokens expire within three days."""
    settings = Settings()

    async def work(engine: AsyncEngine) -> str:
        from onthedot.broadcaster.service import build_networks

        clock, box = SystemClock(), credential_box(settings)
        networks = build_networks(settings, engine=engine, clock=clock, box=box)
        try:
            report = await refresh_expiring(
                create_sessionmaker(engine),
                adapters=networks.adapters(),
                box=box,
                clock=clock,
                store=networks.context.store,
            )
        finally:
            await networks.aclose()
        lines = [f"renewed: {len(report.refreshed)} channel(s)"]
        if report.revoked:
            lines.append("paused, to reconnect: " + ", ".join(str(i) for i in report.revoked))
        if report.failed:
            lines.append(
                "not reached, tried again later: " + ", ".join(str(i) for i in report.failed)
            )
        return "\n".join(lines)

    typer.echo(run_engine(work, settings))


def engagement(
    post_id: Annotated[int, typer.Argument(help="The post.")], workspace: WorkspaceOpt = None
) -> None:
    """A sent post's likes, reposts and replies, read from its network now."""
    settings = Settings()

    async def work(engine: AsyncEngine) -> list[list[Any]]:
        from onthedot.broadcaster.service import build_networks

        clock, box = SystemClock(), credential_box(settings)
        networks = build_networks(settings, engine=engine, clock=clock, box=box)
        try:
            async with create_sessionmaker(engine)() as session:
                member = await owner_of(session, workspace)
                rows = await engagement_service.fetch(
                    session, member=member, post_id=post_id, networks=networks, box=box
                )
        finally:
            await networks.aclose()
        return [_engagement_row(row) for row in rows]

    rows = run_engine(work, settings)
    typer.echo(table(["item", "where", "likes", "reposts", "replies", "clicks", "note"], rows))


def _engagement_row(row: engagement_service.ItemEngagement) -> list[Any]:
    figures = row.engagement
    values = (
        (figures.likes, figures.reposts, figures.replies, figures.clicks)
        if figures is not None
        else (None, None, None, None)
    )
    return [
        row.position,
        row.url or row.network_id,
        *("-" if value is None else value for value in values),
        row.error or "",
    ]
