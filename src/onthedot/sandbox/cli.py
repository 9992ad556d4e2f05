"""`onthedot sandbox`: serve the sandbox network on its own port, configured from options.

Everything set here can be changed later through `PUT /api/v1/config`; the options only save
a request when the sandbox should start slow or flaky (for a benchmark, say).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from onthedot.sandbox.config import SandboxConfig, describe_errors

__all__ = ["config_from_options", "parse_rate_limit", "sandbox_app"]

sandbox_app = typer.Typer(
    help="Serve the sandbox: onthedot's own fake social network, for demos, tests and benchmarks.",
    subcommand_metavar="",  # one command, run by the callback: no COMMAND in the usage line
    add_completion=False,
)


class IdempotencyMode(StrEnum):
    KEY = "key"
    NONE = "none"
    BLIND = "blind"


def parse_rate_limit(value: str) -> dict[str, Any]:
    """'100/60' -> 100 requests per account in each 60-second window."""
    count, slash, window = value.partition("/")
    try:
        requests, window_s = int(count), float(window)
    except ValueError:
        requests, window_s = 0, 0.0
    if not slash or requests < 1 or not 0 < window_s < float("inf"):
        raise typer.BadParameter(
            f"{value!r}: write it as requests/seconds, for example 100/60",
            param_hint="'--rate-limit'",
        )
    return {"requests": requests, "window_s": window_s}


def config_from_options(
    *,
    latency_median_ms: float | None = None,
    latency_p99_ms: float | None = None,
    error_rate: float = 0.0,
    ghost_rate: float = 0.0,
    throttle_rate: float = 0.0,
    rate_limit: str | None = None,
    idempotency: str = "key",
    max_chars: int = 500,
    seed: int | None = None,
) -> SandboxConfig:
    """The config the options describe, or `typer.BadParameter` naming what to change."""
    latency: dict[str, Any] = {"kind": "none"}
    if latency_p99_ms is not None and latency_median_ms is None:
        raise typer.BadParameter(
            "a 99th percentile needs a median too: add --latency-median-ms",
            param_hint="'--latency-p99-ms'",
        )
    if latency_median_ms is not None:
        if latency_p99_ms is None:
            latency = {"kind": "fixed", "median_ms": latency_median_ms}
        else:
            if latency_median_ms <= 0:
                raise typer.BadParameter(
                    "a lognormal latency needs a median above 0",
                    param_hint="'--latency-median-ms'",
                )
            if latency_p99_ms < latency_median_ms:
                raise typer.BadParameter(
                    f"{latency_p99_ms:g} is below the median ({latency_median_ms:g}); the 99th "
                    "percentile must be at least the median",
                    param_hint="'--latency-p99-ms'",
                )
            latency = {
                "kind": "lognormal",
                "median_ms": latency_median_ms,
                "p99_ms": latency_p99_ms,
            }
    if error_rate + ghost_rate + throttle_rate > 1:
        raise typer.BadParameter(
            f"together they are {error_rate + ghost_rate + throttle_rate:g}; they are shares "
            "of the same requests and may not exceed 1",
            param_hint="'--error-rate' + '--ghost-rate' + '--throttle-rate'",
        )
    values: dict[str, Any] = {
        "latency": latency,
        "error_rate": error_rate,
        "ghost_rate": ghost_rate,
        "throttle_rate": throttle_rate,
        "rate_limit": parse_rate_limit(rate_limit) if rate_limit is not None else None,
        "idempotency": idempotency,
        "max_chars": max_chars,
        "seed": seed,
    }
    try:
        return SandboxConfig.model_validate(values)
    except ValidationError as exc:
        raise typer.BadParameter(describe_errors(exc)) from None


@sandbox_app.callback(invoke_without_command=True)
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8025,
    latency_median_ms: Annotated[
        float | None,
        typer.Option(help="Median answer latency; alone, every answer waits this long.", min=0),
    ] = None,
    latency_p99_ms: Annotated[
        float | None,
        typer.Option(help="99th-percentile latency; with the median, latency is lognormal.", min=0),
    ] = None,
    error_rate: Annotated[
        float, typer.Option(help="Share of posts answered 503, nothing created.", min=0, max=1)
    ] = 0.0,
    ghost_rate: Annotated[
        float,
        typer.Option(help="Share of posts created but answered 502 (a lost answer).", min=0, max=1),
    ] = 0.0,
    throttle_rate: Annotated[
        float, typer.Option(help="Share of posts answered 429, retry after 1 s.", min=0, max=1)
    ] = 0.0,
    rate_limit: Annotated[
        str | None,
        typer.Option(help="Post requests per account per window, e.g. 100/60 (per 60 s)."),
    ] = None,
    idempotency: Annotated[
        IdempotencyMode,
        typer.Option(
            help="key: Idempotency-Key deduplicates; none: no dedup, find by paging; "
            "blind: no dedup, no lookup."
        ),
    ] = IdempotencyMode.KEY,
    max_chars: Annotated[int, typer.Option(help="Longest text accepted.", min=1)] = 500,
    record: Annotated[
        Path | None,
        typer.Option(help="Append every post request to this file as JSON lines.", dir_okay=False),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for a reproducible stream of failures and latencies.")
    ] = None,
) -> None:
    """Serve the sandbox network (API, and a live timeline at /)."""
    import uvicorn

    from onthedot.sandbox.app import create_sandbox_app

    config = config_from_options(
        latency_median_ms=latency_median_ms,
        latency_p99_ms=latency_p99_ms,
        error_rate=error_rate,
        ghost_rate=ghost_rate,
        throttle_rate=throttle_rate,
        rate_limit=rate_limit,
        idempotency=idempotency.value,
        max_chars=max_chars,
        seed=seed,
    )
    try:
        application = create_sandbox_app(config, record_path=record)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {record}: {exc.strerror or exc}", param_hint="'--record'"
        ) from None
    typer.echo(f"The sandbox is running at http://{host}:{port}  (timeline: http://{host}:{port}/)")
    if record is not None:
        typer.echo(f"Recording every post request to {record}")
    # No access log: at benchmark rates, writing one line per request would be the bottleneck.
    # Idle connections are kept longer than clients keep them (httpx: 5 s), so the sandbox
    # never closes a connection just as a client sends a post on it.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
    )
