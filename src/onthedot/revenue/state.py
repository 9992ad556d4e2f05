"""Subscription state over time, rebuilt from ordered events.

Every `customer.subscription.*` event carries the whole subscription as it was after the change,
so the state of a subscription at an instant is the object of its last event strictly before
that instant. Alongside, this keeps what the objects alone do not say: since when a subscription
has been past_due (for the grace period), and the registry of coupons, discounts and renewal
invoices that the MRR and the audit look things up in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from onthedot.revenue.events import paused_gc
from onthedot.revenue.normalised import Coupon, Discount, Event, Invoice, Subscription

ENDED = frozenset({"canceled", "incomplete_expired"})


@dataclass(slots=True)
class Timeline:
    """The states one subscription went through, in order (`times[i]` is when `states[i]` began)."""

    subscription: str
    customer: str
    times: list[int] = field(default_factory=list)
    states: list[Subscription] = field(default_factory=list)
    past_due_since: list[int | None] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    created_seen: bool = False

    def index_at(self, t: int) -> int:
        """Index of the state in force at `t` (events at `t` itself are not yet in force), or -1."""
        return bisect.bisect_left(self.times, t) - 1

    def at(self, t: int) -> tuple[Subscription, int | None] | None:
        i = self.index_at(t)
        if i < 0:
            return None
        return self.states[i], self.past_due_since[i]

    @property
    def last(self) -> Subscription:
        return self.states[-1]


@dataclass(slots=True)
class Ledger:
    timelines: dict[str, Timeline] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    discounts: dict[str, Discount] = field(default_factory=dict)
    invoices: dict[str, list[Invoice]] = field(default_factory=dict)
    first: int | None = None
    last: int | None = None

    def coupon_for(self, d: Discount) -> Coupon | None:
        """The coupon behind a discount, looking through the registries when not expanded."""
        if d.coupon is not None:
            return d.coupon
        if d.coupon_id is not None:
            return self.coupons.get(d.coupon_id)
        if d.id is not None:
            known = self.discounts.get(d.id)
            if known is not None:
                if known.coupon is not None:
                    return known.coupon
                if known.coupon_id is not None:
                    return self.coupons.get(known.coupon_id)
        return None

    def discount_dates(self, d: Discount) -> tuple[int | None, int | None]:
        """Start and end of a discount; an unexpanded reference borrows them from the registry."""
        if d.start is None and d.id is not None and (known := self.discounts.get(d.id)):
            return known.start, known.end
        return d.start, d.end


def build_ledger(events: Iterable[Event]) -> Ledger:
    """Events must be deduplicated and ordered (as `events.finish` leaves them)."""
    with paused_gc():
        return _build(events)


def _build(events: Iterable[Event]) -> Ledger:
    led = Ledger()
    for ev in events:
        if led.first is None:
            led.first = ev.created
        led.last = ev.created
        if ev.subscription is not None:
            sub = ev.subscription
            tl = led.timelines.get(sub.id)
            if tl is None:
                tl = led.timelines[sub.id] = Timeline(sub.id, sub.customer)
            if ev.type == "customer.subscription.created":
                tl.created_seen = True
            since: int | None = None
            if sub.status == "past_due":
                prev = tl.states[-1] if tl.states else None
                if prev is not None and prev.status == "past_due":
                    since = tl.past_due_since[-1]
                else:
                    since = ev.created
            tl.times.append(ev.created)
            tl.states.append(sub)
            tl.past_due_since.append(since)
            tl.event_ids.append(ev.id)
        elif ev.coupon is not None:
            if ev.type != "coupon.deleted" or ev.coupon.id not in led.coupons:
                led.coupons[ev.coupon.id] = ev.coupon
        elif ev.discount is not None:
            d = ev.discount
            # A deleted discount is still needed to read the periods it applied to.
            if d.id is not None and (
                ev.type != "customer.discount.deleted" or d.id not in led.discounts
            ):
                led.discounts[d.id] = d
            if d.coupon is not None:
                led.coupons.setdefault(d.coupon.id, d.coupon)
        elif ev.invoice is not None and ev.invoice.subscription is not None:
            led.invoices.setdefault(ev.invoice.subscription, []).append(ev.invoice)
    return led
