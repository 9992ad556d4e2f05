"""Can these events be trusted? Finds the events that must be missing (or wrong), and what each
gap does to MRR.

Checks, each finding naming the customer, the subscription, what is wrong and its MRR impact
(reported MRR − true MRR in the reporting currency: positive means over-reported):

* `previous_attributes_mismatch` — every `customer.subscription.updated` says what the changed
  fields were before; that state must equal the one rebuilt from earlier events. Impact: the
  rebuilt MRR just before the update minus the MRR of the state Stripe says it had.
* `corrupt_event` — an update contradicted by both the events before and after it (its object is
  wrong, not a neighbour missing); the error it caused is on the next finding, so its own is 0.
* `never_created` — events for a subscription whose `customer.subscription.created` never came.
* `renewal_invoice_missing` — an active subscription started a period but no invoice for it came.
* `period_ended_silently` — a live subscription's period (or trial, or scheduled cancellation)
  ended more than the slack ago and nothing came since: a renewal or an end is missing. Impact:
  its MRR, as it most likely ended (the classic way MRR is over-reported for months).
* with a snapshot of the list API: `snapshot_missing` (live in the events, absent from Stripe),
  `snapshot_unknown` (listed by Stripe, never seen in events), `snapshot_differs`.

Findings marked `current` affect MRR as of the audit instant; their impacts add up to the total
over-reporting. With a snapshot, only the snapshot findings are current (they compare with
Stripe's own present state); without one, the heuristic `period_ended_silently` findings are.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onthedot.revenue.events import before_state
from onthedot.revenue.fx import Rates
from onthedot.revenue.movements import major
from onthedot.revenue.mrr import Valuer
from onthedot.revenue.normalised import Event, Subscription
from onthedot.revenue.policy import Policy
from onthedot.revenue.shapes import Normaliser, ShapeError
from onthedot.revenue.state import ENDED, Ledger

HOUR = 3600
LIVE = frozenset({"active", "past_due", "trialing"})


@dataclass(slots=True)
class Finding:
    check: str
    customer: str
    subscription: str
    at: int
    detail: str
    mrr_impact: int  # reported − true, reporting currency minor units
    current: bool = False
    event_id: str | None = None


@dataclass(slots=True)
class AuditReport:
    as_of: int
    currency: str
    findings: list[Finding] = field(default_factory=list)
    events_checked: int = 0

    @property
    def overreported(self) -> int:
        """By how much MRR as of `as_of` is over-reported (negative: under-reported)."""
        return sum(f.mrr_impact for f in self.findings if f.current)


def fingerprint(s: Subscription) -> dict[str, Any]:
    """The fields of a subscription whose disagreement means an event is missing."""
    return {
        "status": s.status,
        "customer": s.customer,
        "items": sorted(
            (i.id, i.price.id, i.quantity, i.period_start, i.period_end) for i in s.items
        ),
        "prices": sorted((i.id, repr(i.price)) for i in s.items),
        "discounts": sorted(
            str(d.id or d.coupon_id)
            for d in (*s.discounts, *(d for i in s.items for d in i.discounts))
        ),
        "cancel_at_period_end": s.cancel_at_period_end,
        "cancel_at": s.cancel_at,
        "ended_at": s.ended_at,
        "trial_end": s.trial_end,
    }


def _differing(a: Subscription, b: Subscription) -> list[str]:
    fa, fb = fingerprint(a), fingerprint(b)
    return [k for k in fa if fa[k] != fb[k]]


def _restores(earlier: Subscription, later: Subscription, keys: list[str]) -> bool:
    """Whether `later` agrees with `earlier` on the fields an event in between got wrong."""
    fa, fb = fingerprint(earlier), fingerprint(later)
    return all(fa[k] == fb[k] for k in keys if k not in ("items", "prices")) and (
        ("items" not in keys and "prices" not in keys)
        or sorted(x[:3] for x in fa["items"]) == sorted(x[:3] for x in fb["items"])
    )


def _describe(value: Any, key: str) -> str:
    if key == "items":
        return ", ".join(f"{pid}×{q}" for _, pid, q, *_ in value) or "none"
    if key == "prices":
        return "prices as given"
    return str(value)


def differences(rebuilt: Subscription, truth: Subscription) -> list[str]:
    a, b = fingerprint(rebuilt), fingerprint(truth)
    out = []
    for key in a:
        if a[key] != b[key]:
            if key == "items" and [x[:3] for x in a[key]] == [x[:3] for x in b[key]]:
                out.append("billing period differs (a renewal is missing)")
            else:
                out.append(
                    f"{key}: events say {_describe(a[key], key)}, "
                    f"Stripe says {_describe(b[key], key)}"
                )
    return out


class _Valuer:
    """MRR of one subscription state, in the reporting currency."""

    def __init__(self, ledger: Ledger, policy: Policy, rates: Rates) -> None:
        self.ledger, self.policy, self.rates = ledger, policy, rates
        self.valuer = Valuer(policy, ledger)

    def __call__(self, sub: Subscription | None, t: int, since: int | None) -> int:
        if sub is None:
            return 0
        lines = self.valuer.lines(sub, t, since)
        return sum(self.rates.convert(x.amount, x.currency, t) for x in lines)

    def dunning_since(self, sub: Subscription, t: int) -> int | None:
        """When a past_due state we did not see begin most likely began: the first failed
        payment after the last paid invoice of the subscription, before `t`."""
        if sub.status != "past_due":
            return None
        since = None
        for inv in self.ledger.invoices.get(sub.id, ()):
            if inv.at >= t:
                break
            if inv.event == "invoice.payment_failed" and since is None:
                since = inv.at
            elif inv.event in ("invoice.paid", "invoice.payment_succeeded"):
                since = None
        return since if since is not None else t


def _fmt(t: int | None) -> str:
    if t is None:
        return "?"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def audit(
    events: Iterable[Event],
    ledger: Ledger,
    policy: Policy,
    rates: Rates,
    as_of: int | None = None,
    snapshot: list[Subscription] | None = None,
) -> AuditReport:
    at = as_of if as_of is not None else (ledger.last or 0) + 1
    report = AuditReport(as_of=at, currency=rates.reporting)
    value = _Valuer(ledger, policy, rates)
    slack = policy.renewal_slack_hours * HOUR
    last: dict[str, tuple[Subscription, int | None]] = {}
    pending: dict[str, tuple[Finding, Subscription, list[str]]] = {}
    norm = Normaliser()
    for ev in events:
        sub = ev.subscription
        if sub is None or ev.created >= at:
            continue
        report.events_checked += 1
        prior = last.get(sub.id)
        t = ev.created
        try:
            before = before_state(ev, norm)
        except ShapeError as exc:
            report.findings.append(
                Finding(
                    "bad_previous_attributes", sub.customer, sub.id, t, str(exc), 0, event_id=ev.id
                )
            )
            before = None
        if prior is None and ev.type != "customer.subscription.created":
            truth = before
            report.findings.append(
                Finding(
                    "never_created",
                    sub.customer,
                    sub.id,
                    t,
                    f"first event seen is {ev.type}; customer.subscription.created is missing",
                    -value(truth, t, value.dunning_since(truth, t)) if truth else 0,
                    event_id=ev.id,
                )
            )
        elif prior is not None and before is not None:
            diffs = differences(prior[0], before)
            suspect = pending.pop(sub.id, None)
            if diffs and suspect is not None and _restores(suspect[1], before, suspect[2]):
                # The previous event is contradicted by both its neighbours: it is the corrupt
                # one, and the error it caused is this finding's, not its own.
                flagged = suspect[0]
                flagged.check, flagged.mrr_impact = "corrupt_event", 0
                flagged.detail = (
                    "this event's object contradicts both the events before and after it, so "
                    "it is probably corrupt (" + flagged.detail.split(": ", 1)[-1] + ")"
                )
            if diffs:
                since = prior[1] if before.status == "past_due" and prior[1] else None
                true_since = since or value.dunning_since(before, t)
                report.findings.append(
                    Finding(
                        "previous_attributes_mismatch",
                        sub.customer,
                        sub.id,
                        t,
                        "state before this update differs from the one rebuilt from earlier "
                        "events (events missing between "
                        f"{_fmt(ledger.timelines[sub.id].times[0])} and {_fmt(t)}): "
                        + "; ".join(diffs),
                        value(prior[0], t, prior[1]) - value(before, t, true_since),
                        event_id=ev.id,
                    )
                )
                pending[sub.id] = (report.findings[-1], prior[0], _differing(prior[0], before))
        else:
            pending.pop(sub.id, None)
        tl = ledger.timelines[sub.id]
        i = bisect.bisect_right(tl.times, t) - 1
        last[sub.id] = (sub, tl.past_due_since[i] if i >= 0 else None)
        _check_invoice(report, ledger, prior[0] if prior else None, sub, t, at, slack)
    for sub, since in last.values():
        _check_silence(report, ledger, sub, since, at, slack, value)
    if snapshot is not None:
        for f in report.findings:
            f.current = False
        _check_snapshot(report, ledger, last, snapshot, at, value)
    report.findings.sort(key=lambda f: (f.at, f.subscription))
    return report


def _check_invoice(
    report: AuditReport,
    ledger: Ledger,
    prior: Subscription | None,
    sub: Subscription,
    t: int,
    at: int,
    slack: int,
) -> None:
    """A period that began while the subscription was active must have an invoice."""
    ps = sub.period_start
    if sub.status not in ("active", "past_due") or ps is None or ps + slack >= at:
        return
    if prior is not None and prior.period_start == ps and prior.status in ("active", "past_due"):
        return
    invoices = ledger.invoices.get(sub.id, ())
    if any(abs(inv.created - ps) <= slack for inv in invoices):
        return
    report.findings.append(
        Finding(
            "renewal_invoice_missing",
            sub.customer,
            sub.id,
            t,
            f"no invoice for the period starting {_fmt(ps)}; MRR is unaffected if the "
            "subscription renewed, but its invoice events are missing",
            0,
        )
    )


def _check_silence(
    report: AuditReport,
    ledger: Ledger,
    sub: Subscription,
    since: int | None,
    at: int,
    slack: int,
    value: _Valuer,
) -> None:
    if sub.status not in LIVE:
        return
    due: int | None
    if sub.status == "trialing" and sub.trial_end is not None:
        due, what = sub.trial_end, "trial ended"
    elif sub.cancel_at is not None and (sub.period_end is None or sub.cancel_at <= sub.period_end):
        due, what = sub.cancel_at, "cancellation was scheduled"
    else:
        due, what = sub.period_end, "billing period ended"
    if due is None or due + slack >= at:
        return
    impact = value(sub, at, since)
    report.findings.append(
        Finding(
            "period_ended_silently",
            sub.customer,
            sub.id,
            due,
            f"{what} {_fmt(due)} and no event came since (status still {sub.status}): "
            "a renewal or a customer.subscription.deleted is missing; if it ended, MRR is "
            f"over-reported by its {major(impact, report.currency):.2f}",
            impact,
            current=True,
        )
    )


def _check_snapshot(
    report: AuditReport,
    ledger: Ledger,
    last: dict[str, tuple[Subscription, int | None]],
    snapshot: list[Subscription],
    at: int,
    value: _Valuer,
) -> None:
    listed = {s.id: s for s in snapshot}
    for sid in sorted(listed.keys() | last.keys()):
        truth = listed.get(sid)
        mine = last.get(sid)
        rebuilt = mine[0] if mine else None
        if (rebuilt is None or rebuilt.status in ENDED) and (
            truth is None or truth.status in ENDED
        ):
            continue  # ended on both sides (or a canceled one listed with status=all)
        if truth is None:
            assert rebuilt is not None and mine is not None
            report.findings.append(
                Finding(
                    "snapshot_missing",
                    rebuilt.customer,
                    sid,
                    at,
                    f"events say {rebuilt.status}; Stripe no longer lists it (it ended without "
                    "a customer.subscription.deleted event)",
                    value(rebuilt, at, mine[1]),
                    current=True,
                )
            )
            continue
        true_since = None
        if truth.status == "past_due":
            if mine is not None and rebuilt is not None and rebuilt.status == "past_due":
                true_since = mine[1]
            else:
                true_since = value.dunning_since(truth, at)
        if rebuilt is None:
            report.findings.append(
                Finding(
                    "snapshot_unknown",
                    truth.customer,
                    sid,
                    at,
                    f"Stripe lists it as {truth.status}; no event for it was seen",
                    -value(truth, at, true_since),
                    current=True,
                )
            )
            continue
        diffs = differences(rebuilt, truth)
        if diffs:
            assert mine is not None
            report.findings.append(
                Finding(
                    "snapshot_differs",
                    truth.customer,
                    sid,
                    at,
                    "; ".join(diffs),
                    value(rebuilt, at, mine[1]) - value(truth, at, true_since),
                    current=True,
                )
            )


def read_snapshot(raw: Any) -> list[Subscription]:
    """A JSON export of the list API: `{"object": "list", "data": [...]}` or a bare array."""
    data = raw.get("data") if isinstance(raw, dict) else raw
    if not isinstance(data, list):
        raise ShapeError("snapshot is neither a list object nor an array of subscriptions")
    norm = Normaliser()
    return [norm.subscription(s) for s in data]


def to_json(report: AuditReport) -> dict[str, Any]:
    cur = report.currency

    return {
        "currency": cur.upper(),
        "as_of": dt.datetime.fromtimestamp(report.as_of, dt.UTC).isoformat(),
        "events_checked": report.events_checked,
        "mrr_overreported": major(report.overreported, cur),
        "findings": [
            {
                "check": f.check,
                "customer": f.customer,
                "subscription": f.subscription,
                "at": dt.datetime.fromtimestamp(f.at, dt.UTC).isoformat(),
                "event_id": f.event_id,
                "detail": f.detail,
                "mrr_impact": major(f.mrr_impact, cur),
                "current": f.current,
            }
            for f in report.findings
        ],
    }
