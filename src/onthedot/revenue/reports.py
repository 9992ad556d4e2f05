"""The four reports (MRR, movements, audit, forecast) as plain JSON-able dicts and CSV rows,
computed from ingested events; shared by the CLI and the API so both say the same thing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from onthedot.revenue import audit as audit_mod
from onthedot.revenue import forecast as forecast_mod
from onthedot.revenue.events import IngestResult
from onthedot.revenue.fx import Rates
from onthedot.revenue.movements import KINDS, Movements, compute_movements, major
from onthedot.revenue.movements import to_json as movements_json
from onthedot.revenue.mrr import Valuer, lines_at
from onthedot.revenue.normalised import Subscription
from onthedot.revenue.policy import Policy
from onthedot.revenue.state import Ledger, build_ledger

UTC = dt.UTC


@dataclass(slots=True)
class Context:
    """Everything a report is computed from."""

    ingest: IngestResult
    ledger: Ledger
    policy: Policy
    rates: Rates
    as_of: int

    @classmethod
    def build(
        cls, ingest: IngestResult, policy: Policy, rates: Rates, as_of: int | None = None
    ) -> Context:
        ledger = build_ledger(ingest.events)
        at = as_of if as_of is not None else (ledger.last or 0) + 1
        return cls(ingest, ledger, policy, rates, at)


def iso(t: int) -> str:
    return dt.datetime.fromtimestamp(t, UTC).isoformat()


def problems_json(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "line": p.line,
            "event_id": p.event_id,
            "code": p.code,
            "severity": p.severity,
            "message": p.message,
        }
        for p in ctx.ingest.problems
    ]


def mrr_report(ctx: Context) -> dict[str, Any]:
    cur = ctx.rates.reporting
    by_plan: dict[str, int] = {}
    lines = []
    for line in lines_at(ctx.ledger, ctx.as_of, ctx.policy, Valuer(ctx.policy, ctx.ledger)):
        amount = ctx.rates.convert(line.amount, line.currency, ctx.as_of)
        by_plan[line.plan] = by_plan.get(line.plan, 0) + amount
        lines.append(
            {
                "customer": line.customer,
                "subscription": line.subscription,
                "item": line.item,
                "plan": line.plan,
                "currency": line.currency.upper(),
                "mrr_local": major(line.amount, line.currency),
                "mrr": major(amount, cur),
            }
        )
    lines.sort(key=lambda x: (x["customer"], x["subscription"], x["item"]))
    return {
        "currency": cur.upper(),
        "as_of": iso(ctx.as_of),
        "mrr": major(sum(by_plan.values()), cur),
        "customers": len({x["customer"] for x in lines}),
        "by_plan": {p: major(v, cur) for p, v in sorted(by_plan.items())},
        "items": lines,
        "problems": problems_json(ctx),
    }


def movements(ctx: Context) -> Movements:
    return compute_movements(ctx.ledger, ctx.policy, ctx.rates, ctx.as_of)


def movements_report(ctx: Context, mov: Movements | None = None) -> dict[str, Any]:
    return {**movements_json(mov or movements(ctx)), "problems": problems_json(ctx)}


def movement_rows(mov: Movements) -> Iterator[dict[str, Any]]:
    """Flat rows for CSV: one per month for the total (plan "*") and one per month and plan."""
    for m in mov.months:
        for plan, row in [("*", m.total), *sorted(m.by_plan.items())]:
            yield {"month": m.month, "plan": plan,
                   **{k: major(v, mov.currency) for k, v in row.as_dict().items()}}  # fmt: skip


def audit_report(ctx: Context, snapshot: list[Subscription] | None = None) -> dict[str, Any]:
    report = audit_mod.audit(
        ctx.ingest.events, ctx.ledger, ctx.policy, ctx.rates, ctx.as_of, snapshot
    )
    return {**audit_mod.to_json(report), "problems": problems_json(ctx)}


def forecast_report(
    ctx: Context,
    target: float | None = None,
    horizon: int = 12,
    method: forecast_mod.Method = "components",
    mov: Movements | None = None,
) -> tuple[dict[str, Any], forecast_mod.Forecast]:
    from onthedot.revenue.fx import exponent

    minor_target = None
    if target is not None:
        minor_target = round(target * 10 ** exponent(ctx.rates.reporting))
    f = forecast_mod.forecast(mov or movements(ctx), horizon, minor_target, method)
    return forecast_mod.to_json(f), f


KIND_COLUMNS = ("mrr_start", *KINDS, "mrr_end")
