"""What every `onthedot` command prints: plain tables, and errors as one line and exit 1."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec

import typer

from onthedot.errors import OnTheDotError

P = ParamSpec("P")


def fail(message: str) -> typer.Exit:
    """Print the error on one line; the caller raises the returned Exit."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def one_line_errors(
    *errors: type[Exception],
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Turn the onthedot errors (and `errors`) a command raises into `fail(...)`."""

    caught: tuple[type[Exception], ...] = (OnTheDotError, *errors)

    def decorate(command: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                command(*args, **kwargs)
            except caught as exc:
                raise fail(str(exc)) from None

        return run

    return decorate


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, numbers: bool = False
) -> str:
    """Columns padded to their widest cell. With `numbers`, floats show as 1,234.56 and every
    column is right-aligned, so figures line up."""

    def cell(value: object) -> str:
        return f"{value:,.2f}" if numbers and isinstance(value, float) else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if numbers else v.ljust(w) for v, w in zip(values, widths, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)])
