"""The true books of the simulation, kept from the simulator's own state, not from its events,
with the default policy: MRR at each month boundary per customer, price and currency, and the
movements classified on the customer; and the monthly exchange rates they are converted at.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Collection
from fractions import Fraction
from typing import Any

from onthedot.revenue.sim_model import (
    DAY,
    BookState,
    SimCoupon,
    SimPrice,
    SimSub,
    add_months,
    month_label,
)

BASE_RATES = {"eur": 1.08, "gbp": 1.27, "jpy": 0.0067}


def _round(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _months_per_period(p: SimPrice) -> Fraction:
    return {
        "month": Fraction(p.interval_count),
        "year": Fraction(12 * p.interval_count),
        "week": Fraction(12 * p.interval_count, 52),
        "day": Fraction(12 * p.interval_count, 365),
    }[p.interval]


def _charge(p: SimPrice, q: int) -> int:
    if not p.tiers:
        return (p.unit_amount or 0) * q
    if p.tiers_mode == "volume":
        up, unit, flat = next(t for t in p.tiers if t[0] is None or q <= t[0])
        return unit * q + flat
    total, done = 0, 0
    for up, unit, flat in p.tiers:
        n = (q if up is None else min(q, up)) - done
        if n <= 0:
            break
        total, done = total + unit * n + flat, done + n
    return total


def book_lines(
    state: BookState,
    t: int,
    grace_days: int,
    prices: dict[str, SimPrice],
    coupons: dict[str, SimCoupon],
) -> list[tuple[str, str, int]]:
    """(price, currency, MRR) of one subscription state at `t`, under the default policy."""
    status, items, disc, since = state
    if not (
        status == "active"
        or (status == "past_due" and (since is None or t < since + grace_days * DAY))
    ):
        return []
    lic = [(prices[pid], q) for pid, q in items if not prices[pid].metered]
    amounts = [Fraction(_charge(p, q)) for p, q in lic]
    if disc is not None:
        c = coupons[disc[0]]
        live = c.duration == "forever" or (
            c.duration == "repeating" and (disc[1] is None or t < disc[1])
        )
        if live and c.percent_off is not None:
            amounts = [a * (1 - Fraction(c.percent_off) / 100) for a in amounts]
        elif live and c.amount_off is not None:
            tot = sum(amounts, Fraction(0))
            if tot > 0:
                off = min(Fraction(c.amount_off), tot)
                amounts = [a - off * a / tot for a in amounts]
    out = []
    for (p, _), a in zip(lic, amounts, strict=True):
        m = _round(a / _months_per_period(p))
        if m:
            out.append((p.id, p.currency, m))
    return out


def rate_table(rng: random.Random, start: int, months: int) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for cur, base in BASE_RATES.items():
        r = base
        table[cur] = {}
        for m in range(months + 1):
            r *= math.exp(rng.gauss(0, 0.015))
            digits = 6 if base < 0.1 else 4
            table[cur][month_label(add_months(start, m))] = f"{r:.{digits}f}"
    return table


def _convert(amount: int, cur: str, month: str, table: dict[str, dict[str, str]]) -> int:
    if cur == "usd":
        return amount
    shift = 2 - (0 if cur == "jpy" else 2)
    return _round(amount * Fraction(table[cur][month]) * 10**shift)


def books(
    subs: Collection[SimSub],
    start: int,
    months: int,
    table: dict[str, dict[str, str]],
    *,
    grace_days: int,
    prices: dict[str, SimPrice],
    coupons: dict[str, SimCoupon],
) -> dict[str, Any]:
    """Each month's MRR movements, in USD minor units, overall and by plan."""
    bounds = [add_months(start, m) for m in range(months + 1)]
    times = {s.id: [h[0] for h in s.history] for s in subs}

    def snap(t: int) -> dict[str, dict[tuple[str, str], int]]:
        out: dict[str, dict[tuple[str, str], int]] = {}
        for s in subs:
            i = bisect.bisect_left(times[s.id], t) - 1
            if i < 0:
                continue
            state = s.history[i][1]
            for pid, cur, amt in book_lines(state, t, grace_days, prices, coupons):
                parts = out.setdefault(s.customer, {})
                parts[(pid, cur)] = parts.get((pid, cur), 0) + amt
        return out

    keys = (
        "mrr_start",
        "new",
        "expansion",
        "contraction",
        "churn",
        "reactivation",
        "fx",
        "mrr_end",
    )
    rows = []
    ever: set[str] = set()
    prev = snap(bounds[0])
    for m in range(months):
        ta, tb = bounds[m], bounds[m + 1]
        la, lb = month_label(ta), month_label(tb)
        cur = snap(tb)
        total = dict.fromkeys(keys, 0)
        by_plan: dict[str, dict[str, int]] = {}
        for c in sorted(prev.keys() | cur.keys()):
            s_p: dict[str, int] = {}
            ea: dict[str, int] = {}
            eb: dict[str, int] = {}
            for (pid, cc), a in prev.get(c, {}).items():
                s_p[pid] = s_p.get(pid, 0) + _convert(a, cc, la, table)
            for (pid, cc), a in cur.get(c, {}).items():
                ea[pid] = ea.get(pid, 0) + _convert(a, cc, la, table)
                eb[pid] = eb.get(pid, 0) + _convert(a, cc, lb, table)
            st, et = sum(s_p.values()), sum(ea.values())
            kind = (
                ("reactivation" if c in ever else "new")
                if st == 0 and et > 0
                else "churn"
                if et == 0 and st > 0
                else "expansion"
                if et >= st
                else "contraction"
            )
            for pid in s_p.keys() | eb.keys():
                row = by_plan.setdefault(pid, dict.fromkeys(keys, 0))
                delta = ea.get(pid, 0) - s_p.get(pid, 0)
                plan_kind = kind
                if kind in ("expansion", "contraction") and delta:
                    plan_kind = "expansion" if delta > 0 else "contraction"
                for target, k in ((row, plan_kind), (total, kind)):
                    target["mrr_start"] += s_p.get(pid, 0)
                    target["mrr_end"] += eb.get(pid, 0)
                    target[k] += delta
                    target["fx"] += eb.get(pid, 0) - ea.get(pid, 0)
            if et > 0 or sum(eb.values()) > 0:
                ever.add(c)
        rows.append({"month": la, **total, "by_plan": dict(sorted(by_plan.items()))})
        prev = cur
    return {"currency": "usd", "unit": "minor", "months": rows}
