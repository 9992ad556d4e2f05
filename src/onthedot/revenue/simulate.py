"""A realistic Stripe event stream with its own true books: the ground truth for the tests.

A discrete-event simulation of a subscription business: sign-ups (some on trials, some with
coupons of each duration), monthly, quarterly, yearly and weekly plans in four currencies, seat
changes, upgrades and downgrades (some switching interval), second subscriptions, metered add-ons,
cancellations at period end (some withdrawn) and immediate, payment failures and dunning (some
past the grace period), and customers coming back. Events are rendered in the API version of
their time (the account is upgraded from an old version to basil to clover along the way), are
delivered at least once and somewhat out of order.

The books are kept from the simulator's own state, not from the events, with the default policy:
MRR at each month boundary per customer, price and currency, and the movements classified on the
customer. Writes `FILE` (events), `FILE.books.json`, `FILE.rates.json` and `FILE.snapshot.json`
(the list API's current subscriptions at the end).

This module is the entry point and the customer lifecycle; `sim_events` renders the Stripe events,
`sim_books` keeps the books, and `sim_model` holds the catalogue and subscription state they share.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onthedot.revenue.sim_books import books, rate_table
from onthedot.revenue.sim_events import (
    CLOVER,
    EventWriter,
    render_coupon,
    render_discount,
    render_price,
    render_sub,
)
from onthedot.revenue.sim_model import (
    COUPONS,
    DAY,
    PRICES,
    UTC,
    SimCoupon,
    SimDiscount,
    SimItem,
    SimPrice,
    SimSub,
    add_months,
    period_after,
)

CURRENCIES = (("usd", 0.66), ("eur", 0.2), ("gbp", 0.1), ("jpy", 0.04))


@dataclass(slots=True)
class SimResult:
    start: int
    end: int  # the as-of instant: the books' last month ends here
    books: dict[str, Any]
    rates: dict[str, Any]
    snapshot: dict[str, Any]
    events: list[dict[str, Any]] | None  # in delivery order, when kept in memory
    count: int


class _Sim:
    """The customer lifecycle: timed actions from a queue change subscriptions, and each change is
    recorded for the books and sent to Stripe's event stream."""

    def __init__(
        self,
        rng: random.Random,
        start: int,
        end: int,
        emit: Callable[[dict[str, Any]], None],
        grace_days: int,
    ) -> None:
        self.rng, self.start, self.end, self.grace = rng, start, end, grace_days
        self.stripe = EventWriter(rng, start, end, emit)
        self.subs: dict[str, SimSub] = {}
        self.by_customer: dict[str, list[str]] = {}
        self.currency_of: dict[str, str] = {}
        self.queue: list[tuple[int, int, str, str, int]] = []
        self.seq = 0
        self.prices = {p.id: p for p in PRICES}
        self.coupons = {c.id: c for c in COUPONS}

    # --- ids, scheduling -----------------------------------------------------------------
    def oid(self, prefix: str) -> str:
        return self.stripe.oid(prefix)

    def schedule(self, t: int, action: str, key: str, token: int = 0) -> None:
        if t < self.end:
            self.seq += 1
            heapq.heappush(self.queue, (t, self.seq, action, key, token))

    # --- state changes -----------------------------------------------------------------
    def tick(self, s: SimSub, t: int) -> int:
        """Subscription events get strictly increasing seconds, as Stripe's do in practice."""
        t = max(t, s.last_t + 1)
        s.last_t = t
        return t

    def record(self, s: SimSub, t: int) -> None:
        s.history.append((t, s.book_state()))

    def update(self, s: SimSub, t: int, change: Callable[[], None]) -> int:
        t = self.tick(s, t)
        v = self.stripe.version(t)
        before = render_sub(s, v)
        change()
        after = render_sub(s, v)
        prev = {k: before[k] for k in after if before.get(k) != after[k]}
        self.record(s, t)
        if prev:
            self.stripe.emit(t, "customer.subscription.updated", after, prev)
        return t

    def end_sub(self, s: SimSub, t: int) -> None:
        t = self.tick(s, t)
        s.status, s.ended_at = "canceled", t
        s.canceled_at = s.canceled_at or t
        self.record(s, t)
        self.stripe.emit(t, "customer.subscription.deleted", render_sub(s, self.stripe.version(t)))
        if s.discount:
            self.stripe.emit(
                t,
                "customer.discount.deleted",
                render_discount(s.discount, s, self.stripe.version(t)),
            )
        live = [x for x in self.by_customer[s.customer] if self.subs[x].status != "canceled"]
        if not live and self.rng.random() < 0.25:
            self.schedule(t + self.rng.randint(30, 200) * DAY, "return", s.customer)

    def invoice(self, s: SimSub, t: int, reason: str, paid: bool) -> None:
        inv = self.stripe.render_invoice(s, t + 1, reason, "open")
        self.stripe.emit(t + 1, "invoice.created", inv)
        if paid:
            self.stripe.emit(t + 3600, "invoice.paid", {**inv, "status": "paid"})

    def pick_price(self, currency: str, exclude: str | None = None) -> SimPrice:
        options = [
            p for p in PRICES if p.currency == currency and not p.metered and p.id != exclude
        ]
        return self.rng.choice(options) if options else self.prices[exclude or ""]

    def pick_coupon(self, currency: str) -> SimCoupon:
        options = [c for c in COUPONS if c.currency in (None, currency)]
        return self.rng.choice(options)

    def attach_coupon(self, s: SimSub, t: int) -> None:
        c = self.pick_coupon(s.currency)
        end = add_months(t, c.months) if c.duration == "repeating" and c.months else None
        s.discount = SimDiscount(self.oid("di"), c, t, end)
        self.stripe.emit(
            t, "customer.discount.created", render_discount(s.discount, s, self.stripe.version(t))
        )

    def new_sub(self, customer: str, t: int, trial: bool) -> None:
        cur = self.currency_of[customer]
        price = self.pick_price(cur)
        qty = self.rng.randint(1, 25) if price.seats else 1
        sid = self.oid("sub")
        items = [SimItem(self.oid("si"), price, qty, t)]
        if cur == "usd" and self.rng.random() < 0.2:
            items.append(SimItem(self.oid("si"), self.prices["price_api_metered"], 1, t))
        trial_end = t + 14 * DAY if trial else None
        s = SimSub(
            id=sid,
            customer=customer,
            currency=cur,
            created=t,
            status="trialing" if trial else "active",
            items=items,
            period_start=t,
            period_end=trial_end or period_after(price, t),
            trial_start=t if trial else None,
            trial_end=trial_end,
            last_t=t,
        )
        self.subs[sid] = s
        self.by_customer.setdefault(customer, []).append(sid)
        if self.rng.random() < 0.2:
            self.attach_coupon(s, t)
        self.record(s, t)
        self.stripe.emit(t, "customer.subscription.created", render_sub(s, self.stripe.version(t)))
        if not trial:
            self.invoice(s, t, "subscription_create", True)
        self.schedule(s.period_end, "renew", sid, s.renew_token)
        self.schedule(t + int(self.rng.expovariate(1 / 100) * DAY) + 1, "change", sid)

    # --- actions -------------------------------------------------------------------------
    def signup(self, customer: str, t: int) -> None:
        r = self.rng.random()
        acc = 0.0
        for cur, w in CURRENCIES:  # noqa: B007 — the loop finds `cur`
            acc += w
            if r < acc:
                break
        self.currency_of[customer] = cur
        self.stripe.emit(
            t,
            "customer.created",
            {"id": customer, "object": "customer", "created": t, "currency": cur},
        )
        self.new_sub(customer, t, trial=self.rng.random() < 0.3)

    def renew(self, s: SimSub, t: int) -> None:
        if s.status == "canceled":
            return
        if s.status == "trialing":
            if self.rng.random() < 0.75:
                price = s.items[0].price

                def convert() -> None:
                    s.status, s.period_start, s.period_end = "active", t, period_after(price, t)

                t = self.update(s, t, convert)
                self.invoice(s, t, "subscription_cycle", True)
                self.schedule(s.period_end, "renew", s.id, s.renew_token)
            else:
                self.end_sub(s, t)
            return
        if s.cancel_at_period_end:
            self.end_sub(s, t)
            return
        fails = s.status == "active" and self.rng.random() < 0.07
        d = s.discount
        drop = d is not None and (d.coupon.duration == "once" or (d.end is not None and d.end <= t))

        def cycle() -> None:
            s.period_start, s.period_end = t, period_after(s.items[0].price, t)
            if drop:
                s.discount = None

        t = self.update(s, t, cycle)
        if drop and d is not None:
            self.stripe.emit(
                t, "customer.discount.deleted", render_discount(d, s, self.stripe.version(t))
            )
        self.invoice(s, t, "subscription_cycle", not fails)
        if fails:  # the payment is attempted an hour after the invoice, and fails
            self.schedule(t + 3600, "fail", s.id)
        self.schedule(s.period_end, "renew", s.id, s.renew_token)

    def fail(self, s: SimSub, t: int) -> None:
        if s.status != "active":
            return

        def due() -> None:
            s.status, s.past_due_since = "past_due", max(t, s.last_t + 1)

        t = self.update(s, t, due)
        inv = self.stripe.render_invoice(s, t, "subscription_cycle", "open")
        self.stripe.emit(t, "invoice.payment_failed", inv)
        r = self.rng.random()
        if r < 0.65:
            self.schedule(t + self.rng.randint(2, 9) * DAY, "recover", s.id)
        elif r < 0.85:
            self.schedule(t + self.rng.randint(10, 25) * DAY, "lapse", s.id)
        else:  # long dunning, past the grace period
            outcome = "recover" if self.rng.random() < 0.5 else "lapse"
            self.schedule(t + self.rng.randint(35, 50) * DAY, outcome, s.id)

    def recover(self, s: SimSub, t: int) -> None:
        if s.status != "past_due":
            return

        def pay() -> None:
            s.status, s.past_due_since = "active", None

        t = self.update(s, t, pay)
        inv = self.stripe.render_invoice(s, t, "subscription_cycle", "paid")
        self.stripe.emit(t, "invoice.paid", inv)

    def lapse(self, s: SimSub, t: int) -> None:
        if s.status == "past_due":
            self.end_sub(s, t)

    def change(self, s: SimSub, t: int) -> None:
        if s.status == "canceled":
            return
        self.schedule(t + int(self.rng.expovariate(1 / 100) * DAY) + 1, "change", s.id)
        if s.status == "trialing":
            return
        rng = self.rng
        main = s.items[0]
        if s.cancel_at_period_end:
            if rng.random() < 0.4:

                def keep() -> None:
                    s.cancel_at_period_end, s.canceled_at = False, None

                self.update(s, t, keep)
            return
        r = rng.random()
        if r < 0.30 and main.price.seats:
            delta = rng.choice((-3, -2, -1, 1, 1, 2, 3, 5))

            def seats() -> None:
                main.quantity = max(1, main.quantity + delta)

            self.update(s, t, seats)
        elif r < 0.50:
            new = self.pick_price(s.currency, exclude=main.price.id)

            def switch() -> None:
                old = main.price
                main.price = new
                if not new.seats:
                    main.quantity = 1
                if (old.interval, old.interval_count) != (new.interval, new.interval_count):
                    s.period_start, s.period_end = t, period_after(new, t)
                    s.renew_token += 1  # the billing cycle restarts now

            token = s.renew_token
            tt = self.update(s, t, switch)
            if s.renew_token != token:
                self.invoice(s, tt, "subscription_update", True)
                self.schedule(s.period_end, "renew", s.id, s.renew_token)
        elif r < 0.58 and s.discount is None:
            tt = max(t, s.last_t + 1)  # the discount and the update share a second

            def coupon() -> None:
                self.attach_coupon(s, tt)

            self.update(s, tt, coupon)
        elif r < 0.72:

            def schedule_cancel() -> None:
                s.cancel_at_period_end, s.canceled_at = True, t

            self.update(s, t, schedule_cancel)
        elif r < 0.78:
            self.end_sub(s, t)
        elif r < 0.86:
            live = [x for x in self.by_customer[s.customer] if self.subs[x].status != "canceled"]
            if len(live) < 3:
                self.new_sub(s.customer, max(t, s.last_t + 1), trial=False)
        elif r < 0.93 and s.currency == "usd":
            metered = [i for i in s.items if i.price.metered]

            def addon() -> None:
                if metered:
                    s.items.remove(metered[0])
                else:
                    s.items.append(SimItem(self.oid("si"), self.prices["price_api_metered"], 1, t))

            self.update(s, t, addon)

    def run(self, customers: int) -> None:
        months = max(1, round((self.end - self.start) / (30.44 * DAY)))
        weights = [1.06**m for m in range(months)]
        total = sum(weights)
        for n in range(customers):
            m = self.rng.choices(range(months), weights=[w / total for w in weights])[0]
            lo = add_months(self.start, m)
            hi = min(add_months(self.start, m + 1), self.end)
            self.schedule(self.rng.randrange(lo, hi), "signup", f"cus_{n:06d}")
        for c in COUPONS:
            self.stripe.emit(self.start, "coupon.created", render_coupon(c))
        for p in PRICES:
            self.stripe.emit(self.start, "price.created", render_price(p))
        while self.queue:
            t, _, action, key, token = heapq.heappop(self.queue)
            if action == "signup":
                self.signup(key, t)
            elif action == "return":
                self.new_sub(key, t, trial=False)
            else:
                s = self.subs[key]
                if action == "renew":
                    if token == s.renew_token:
                        self.renew(s, t)
                elif action == "fail":
                    self.fail(s, t)
                elif action == "recover":
                    self.recover(s, t)
                elif action == "lapse":
                    self.lapse(s, t)
                elif action == "change":
                    self.change(s, t)


def simulate(
    seed: int,
    months: int = 24,
    customers: int = 500,
    *,
    start: dt.datetime | None = None,
    out: Path | None = None,
    keep_events: bool = True,
    duplicate_rate: float = 0.01,
    disorder: int = 20,
    grace_days: int = 30,
) -> SimResult:
    """Run the simulation. Events are delivered with `duplicate_rate` redeliveries and shuffled
    within a window of `disorder` events; with `out`, they are streamed to that file."""
    rng = random.Random(seed)  # noqa: S311 — a reproducible simulation, not a secret
    t0 = int((start or dt.datetime(2024, 1, 1, tzinfo=UTC)).timestamp())
    t_end = add_months(t0, months)
    kept: list[dict[str, Any]] = []
    window: list[dict[str, Any]] = []
    fh = open(out, "w", encoding="utf-8") if out is not None else None  # noqa: SIM115

    def deliver(ev: dict[str, Any]) -> None:
        if fh is not None:
            fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
        if keep_events:
            kept.append(ev)

    def emit(ev: dict[str, Any]) -> None:
        window.append(ev)
        if rng.random() < duplicate_rate:
            window.append(ev)
        while len(window) > disorder:
            deliver(window.pop(rng.randrange(len(window))))

    try:
        sim = _Sim(rng, t0, t_end, emit, grace_days)
        sim.run(customers)
        rng.shuffle(window)
        for ev in window:
            deliver(ev)
    finally:
        if fh is not None:
            fh.close()
    table = rate_table(random.Random(seed + 1), t0, months)  # noqa: S311
    rates = {"reporting_currency": "usd", "rates": table}
    live = [s for s in sim.subs.values() if s.status != "canceled"]
    snap = {
        "object": "list",
        "url": "/v1/subscriptions",
        "has_more": False,
        "data": [render_sub(s, CLOVER) for s in live],
    }
    result = SimResult(
        start=t0,
        end=t_end,
        books=books(
            sim.subs.values(),
            sim.start,
            months,
            table,
            grace_days=sim.grace,
            prices=sim.prices,
            coupons=sim.coupons,
        ),
        rates=rates,
        snapshot=snap,
        events=kept if keep_events else None,
        count=sim.stripe.count,
    )
    if out is not None:
        for suffix, payload in (
            ("books", {**result.books, "as_of": t_end}),
            ("rates", rates),
            ("snapshot", snap),
        ):
            Path(f"{out}.{suffix}.json").write_text(json.dumps(payload, indent=1))
    return result
