"""`onthedot broadcaster`: run a broadcaster on its own, beside `onthedot run` or instead of
its built-in one (several at once on PostgreSQL)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvloop

from onthedot.config import Settings
from onthedot.console import fail
from onthedot.errors import OnTheDotError


def broadcaster(
    sandbox_url: Annotated[
        str | None,
        typer.Option(help="Where the sandbox network answers (default: /sandbox of `run`)."),
    ] = None,
) -> None:
    """Publish due posts on their own process, until SIGTERM.

    On SIGTERM it stops claiming, finishes what is publishing and hands back the rest.
    """
    from sqlalchemy.exc import DBAPIError, OperationalError

    from onthedot.broadcaster.service import serve
    from onthedot.db.engine import safe_url

    overrides = {"sandbox_url": sandbox_url} if sandbox_url else {}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per request from the HTTP client would drown the broadcaster's own lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        typer.echo(f"Broadcaster publishing from {safe_url(settings.database_url)}")
        # uvloop (installed with uvicorn) runs the event loop's I/O in C: at 08:00 the
        # broadcaster is CPU-bound, and every microsecond per call is lateness.
        uvloop.run(serve(settings))
    except OnTheDotError as exc:
        raise fail(exc.detail) from None
    except (OSError, OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise fail(
            f"cannot reach the database ({safe_url(settings.database_url)}): {reason}"
        ) from None
