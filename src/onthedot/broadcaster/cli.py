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
from onthedot.observability.logging import configure_logging


def broadcaster(
    sandbox_url: Annotated[
        str | None,
        typer.Option(help="Where the sandbox network answers (default: /sandbox of `run`)."),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics and /healthz on this port (ONTHEDOT_METRICS_PORT)."),
    ] = None,
) -> None:
    """Publish due posts on their own process, until SIGTERM.

    On SIGTERM it stops claiming, finishes what is publishing and hands back the rest.
    """
    from sqlalchemy.exc import DBAPIError, OperationalError

    from onthedot.broadcaster.service import serve
    from onthedot.db.engine import safe_url

    overrides: dict[str, object] = {"sandbox_url": sandbox_url} if sandbox_url else {}
    if metrics_port is not None:
        overrides["metrics_port"] = metrics_port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings)
    try:
        # A log line, not a bare print: with ONTHEDOT_LOG_FORMAT=json stdout stays JSON lines.
        logging.getLogger("onthedot.broadcaster").info(
            "broadcaster publishing from %s", safe_url(settings.database_url)
        )
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
