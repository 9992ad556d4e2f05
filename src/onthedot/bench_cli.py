"""`onthedot bench …`: benchmarks that live in a source checkout's `bench/` directory.

They are not part of the installed package (the wheel has no `bench/`), so the command finds
the checkout: `--bench-dir` (or ONTHEDOT_BENCH_DIR), else the working directory and its
parents, else the checkout this package was installed from in editable mode.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from onthedot.console import fail

__all__ = ["bench_app", "find_checkout"]

bench_app = typer.Typer(help="Benchmarks (from a source checkout).", no_args_is_help=True)


def find_checkout(hint: Path | None = None) -> Path | None:
    """The directory holding `bench/spike/`, or None. With `hint` (the checkout or its
    `bench/`), only there."""
    if hint is not None:
        hint = hint.resolve()
        candidates = [hint, hint.parent]
    else:
        here = Path.cwd().resolve()
        candidates = [here, *here.parents, *Path(__file__).resolve().parents]
    for candidate in candidates:
        if (candidate / "bench" / "spike" / "__init__.py").is_file():
            return candidate
    return None


@bench_app.command(
    "spike",
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "help_option_names": [],
    },
    add_help_option=False,
)
def spike(
    ctx: typer.Context,
    bench_dir: Annotated[
        Path | None,
        typer.Option(envvar="ONTHEDOT_BENCH_DIR", help="The checkout (or its bench/)."),
    ] = None,
) -> None:
    """The 08:00 spike: onthedot against the floor and other schedulers (--help for more)."""
    root = find_checkout(bench_dir)
    if root is None:
        raise fail(
            "the spike benchmark lives in onthedot's source checkout (bench/spike/), which "
            "this installation does not include: clone the repository, run the command from "
            "inside it, or point --bench-dir (ONTHEDOT_BENCH_DIR) at it"
        )
    sys.path.insert(0, str(root))
    cli = importlib.import_module("bench.spike.cli")
    raise typer.Exit(int(cli.main(list(ctx.args))))
