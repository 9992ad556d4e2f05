"""For many simulated businesses, MRR and movements rebuilt from the event stream equal the
simulator's own books, month by month and plan by plan, and every bridge holds."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onthedot.revenue.events import read_lines
from onthedot.revenue.fx import rates_from_dict
from onthedot.revenue.movements import compute_movements
from onthedot.revenue.policy import Policy
from onthedot.revenue.simulate import simulate
from onthedot.revenue.state import build_ledger

KEYS = ("mrr_start", "new", "expansion", "contraction", "churn", "reactivation", "fx", "mrr_end")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    months=st.integers(1, 30),
    customers=st.integers(0, 120),
    disorder=st.integers(1, 60),
)
def test_rebuilt_movements_equal_the_simulators_books(
    seed: int, months: int, customers: int, disorder: int
) -> None:
    sim = simulate(seed, months, customers, duplicate_rate=0.03, disorder=disorder)
    assert sim.events is not None
    res = read_lines([json.dumps(e).encode() + b"\n" for e in sim.events])
    assert res.problems == []
    assert len(res.events) == sim.count
    mov = compute_movements(
        build_ledger(res.events), Policy(), rates_from_dict(sim.rates), as_of=sim.end
    )
    books = sim.books["months"]
    if sim.count == 0:
        return
    # The stream starts with the catalogue at the simulation's start, so months line up.
    assert [m.month for m in mov.months] == [b["month"] for b in books]
    for m, b in zip(mov.months, books, strict=True):
        assert m.total.as_dict() == {k: b[k] for k in KEYS}, m.month
        assert {p: r.as_dict() for p, r in m.by_plan.items()} == b["by_plan"], m.month
        assert m.total.bridge_holds()
        assert all(r.bridge_holds() for r in m.by_plan.values())
        assert m.total.churn <= 0 and m.total.contraction <= 0
        assert all(r.churn <= 0 and r.contraction <= 0 for r in m.by_plan.values())
        for k in ("mrr_start", "mrr_end", "new", "churn", "reactivation", "fx"):
            assert sum(getattr(r, k) for r in m.by_plan.values()) == getattr(m.total, k)
    for a, b in zip(mov.months, mov.months[1:], strict=False):
        assert a.total.mrr_end == b.total.mrr_start


def test_a_busy_simulation_exercises_every_kind_of_movement() -> None:
    sim = simulate(7, 24, 400)
    assert sim.events is not None
    types = {e["type"] for e in sim.events}
    assert {"customer.subscription.created", "customer.subscription.updated",
            "customer.subscription.deleted", "customer.discount.created",
            "customer.discount.deleted", "invoice.payment_failed", "invoice.paid",
            "coupon.created"} <= types  # fmt: skip
    assert {e["api_version"] for e in sim.events} == {
        "2024-06-20", "2025-03-31.basil", "2025-09-30.clover"
    }  # fmt: skip
    totals = {k: sum(m[k] for m in sim.books["months"]) for k in KEYS[1:-1]}
    assert all(v != 0 for v in totals.values()), totals


def test_delivery_order_and_redelivery_do_not_change_the_result() -> None:
    sim = simulate(11, 12, 150)
    assert sim.events is not None
    lines = [json.dumps(e).encode() + b"\n" for e in sim.events]
    shuffled = lines + random.Random(3).sample(lines, 200)
    random.Random(4).shuffle(shuffled)
    a, b = read_lines(lines), read_lines(shuffled)
    assert sorted(e.id for e in a.events) == sorted(e.id for e in b.events)
    assert [e.created for e in b.events] == sorted(e.created for e in b.events)
    assert b.duplicates == a.duplicates + 200
    rates = rates_from_dict(sim.rates)
    ma, mb = (
        compute_movements(build_ledger(r.events), Policy(), rates, as_of=sim.end) for r in (a, b)
    )
    assert [m.total for m in ma.months] == [m.total for m in mb.months]
