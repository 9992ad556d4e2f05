"""Why MRR moved: new business, expansion, contraction, churn, reactivation (and exchange rates),
per month and per plan, such that MRR at the start + movements = MRR at the end, exactly.

MRR is measured at month boundaries. A customer's movement in a month is classified on the
customer as a whole, not per subscription: from nothing to something is new business (or
reactivation, if the customer had MRR at an earlier boundary), from something to nothing is churn,
and any other change is one expansion or one contraction, however many subscriptions or plans it
involved. In `by_plan`, a customer's change in each plan is new business, churn or reactivation
when the customer as a whole is; for a continuing customer it is expansion where the plan gained and
contraction where it lost. So a $10 → $30 plan switch is one expansion of $20 in the total and, by
plan, a contraction of $10 in the old plan and an expansion of $30 in the new: churn and contraction
are always negative, every plan's bridge holds, and the plans add up to the total in every column
but expansion and contraction, which add up only together.

Movements are valued at the rates of the month's start; what the change in rates does to the
month-end MRR is the `fx` row. All arithmetic is in integer minor units of the reporting
currency, so the bridge is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from onthedot.revenue.events import paused_gc
from onthedot.revenue.fx import Rates, exponent, month_start
from onthedot.revenue.mrr import Snapshot, Valuer, snapshot
from onthedot.revenue.policy import Policy
from onthedot.revenue.state import Ledger

KINDS = ("new", "expansion", "contraction", "churn", "reactivation", "fx")
UTC = dt.UTC


@dataclass(slots=True)
class Row:
    mrr_start: int = 0
    new: int = 0
    expansion: int = 0
    contraction: int = 0
    churn: int = 0
    reactivation: int = 0
    fx: int = 0
    mrr_end: int = 0

    def add(self, kind: str, amount: int) -> None:
        setattr(self, kind, getattr(self, kind) + amount)

    def bridge_holds(self) -> bool:
        moved: int = sum(getattr(self, k) for k in KINDS)
        return self.mrr_start + moved == self.mrr_end

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("mrr_start", *KINDS, "mrr_end")}


@dataclass(slots=True)
class Month:
    month: str  # YYYY-MM
    start: int
    end: int  # the next month's start, or the as-of instant for the last, partial month
    total: Row = field(default_factory=Row)
    by_plan: dict[str, Row] = field(default_factory=dict)


@dataclass(slots=True)
class Movements:
    currency: str
    months: list[Month]


def month_bounds(first: int, as_of: int) -> Iterator[tuple[str, int, int]]:
    t = month_start(first)
    while t < as_of:
        d = dt.datetime.fromtimestamp(t, UTC)
        nxt = int(
            dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC).timestamp()
        )
        yield f"{d.year:04d}-{d.month:02d}", t, min(nxt, as_of)
        t = nxt


def _by_plan(parts: dict[tuple[str, str], int], rates: Rates, t: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for (plan, cur), amount in parts.items():
        out[plan] = out.get(plan, 0) + rates.convert(amount, cur, t)
    return out


def classify(
    start: Snapshot, end: Snapshot, ta: int, tb: int, rates: Rates, ever: set[str], month: Month
) -> None:
    """Add the movements between two snapshots to `month`; update `ever` (customers who have had
    MRR at a boundary so far)."""
    empty: dict[tuple[str, str], int] = {}
    for customer in start.keys() | end.keys():
        s = _by_plan(start.get(customer, empty), rates, ta)
        e_parts = end.get(customer, empty)
        ea = _by_plan(e_parts, rates, ta)  # end at the start's rates: the real movement
        eb = _by_plan(e_parts, rates, tb)  # end at the end's rates
        s_tot, ea_tot = sum(s.values()), sum(ea.values())
        if s_tot == 0 and ea_tot > 0:
            kind = "reactivation" if customer in ever else "new"
        elif s_tot > 0 and ea_tot == 0:
            kind = "churn"
        else:
            kind = "expansion" if ea_tot >= s_tot else "contraction"
        for plan in s.keys() | eb.keys():
            row = month.by_plan.get(plan)
            if row is None:
                row = month.by_plan[plan] = Row()
            sp, eap, ebp = s.get(plan, 0), ea.get(plan, 0), eb.get(plan, 0)
            row.mrr_start += sp
            row.mrr_end += ebp
            if eap != sp:
                plan_kind = kind
                if kind in ("expansion", "contraction"):
                    plan_kind = "expansion" if eap > sp else "contraction"
                row.add(plan_kind, eap - sp)
                month.total.add(kind, eap - sp)
            if ebp != eap:
                row.fx += ebp - eap
                month.total.fx += ebp - eap
            month.total.mrr_start += sp
            month.total.mrr_end += ebp
        if ea_tot > 0 or sum(eb.values()) > 0:
            ever.add(customer)


def compute_movements(
    ledger: Ledger, policy: Policy, rates: Rates, as_of: int | None = None
) -> Movements:
    """Movements for every month from the first event to `as_of` (default: just after the last
    event); the last month ends at `as_of` when that is not a month start."""
    with paused_gc():
        return _compute(ledger, policy, rates, as_of)


def _compute(ledger: Ledger, policy: Policy, rates: Rates, as_of: int | None) -> Movements:
    months: list[Month] = []
    if ledger.first is None or ledger.last is None:
        return Movements(rates.reporting, months)
    end_at = as_of if as_of is not None else ledger.last + 1
    bounds = list(month_bounds(ledger.first, end_at))
    if not bounds:
        return Movements(rates.reporting, months)
    valuer = Valuer(policy, ledger)
    prev = snapshot(ledger, bounds[0][1], policy, valuer)
    ever = {c for c, parts in prev.items() if any(parts.values())}
    for label, ta, tb in bounds:
        cur = snapshot(ledger, tb, policy, valuer)
        month = Month(label, ta, tb)
        classify(prev, cur, ta, tb, rates, ever, month)
        months.append(month)
        prev = cur
    return Movements(rates.reporting, months)


def major(amount: int, currency: str) -> float:
    """Minor units to the currency's major unit, rounded to its minor unit (cents)."""
    e = exponent(currency)
    return float(round(amount / 10**e, e))


def to_json(mov: Movements) -> dict[str, Any]:
    def conv(row: Row) -> dict[str, float]:
        return {k: major(v, mov.currency) for k, v in row.as_dict().items()}

    return {
        "currency": mov.currency.upper(),
        "months": [
            {
                "month": m.month,
                **conv(m.total),
                "by_plan": {p: conv(r) for p, r in sorted(m.by_plan.items())},
            }
            for m in mov.months
        ],
    }
