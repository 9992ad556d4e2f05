"""`onthedot revenue …`: MRR, movements, audit, forecast and backtest from a Stripe events export,
and the simulator. Problems with the input are printed to stderr, one line each, naming the line;
everything readable is still used."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from onthedot.console import one_line_errors, table
from onthedot.errors import InvalidInput
from onthedot.revenue import charts, reports
from onthedot.revenue import forecast as forecast_mod
from onthedot.revenue.audit import read_snapshot
from onthedot.revenue.events import ShapeError, load_file
from onthedot.revenue.fx import Rates, load_rates
from onthedot.revenue.movements import major
from onthedot.revenue.policy import Policy
from onthedot.revenue.simulate import simulate as run_simulation

app = typer.Typer(help="Revenue analytics from Stripe events.", no_args_is_help=True)

EventsOpt = Annotated[
    Path, typer.Option("--events", "-e", help="Stripe events, one JSON object per line.")
]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]
RatesOpt = Annotated[
    Path | None,
    typer.Option("--rates", help='Exchange rates JSON: {"rates": {"eur": {"2024-01": "1.09"}}}.'),
]
CurrencyOpt = Annotated[str | None, typer.Option("--currency", help="Reporting currency.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Report up to this instant (ISO date or time, UTC)."),
]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="A JSON file of policy settings.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="One policy setting, e.g. --set past_due_grace_days=14."),
]
PngOpt = Annotated[Path | None, typer.Option("--png", help="Also write a chart to this file.")]
SnapshotOpt = Annotated[
    Path | None,
    typer.Option("--snapshot", help="Stripe's list of subscriptions now (list API JSON)."),
]


def _policy(path: Path | None, sets: list[str] | None, currency: str | None) -> Policy:
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read policy {path}: {exc}") from exc
    for item in sets or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise InvalidInput(f"--set {item!r}: write it as key=value")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw  # a bare word: a string
    if currency:
        values["reporting_currency"] = currency
    try:
        return Policy(**values)
    except ValueError as exc:
        raise InvalidInput(f"invalid policy: {exc}") from exc


def _as_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        d = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"--as-of {value!r} is not an ISO date or time") from exc
    return int((d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp())


def _context(
    events: Path,
    rates: Path | None,
    currency: str | None,
    as_of: str | None,
    policy: Path | None,
    sets: list[str] | None,
) -> reports.Context:
    pol = _policy(policy, sets, currency)
    table = load_rates(rates, pol.reporting_currency) if rates else Rates(pol.reporting_currency)
    if not events.exists():
        raise InvalidInput(f"no such events file: {events}")
    res = load_file(events)
    shown = res.problems[:50]
    for p in shown:
        typer.echo(f"{events}: {p}", err=True)
    if len(res.problems) > len(shown):
        typer.echo(f"… and {len(res.problems) - len(shown)} more problems", err=True)
    if res.duplicates:
        typer.echo(f"{res.duplicates} duplicate deliveries ignored", err=True)
    return reports.Context.build(res, pol, table, _as_of(as_of))


def _emit(fmt: str, payload: dict[str, Any], rows: Iterable[dict[str, Any]], table: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(payload, indent=2))
    elif fmt == "csv":
        rows = list(rows)
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    elif fmt == "table":
        typer.echo(table)
    else:
        raise InvalidInput(f"--format {fmt!r}: use table, json or csv")


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing)"
    cols = list(rows[0])
    return table(cols, [[r[c] for c in cols] for r in rows], numbers=True)


@app.command()
@one_line_errors(ShapeError)
def mrr(
    events: EventsOpt,
    fmt: FormatOpt = "table",
    rates: RatesOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
) -> None:
    """MRR now (or --as-of), by plan, customer and subscription item."""
    ctx = _context(events, rates, currency, as_of, policy, set_)
    rep = reports.mrr_report(ctx)
    plans = [{"plan": p, "mrr": v} for p, v in rep["by_plan"].items()]
    text = _table([*plans, {"plan": "TOTAL", "mrr": rep["mrr"]}])
    text = f"MRR as of {rep['as_of']} ({rep['currency']}), {rep['customers']} customers\n{text}"
    _emit(fmt, rep, rep["items"], text)


@app.command()
@one_line_errors(ShapeError)
def movements(
    events: EventsOpt,
    fmt: FormatOpt = "table",
    rates: RatesOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
    png: PngOpt = None,
) -> None:
    """MRR movements per month (new, expansion, contraction, churn, reactivation, fx)."""
    ctx = _context(events, rates, currency, as_of, policy, set_)
    mov = reports.movements(ctx)
    rep = reports.movements_report(ctx, mov)
    rows = list(reports.movement_rows(mov))
    _emit(fmt, rep, rows, _table([r for r in rows if r["plan"] == "*"]))
    if png:
        png.write_bytes(charts.movements_png(mov))


@app.command()
@one_line_errors(ShapeError)
def audit(
    events: EventsOpt,
    snapshot: SnapshotOpt = None,
    fmt: FormatOpt = "table",
    rates: RatesOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
) -> None:
    """Missing or contradictory events, each with its MRR impact."""
    ctx = _context(events, rates, currency, as_of, policy, set_)
    snap = None
    if snapshot is not None:
        try:
            snap = read_snapshot(json.loads(snapshot.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read snapshot {snapshot}: {exc}") from exc
    rep = reports.audit_report(ctx, snap)
    rows = [{k: f[k] for k in ("at", "check", "customer", "subscription", "mrr_impact",
                                "current", "detail")} for f in rep["findings"]]  # fmt: skip
    head = (
        f"{len(rows)} findings over {rep['events_checked']} subscription events; MRR as of "
        f"{rep['as_of']} over-reported by {rep['mrr_overreported']:,.2f} {rep['currency']}"
    )
    short = [{**r, "detail": r["detail"][:80]} for r in rows]
    _emit(fmt, rep, rows, head + ("\n" + _table(short) if rows else ""))


@app.command()
@one_line_errors(ShapeError)
def forecast(
    events: EventsOpt,
    target: Annotated[
        float | None, typer.Option("--target", help="MRR target (major units).")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=60)] = 12,
    method: Annotated[str, typer.Option("--method", help="components or ets.")] = "components",
    fmt: FormatOpt = "table",
    rates: RatesOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
    png: PngOpt = None,
) -> None:
    """MRR forecast with 80% and 95% intervals, and when a target is crossed."""
    if method not in ("components", "ets"):
        raise InvalidInput("--method: components or ets")
    ctx = _context(events, rates, currency, as_of, policy, set_)
    rep, f = reports.forecast_report(ctx, target, horizon, method)  # type: ignore[arg-type]
    rows = [
        {"month": p["month"], "p50": p["p50"], "lo80": p["interval80"][0],
         "hi80": p["interval80"][1], "lo95": p["interval95"][0], "hi95": p["interval95"][1],
         **({"p_cross": p["p_cross"]} if "p_cross" in p else {})}
        for p in rep["forecast"]
    ]  # fmt: skip
    text = _table(rows)
    if "crossing" in rep:
        c = rep["crossing"]
        never = "not within the horizon"
        what = (
            f"reaching {rep['target']:,.2f}"
            if rep["direction"] == "rise"
            else f"MRR is at or above {rep['target']:,.2f}; falling below it"
        )
        text += (
            f"\n{what}: 10% chance by {c['p10'] or never}, "
            f"50% by {c['p50'] or never}, 90% by {c['p90'] or never}"
        )
    _emit(fmt, rep, rows, text)
    if png:
        png.write_bytes(charts.forecast_png(f))


@app.command()
@one_line_errors(ShapeError)
def backtest(
    events: EventsOpt,
    horizon: Annotated[int, typer.Option("--horizon", min=1, max=24)] = 12,
    method: Annotated[str, typer.Option("--method", help="components or ets.")] = "components",
    min_train: Annotated[int, typer.Option("--min-train", min=3)] = 6,
    fmt: FormatOpt = "table",
    rates: RatesOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
) -> None:
    """Rolling-origin backtest: interval coverage and error of the forecast."""
    if method not in ("components", "ets"):
        raise InvalidInput("--method: components or ets")
    ctx = _context(events, rates, currency, as_of, policy, set_)
    b = forecast_mod.backtest(
        reports.movements(ctx),
        horizon,
        method,  # type: ignore[arg-type]
        min_train,
    )
    rep = forecast_mod.backtest_json(b)
    text = (
        f"{b.origins} origins; 80% intervals held {b.coverage80:.0%} of outcomes, 95% held "
        f"{b.coverage95:.0%}; median error {b.mape:.1f}%\n" + _table(rep["by_horizon"])
    )
    _emit(fmt, rep, rep["by_horizon"], text)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the events.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    months: Annotated[int, typer.Option("--months", min=1, max=120)] = 24,
    customers: Annotated[int, typer.Option("--customers", min=0)] = 500,
) -> None:
    """Write a realistic Stripe event stream and its true books (FILE.books.json), exchange
    rates (FILE.rates.json) and final list of subscriptions (FILE.snapshot.json)."""
    r = run_simulation(seed, months, customers, out=out, keep_events=False)
    last = r.books["months"][-1] if r.books["months"] else None
    typer.echo(f"wrote {r.count:,} events to {out}")
    if last:
        typer.echo(f"true MRR at the end: {major(last['mrr_end'], 'usd'):,.2f} USD")
    typer.echo(
        f"beside it: {out}.books.json (the true books), {out}.rates.json and "
        f"{out}.snapshot.json. Try: onthedot revenue movements --events {out} "
        f"--rates {out}.rates.json"
    )
