"""`onthedot report …`: the lateness report of one minute, as a table, JSON or a chart."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts import service as accounts_service
from onthedot.cli_support import run_unit
from onthedot.console import fail
from onthedot.errors import InvalidInput, UnknownTimezone
from onthedot.observability import lateness
from onthedot.reports import service

report_app = typer.Typer(no_args_is_help=True)


@report_app.callback()
def report() -> None:
    """Reports on how punctually posts went out."""
    # A group even with one command, so `onthedot report lateness` keeps its name when more
    # reports join it.


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


@report_app.command("lateness")
def lateness_command(
    due: Annotated[
        str,
        typer.Option(
            "--due",
            help=(
                "The minute, e.g. 2026-11-26T08:00 (wall-clock time in --tz); with an offset "
                "(2026-10-25T02:30+01:00) to pick one of a repeated hour's minutes."
            ),
        ),
    ],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone of --due.")] = "UTC",
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Only this workspace (id or name); every workspace when left out.",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = (
        Format.TABLE
    ),
    png: Annotated[
        Path | None, typer.Option("--png", help="Also draw the chart into this PNG file.")
    ] = None,
) -> None:
    """How many of the posts due in one minute went out how late, per network."""
    try:
        minute = lateness.parse_minute(due, tz)
    except UnknownTimezone as exc:
        raise typer.BadParameter(str(exc), param_hint="'--tz'") from None
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint="'--due'") from None

    async def read(session: AsyncSession) -> lateness.LatenessReport:
        workspace_id = None
        if workspace is not None:
            workspace_id = (await accounts_service.find_workspace(session, ref=workspace)).id
        return await service.lateness_report(session, minute=minute, workspace_id=workspace_id)

    report = run_unit(read)
    if png is not None:
        try:
            png.write_bytes(lateness.chart_png(report))
        except OSError as exc:
            raise fail(f"cannot write the chart to {png}: {exc}") from None
        # On stderr: with --format json, stdout is the JSON alone.
        typer.echo(f"chart written to {png}", err=True)
    if format == Format.JSON:
        typer.echo(json.dumps(lateness.to_json(report), indent=2))
    else:
        typer.echo(lateness.to_table(report))
