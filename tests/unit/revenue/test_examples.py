"""Hand-worked MRR and movement cases, many from billing vendors' published examples, each with
its events written out."""

from __future__ import annotations

from typing import Any

import pytest

from onthedot.revenue.fx import Rates, rates_from_dict
from onthedot.revenue.movements import Movements, compute_movements
from onthedot.revenue.mrr import snapshot, total
from onthedot.revenue.policy import Policy
from onthedot.revenue.state import build_ledger

from .factory import BASIL, CLOVER, coupon, event, ingest, price, sub, ts

USD = Rates("usd")


def run(
    events: list[dict[str, Any]],
    as_of: int = ts(2024, 3, 1),
    policy: Policy | None = None,
    rates: Rates = USD,
) -> Movements:
    res = ingest(events)
    assert [p for p in res.problems if p.severity == "error"] == []
    return compute_movements(build_ledger(res.events), policy or Policy(), rates, as_of)


def mrr_now(events: list[dict[str, Any]], t: int, policy: Policy | None = None) -> int:
    led = build_ledger(ingest(events).events)
    return total(snapshot(led, t, policy or Policy()), USD, t)


def month(mov: Movements, label: str) -> dict[str, int]:
    m = next(m for m in mov.months if m.month == label)
    assert m.total.bridge_holds()
    return m.total.as_dict()


def created(obj: dict[str, Any], t: int = ts(2024, 1, 15), version: str = "2024-06-20") -> Any:
    return event("customer.subscription.created", t, obj, version=version)


def test_yearly_four_seats_2000_is_166_67_new_mrr() -> None:
    yearly_seat = price("price_team_y", 50_000, "year")
    mov = run([created(sub(items=[(yearly_seat, 4)], end=ts(2025, 1, 15)))])
    assert month(mov, "2024-01")["new"] == 16_667
    assert month(mov, "2024-02") == {**month(mov, "2024-02"), "mrr_start": 16_667, "new": 0}


def test_120_yearly_is_10_a_month() -> None:
    assert (
        mrr_now([created(sub(items=[(price(amount=12_000, interval="year"), 1)]))], ts(2024, 2, 1))
        == 1000
    )


def test_50_percent_forever_coupon_on_10_is_5() -> None:
    c = coupon("co_half", "forever", percent_off=50.0)
    d = {"id": "di_1", "object": "discount", "coupon": c, "start": ts(2024, 1, 15), "end": None}
    assert mrr_now([created(sub(discount=d))], ts(2024, 2, 1)) == 500


def test_quarterly_weekly_and_daily_normalise_to_a_month() -> None:
    quarterly = price("p_q", 30_000, "month", count=3)
    weekly = price("p_w", 1000, "week")
    daily = price("p_d", 100, "day")
    assert mrr_now([created(sub(items=[(quarterly, 1)]))], ts(2024, 2, 1)) == 10_000
    assert mrr_now([created(sub(items=[(weekly, 1)]))], ts(2024, 2, 1)) == 4333  # × 52 / 12
    assert mrr_now([created(sub(items=[(daily, 1)]))], ts(2024, 2, 1)) == 3042  # × 365 / 12
    policy = Policy(weeks_per_year="52.1775")
    assert mrr_now([created(sub(items=[(weekly, 1)]))], ts(2024, 2, 1), policy) == 4348


def test_graduated_and_volume_tiers() -> None:
    tiers = [{"up_to": 5, "unit_amount": 500, "flat_amount": None},
             {"up_to": 10, "unit_amount": 400, "flat_amount": None},
             {"up_to": "inf", "unit_amount": 300, "flat_amount": 1000}]  # fmt: skip
    graduated = price("p_g", None, billing_scheme="tiered", tiers_mode="graduated", tiers=tiers)
    volume = price("p_v", None, billing_scheme="tiered", tiers_mode="volume", tiers=tiers)
    # 8 units graduated: 5 × $5 + 3 × $4 = $37; volume: all 8 at $4 = $32.
    assert mrr_now([created(sub(items=[(graduated, 8)]))], ts(2024, 2, 1)) == 3700
    assert mrr_now([created(sub(items=[(volume, 8)]))], ts(2024, 2, 1)) == 3200
    # 12 units: graduated 25 + 20 + 2 × 3 + 10 flat = $61; volume 12 × $3 + $10 = $46.
    assert mrr_now([created(sub(items=[(graduated, 12)]))], ts(2024, 2, 1)) == 6100
    assert mrr_now([created(sub(items=[(volume, 12)]))], ts(2024, 2, 1)) == 4600


def test_transform_quantity_rounds_packages() -> None:
    pack = price("p_pack", 1000, transform_quantity={"divide_by": 10, "round": "up"})
    assert mrr_now([created(sub(items=[(pack, 11)]))], ts(2024, 2, 1)) == 2000


def test_metered_prices_are_excluded_and_trials_count_at_conversion() -> None:
    metered = price("p_m", 5)
    metered["recurring"]["usage_type"] = "metered"
    trial = sub(items=[(price(), 1), (metered, 1)], status="trialing", end=ts(2024, 1, 29))
    converted = sub(items=[(price(), 1), (metered, 1)], start=ts(2024, 2, 10), end=ts(2024, 3, 10))
    mov = run(
        [
            created(trial),
            event(
                "customer.subscription.updated", ts(2024, 2, 10), converted, {"status": "trialing"}
            ),
        ],
        as_of=ts(2024, 4, 1),
    )
    assert month(mov, "2024-01")["new"] == 0
    assert month(mov, "2024-02")["new"] == 1000
    with_trials = run([created(trial)], policy=Policy(count_trials=True))
    assert month(with_trials, "2024-01")["new"] == 1000


def test_repeating_coupon_ends_after_its_months_and_that_is_expansion() -> None:
    c = coupon("co_3m", "repeating", percent_off=25.0, duration_in_months=3)
    start = ts(2024, 1, 15)
    d = {"id": "di_1", "object": "discount", "coupon": c, "start": start, "end": ts(2024, 4, 15)}
    mov = run([created(sub(items=[(price(amount=10_000), 1)], discount=d))], as_of=ts(2024, 6, 1))
    assert month(mov, "2024-01")["new"] == 7500
    assert month(mov, "2024-04")["expansion"] == 2500
    assert month(mov, "2024-05")["mrr_end"] == 10_000


def test_once_coupon_is_ignored_by_default_and_can_be_applied() -> None:
    c = coupon("co_once", "once", percent_off=20.0)
    d = {"id": "di_1", "object": "discount", "coupon": c, "start": ts(2024, 1, 15), "end": None}
    events = [created(sub(discount=d))]
    assert mrr_now(events, ts(2024, 2, 1)) == 1000
    assert mrr_now(events, ts(2024, 2, 1), Policy(once_discounts="apply")) == 800
    assert mrr_now(events, ts(2024, 2, 1), Policy(apply_discounts=False)) == 1000


def test_amount_off_is_per_invoice_and_shared_between_items() -> None:
    off = coupon("co_off", "forever", amount_off=1200, currency="usd")
    d = {"id": "di_1", "object": "discount", "coupon": off, "start": ts(2024, 1, 15), "end": None}
    yearly = price("p_y", 12_000, "year")
    assert mrr_now([created(sub(items=[(yearly, 1)], discount=d))], ts(2024, 2, 1)) == 900
    two = sub(items=[(price("p_1", 3000), 1), (price("p_2", 1000), 1)], discount=d)
    led = build_ledger(ingest([created(two)]).events)
    snap = snapshot(led, ts(2024, 2, 1), Policy())
    assert snap["cus_1"] == {("p_1", "usd"): 2100, ("p_2", "usd"): 700}


def test_past_due_counts_until_grace_then_churns_and_payment_reactivates() -> None:
    start = ts(2024, 1, 5)
    a = sub(start=start, end=ts(2024, 2, 5))
    due = sub(start=ts(2024, 2, 5), end=ts(2024, 3, 5), status="past_due")
    paid = sub(start=ts(2024, 2, 5), end=ts(2024, 3, 5))
    renewal = {
        "status": "active",
        "current_period_start": start,
        "current_period_end": ts(2024, 2, 5),
    }
    events = [
        created(a, start),
        event("customer.subscription.updated", ts(2024, 2, 5), due, renewal),
        event("customer.subscription.updated", ts(2024, 4, 20), paid, {"status": "past_due"}),
    ]
    mov = run(events, as_of=ts(2024, 6, 1))
    assert month(mov, "2024-02")["churn"] == 0  # 1 March is within 30 days of 5 February
    assert month(mov, "2024-03")["churn"] == -1000  # 1 April is not
    assert month(mov, "2024-04")["reactivation"] == 1000
    lenient = run(events, as_of=ts(2024, 6, 1), policy=Policy(past_due_grace_days=None))
    assert all(m.total.churn == 0 for m in lenient.months)


def test_cancellation_counts_when_it_ends_or_when_scheduled() -> None:
    a = sub()
    scheduled = sub(
        cancel_at_period_end=True, canceled_at=ts(2024, 1, 20), cancel_at=ts(2024, 3, 15)
    )
    ended = {**scheduled, "status": "canceled", "ended_at": ts(2024, 3, 15)}
    events = [
        created(a),
        event("customer.subscription.updated", ts(2024, 1, 20), scheduled,
              {"cancel_at_period_end": False, "canceled_at": None, "cancel_at": None}),
        event("customer.subscription.deleted", ts(2024, 3, 15), ended),
    ]  # fmt: skip
    at_end = run(events, as_of=ts(2024, 5, 1))
    assert month(at_end, "2024-03")["churn"] == -1000
    assert month(at_end, "2024-01")["new"] == 0 + 1000
    when_scheduled = run(events, as_of=ts(2024, 5, 1), policy=Policy(cancellation="when_scheduled"))
    assert month(when_scheduled, "2024-01")["new"] == 0  # scheduled before the month ended
    assert all(m.total.churn == 0 for m in when_scheduled.months)


def test_cancelling_one_of_two_subscriptions_is_contraction() -> None:
    one = sub("sub_1", items=[(price("p_a", 1000), 1)])
    two = sub("sub_2", items=[(price("p_b", 3000), 1)])
    gone = {**two, "status": "canceled", "ended_at": ts(2024, 2, 10)}
    mov = run(
        [created(one), created(two), event("customer.subscription.deleted", ts(2024, 2, 10), gone)]
    )
    feb = month(mov, "2024-02")
    assert (feb["contraction"], feb["churn"]) == (-3000, 0)
    plans = next(m for m in mov.months if m.month == "2024-02").by_plan
    assert plans["p_b"].contraction == -3000 and plans["p_b"].churn == 0


def test_plan_switch_is_one_expansion_not_churn_plus_new() -> None:
    before = sub(items=[(price("p_small", 1000), 1)])
    after = sub(items=[(price("p_big", 3000), 1)])
    mov = run(
        [
            created(before),
            event(
                "customer.subscription.updated", ts(2024, 2, 10), after, {"items": before["items"]}
            ),
        ]
    )
    feb = month(mov, "2024-02")
    assert (feb["expansion"], feb["churn"], feb["new"], feb["contraction"]) == (2000, 0, 0, 0)
    plans = next(m for m in mov.months if m.month == "2024-02").by_plan
    assert (plans["p_small"].contraction, plans["p_big"].expansion) == (-1000, 3000)
    assert all(r.bridge_holds() for r in plans.values())


def test_exchange_rate_movement_has_its_own_row() -> None:
    eur = sub(items=[(price("p_eur", 10_000, currency="eur"), 1)])
    rates = rates_from_dict({"rates": {"eur": {"2024-01": "1.10", "2024-02": "1.20"}}})
    mov = run([created(eur)], rates=rates)
    # A month's rate applies from its first instant: January's closing MRR is valued at
    # February's rate, and the difference is January's exchange-rate movement.
    jan = month(mov, "2024-01")
    assert (jan["mrr_start"], jan["new"], jan["fx"], jan["mrr_end"]) == (0, 11_000, 1000, 12_000)
    feb = month(mov, "2024-02")
    assert (feb["mrr_start"], feb["fx"], feb["mrr_end"]) == (12_000, 0, 12_000)


def test_zero_decimal_currency_converts_by_whole_units() -> None:
    jpy = sub(items=[(price("p_jpy", 1500, currency="jpy"), 1)])
    rates = rates_from_dict({"rates": {"jpy": "0.0067"}})
    mov = run([created(jpy)], rates=rates)
    assert month(mov, "2024-01")["new"] == 1005  # ¥1,500 × 0.0067 = $10.05


@pytest.mark.parametrize("version", [BASIL, CLOVER])
def test_basil_and_clover_discounts_resolve_through_their_events(version: str) -> None:
    c = coupon("co_half", "forever", percent_off=50.0)
    d: dict[str, Any] = {"id": "di_9", "object": "discount", "customer": "cus_1",
                         "subscription": "sub_1", "start": ts(2024, 1, 15)}  # fmt: skip
    if version == CLOVER:
        d["source"] = {"type": "coupon", "coupon": "co_half"}
    else:
        d["coupon"] = c
    s = sub(discount=d, version=version)
    assert s["discounts"] == ["di_9"] and "current_period_end" not in s
    events = [
        event("coupon.created", ts(2024, 1, 1), c, version=version),
        event("customer.discount.created", ts(2024, 1, 15), d, version=version),
        created(s, version=version),
    ]
    assert mrr_now(events, ts(2024, 2, 1)) == 500


def test_product_plan_key_groups_intervals() -> None:
    m = sub("sub_1", items=[(price("p_m", 1000, product="prod_x"), 1)])
    y = sub("sub_2", customer="cus_2", items=[(price("p_y", 12_000, "year", product="prod_x"), 1)])
    mov = run([created(m), created(y)], policy=Policy(plan_key="product"))
    assert set(mov.months[0].by_plan) == {"prod_x"}
    assert mov.months[0].by_plan["prod_x"].new == 2000
