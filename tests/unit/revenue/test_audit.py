"""The audit: clean streams raise nothing; dropped or corrupted events are reported, with an MRR
impact equal to the error they really cause."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from onthedot.revenue.audit import audit, read_snapshot
from onthedot.revenue.events import read_lines
from onthedot.revenue.fx import Rates, rates_from_dict
from onthedot.revenue.mrr import subscription_lines
from onthedot.revenue.policy import Policy
from onthedot.revenue.simulate import SimResult, simulate
from onthedot.revenue.state import Ledger, build_ledger

from .factory import event, ingest, sub, ts

POLICY = Policy()


def ledger_of(events: list[dict[str, Any]]) -> tuple[Any, Ledger]:
    res = read_lines([json.dumps(e).encode() + b"\n" for e in events])
    return res, build_ledger(res.events)


def sub_mrr(ledger: Ledger, sid: str, t: int, rates: Rates) -> int:
    tl = ledger.timelines.get(sid)
    found = tl.at(t) if tl else None
    if found is None:
        return 0
    lines = subscription_lines(found[0], t, found[1], POLICY, ledger)
    return sum(rates.convert(x.amount, x.currency, t) for x in lines)


def total_mrr(ledger: Ledger, t: int, rates: Rates) -> int:
    return sum(sub_mrr(ledger, sid, t, rates) for sid in ledger.timelines)


def sim(seed: int) -> tuple[SimResult, list[dict[str, Any]], Rates]:
    result = simulate(seed, 18, 150, duplicate_rate=0.0)
    assert result.events is not None
    return result, result.events, rates_from_dict(result.rates)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_complete_stream_has_no_findings(seed: int) -> None:
    result, events, rates = sim(seed)
    res, led = ledger_of(events)
    report = audit(res.events, led, POLICY, rates, result.end, read_snapshot(result.snapshot))
    assert report.findings == []
    assert report.overreported == 0


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_dropped_events_are_found_with_their_real_mrr_error(seed: int) -> None:
    result, events, rates = sim(seed)
    rng = random.Random(seed)
    kept = [e for e in events if not (e["type"].startswith("customer.subscription.")
                                       and rng.random() < 0.05)]  # fmt: skip
    assert len(kept) < len(events)
    _, full = ledger_of(events)
    res, damaged = ledger_of(kept)
    snapshot = read_snapshot(result.snapshot)
    report = audit(res.events, damaged, POLICY, rates, result.end, snapshot)

    # The total is exactly how far MRR now is off.
    real = total_mrr(damaged, result.end, rates) - total_mrr(full, result.end, rates)
    assert report.overreported == real
    # Every subscription whose MRR now is wrong is named by a current finding with its error.
    current = {f.subscription: f.mrr_impact for f in report.findings if f.current}
    for sid in full.timelines:
        err = sub_mrr(damaged, sid, result.end, rates) - sub_mrr(full, sid, result.end, rates)
        if err:
            assert current.get(sid) == err, sid
    # Each mismatch found mid-stream states the error MRR had just before it was found.
    mismatches = [f for f in report.findings if f.check == "previous_attributes_mismatch"]
    assert mismatches
    for f in mismatches:
        real_then = sub_mrr(damaged, f.subscription, f.at, rates) - sub_mrr(
            full, f.subscription, f.at, rates
        )
        assert f.mrr_impact == real_then, f


def test_corrupted_events_are_found() -> None:
    result, events, rates = sim(8)
    events = copy.deepcopy(events)
    rng = random.Random(8)
    candidates = [
        e for e in events
        if e["type"] == "customer.subscription.updated"
        and e["data"]["object"]["status"] == "active"
        and not e["data"]["object"]["items"]["data"][0]["price"].get("tiers")
    ]  # fmt: skip
    corrupted = rng.sample(candidates, 5)
    for e in corrupted:
        e["data"]["object"]["items"]["data"][0]["quantity"] += 7
    _, full = ledger_of(result.events or [])
    res, damaged = ledger_of(events)
    report = audit(res.events, damaged, POLICY, rates, result.end, read_snapshot(result.snapshot))
    named = {f.subscription for f in report.findings}
    for e in corrupted:
        assert e["data"]["object"]["id"] in named
    for f in report.findings:
        if f.check == "previous_attributes_mismatch":
            real = sub_mrr(damaged, f.subscription, f.at, rates) - sub_mrr(
                full, f.subscription, f.at, rates
            )
            assert f.mrr_impact == real
    real_now = total_mrr(damaged, result.end, rates) - total_mrr(full, result.end, rates)
    assert report.overreported == real_now


def test_missing_cancellations_show_without_a_snapshot() -> None:
    result, events, rates = sim(9)
    kept = [e for e in events if e["type"] != "customer.subscription.deleted"]
    _, full = ledger_of(events)
    res, damaged = ledger_of(kept)
    report = audit(res.events, damaged, POLICY, rates, result.end)
    silent = [f for f in report.findings if f.check == "period_ended_silently"]
    assert silent and all(f.current for f in silent)
    for f in silent:  # each flagged subscription really had ended, and is off by its MRR
        assert full.timelines[f.subscription].last.status == "canceled"
        assert f.mrr_impact == sub_mrr(damaged, f.subscription, result.end, rates)
    real = total_mrr(damaged, result.end, rates) - total_mrr(full, result.end, rates)
    assert 0 < report.overreported <= real  # what can be seen without Stripe's present state


def test_a_subscription_never_created_is_reported() -> None:
    a = sub(start=ts(2024, 1, 10), end=ts(2024, 2, 10))
    b = sub(start=ts(2024, 2, 10), end=ts(2024, 3, 10))
    prev = {"current_period_start": ts(2024, 1, 10), "current_period_end": ts(2024, 2, 10)}
    res = ingest([event("customer.subscription.updated", ts(2024, 2, 10), b, prev)])
    led = build_ledger(res.events)
    report = audit(res.events, led, POLICY, Rates("usd"), ts(2024, 2, 20))
    assert {f.check for f in report.findings} == {"never_created", "renewal_invoice_missing"}
    [f] = [f for f in report.findings if f.check == "never_created"]
    assert (f.subscription, f.customer, f.mrr_impact) == ("sub_1", "cus_1", -1000)
    assert a["status"] == "active"


def test_the_story_of_the_missing_cancellations() -> None:
    """Three subscriptions ended in Stripe but their deletions never reached the pipeline: the
    snapshot shows it, and the total says by how much MRR is over-reported."""
    events = [
        event("customer.subscription.created", ts(2024, 1, 5) + n,
              sub(f"sub_{n}", f"cus_{n}", start=ts(2024, 1, 5), end=ts(2024, 2, 5)))
        for n in range(5)
    ]  # fmt: skip
    snapshot = {"object": "list", "data": [events[n]["data"]["object"] for n in (0, 1)]}
    res = ingest(events)
    led = build_ledger(res.events)
    report = audit(res.events, led, POLICY, Rates("usd"), ts(2024, 1, 20), read_snapshot(snapshot))
    current = [f for f in report.findings if f.current]
    assert sorted(f.subscription for f in current) == ["sub_2", "sub_3", "sub_4"]
    assert {f.check for f in current} == {"snapshot_missing"}
    assert report.overreported == 3000
