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
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

UTC = dt.UTC
DAY = 86_400
OLD, BASIL, CLOVER = "2024-06-20", "2025-03-31.basil", "2025-09-30.clover"


@dataclass(frozen=True, slots=True)
class SimPrice:
    id: str
    product: str
    currency: str
    interval: str
    interval_count: int
    unit_amount: int | None
    seats: bool = False
    tiers_mode: str | None = None
    tiers: tuple[tuple[int | None, int, int], ...] = ()  # (up_to, unit, flat)
    metered: bool = False


@dataclass(frozen=True, slots=True)
class SimCoupon:
    id: str
    duration: str
    percent_off: str | None = None  # decimal string, as Stripe gives a float
    amount_off: int | None = None
    currency: str | None = None
    months: int | None = None


PRICES = (
    SimPrice("price_starter_m", "prod_starter", "usd", "month", 1, 1000),
    SimPrice("price_starter_y", "prod_starter", "usd", "year", 1, 10000),
    SimPrice("price_pro_m", "prod_pro", "usd", "month", 1, 3000, seats=True),
    SimPrice("price_pro_y", "prod_pro", "usd", "year", 1, 30000, seats=True),
    SimPrice(
        "price_team_m", "prod_team", "usd", "month", 1, None, True, "graduated",
        ((5, 2000, 5000), (20, 1500, 0), (None, 1000, 0)),
    ),
    SimPrice(
        "price_team_q", "prod_team", "usd", "month", 3, None, True, "volume",
        ((10, 5500, 0), (None, 4500, 2000)),
    ),
    SimPrice("price_lite_w", "prod_lite", "usd", "week", 1, 350),
    SimPrice("price_starter_eur_m", "prod_starter", "eur", "month", 1, 900),
    SimPrice("price_pro_eur_m", "prod_pro", "eur", "month", 1, 2800, seats=True),
    SimPrice("price_pro_eur_y", "prod_pro", "eur", "year", 1, 28000, seats=True),
    SimPrice("price_starter_gbp_y", "prod_starter", "gbp", "year", 1, 8000),
    SimPrice("price_pro_gbp_m", "prod_pro", "gbp", "month", 1, 2500, seats=True),
    SimPrice("price_starter_jpy_m", "prod_starter", "jpy", "month", 1, 1500),
    SimPrice("price_api_metered", "prod_api", "usd", "month", 1, 2, metered=True),
)  # fmt: skip
COUPONS = (
    SimCoupon("co_once20", "once", percent_off="20"),
    SimCoupon("co_rep3_25", "repeating", percent_off="25", months=3),
    SimCoupon("co_forever50", "forever", percent_off="50"),
    SimCoupon("co_forever12_5", "forever", percent_off="12.5"),
    SimCoupon("co_forever_off500", "forever", amount_off=500, currency="usd"),
    SimCoupon("co_rep6_off1000", "repeating", amount_off=1000, currency="usd", months=6),
)
CURRENCIES = (("usd", 0.66), ("eur", 0.2), ("gbp", 0.1), ("jpy", 0.04))
BASE_RATES = {"eur": 1.08, "gbp": 1.27, "jpy": 0.0067}


def add_months(t: int, months: int) -> int:
    d = dt.datetime.fromtimestamp(t, UTC)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return int(d.replace(year=year, month=month, day=min(d.day, last)).timestamp())


def period_after(price: SimPrice, t: int) -> int:
    if price.interval == "month":
        return add_months(t, price.interval_count)
    if price.interval == "year":
        return add_months(t, 12 * price.interval_count)
    return t + 7 * DAY * price.interval_count


def month_label(t: int) -> str:
    d = dt.datetime.fromtimestamp(t, UTC)
    return f"{d.year:04d}-{d.month:02d}"


@dataclass(slots=True)
class SimItem:
    id: str
    price: SimPrice
    quantity: int
    created: int


@dataclass(slots=True)
class SimDiscount:
    id: str
    coupon: SimCoupon
    start: int
    end: int | None


# What the books need of a subscription's state: status, ((price id, quantity), ...),
# (coupon id, end) or None, past_due since.
BookState = tuple[str, tuple[tuple[str, int], ...], tuple[str, int | None] | None, int | None]


@dataclass(slots=True)
class SimSub:
    id: str
    customer: str
    currency: str
    created: int
    status: str
    items: list[SimItem]
    period_start: int
    period_end: int
    discount: SimDiscount | None = None
    cancel_at_period_end: bool = False
    canceled_at: int | None = None
    ended_at: int | None = None
    trial_start: int | None = None
    trial_end: int | None = None
    past_due_since: int | None = None
    last_t: int = 0
    renew_token: int = 0
    history: list[tuple[int, BookState]] = field(default_factory=list)

    def book_state(self) -> BookState:
        d = (self.discount.coupon.id, self.discount.end) if self.discount else None
        return (
            self.status,
            tuple((i.price.id, i.quantity) for i in self.items),
            d,
            self.past_due_since,
        )


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
    def __init__(
        self,
        rng: random.Random,
        start: int,
        end: int,
        emit: Callable[[dict[str, Any]], None],
        grace_days: int,
    ) -> None:
        self.rng, self.start, self.end, self._emit, self.grace = rng, start, end, emit, grace_days
        self.subs: dict[str, SimSub] = {}
        self.by_customer: dict[str, list[str]] = {}
        self.currency_of: dict[str, str] = {}
        self.queue: list[tuple[int, int, str, str, int]] = []
        self.seq = 0
        self.count = 0
        self.prices = {p.id: p for p in PRICES}
        self.coupons = {c.id: c for c in COUPONS}

    # --- ids, versions, scheduling ------------------------------------------------------
    def oid(self, prefix: str) -> str:
        return f"{prefix}_{self.rng.getrandbits(80):020x}"

    def version(self, t: int) -> str:
        x = (t - self.start) / (self.end - self.start)
        return OLD if x < 1 / 3 else BASIL if x < 2 / 3 else CLOVER

    def schedule(self, t: int, action: str, key: str, token: int = 0) -> None:
        if t < self.end:
            self.seq += 1
            heapq.heappush(self.queue, (t, self.seq, action, key, token))

    def emit(
        self, t: int, etype: str, obj: dict[str, Any], prev: dict[str, Any] | None = None
    ) -> None:
        if t >= self.end:
            return
        data: dict[str, Any] = {"object": obj}
        if prev is not None:
            data["previous_attributes"] = prev
        self.count += 1
        self._emit(
            {
                "id": self.oid("evt"),
                "object": "event",
                "api_version": self.version(t),
                "created": t,
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": etype,
            }
        )

    # --- rendering, per API version ------------------------------------------------------
    def r_price(self, p: SimPrice) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": p.id,
            "object": "price",
            "active": True,
            "billing_scheme": "tiered" if p.tiers else "per_unit",
            "currency": p.currency,
            "product": p.product,
            "recurring": {
                "interval": p.interval,
                "interval_count": p.interval_count,
                "usage_type": "metered" if p.metered else "licensed",
            },
            "tiers_mode": p.tiers_mode,
            "type": "recurring",
            "unit_amount": p.unit_amount,
            "unit_amount_decimal": None if p.unit_amount is None else str(p.unit_amount),
        }
        if p.tiers:  # Stripe includes tiers only when expanded; we always give them
            out["tiers"] = [
                {"up_to": u if u is not None else None, "unit_amount": a, "flat_amount": f}
                for u, a, f in p.tiers
            ]
        return out

    def r_coupon(self, c: SimCoupon) -> dict[str, Any]:
        return {
            "id": c.id,
            "object": "coupon",
            "amount_off": c.amount_off,
            "currency": c.currency,
            "duration": c.duration,
            "duration_in_months": c.months,
            "percent_off": float(c.percent_off) if c.percent_off else None,
            "valid": True,
        }

    def r_discount(self, d: SimDiscount, s: SimSub, v: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": d.id,
            "object": "discount",
            "customer": s.customer,
            "subscription": s.id,
            "start": d.start,
            "end": d.end,
            "promotion_code": None,
        }
        if v == CLOVER:
            out["source"] = {"type": "coupon", "coupon": d.coupon.id}
        else:
            out["coupon"] = self.r_coupon(d.coupon)
        return out

    def r_sub(self, s: SimSub, v: str) -> dict[str, Any]:
        items = []
        for i in s.items:
            it: dict[str, Any] = {
                "id": i.id,
                "object": "subscription_item",
                "created": i.created,
                "price": self.r_price(i.price),
                "quantity": None if i.price.metered else i.quantity,
                "subscription": s.id,
            }
            if v != OLD:
                it["current_period_start"] = s.period_start
                it["current_period_end"] = s.period_end
                it["discounts"] = []
            items.append(it)
        out: dict[str, Any] = {
            "id": s.id,
            "object": "subscription",
            "cancel_at": s.period_end if s.cancel_at_period_end else None,
            "cancel_at_period_end": s.cancel_at_period_end,
            "canceled_at": s.canceled_at,
            "created": s.created,
            "currency": s.currency,
            "customer": s.customer,
            "discounts": [s.discount.id] if s.discount else [],
            "ended_at": s.ended_at,
            "items": {"object": "list", "data": items, "has_more": False},
            "livemode": False,
            "metadata": {},
            "start_date": s.created,
            "status": s.status,
            "trial_end": s.trial_end,
            "trial_start": s.trial_start,
        }
        if v == OLD:
            out["current_period_start"] = s.period_start
            out["current_period_end"] = s.period_end
            out["discount"] = self.r_discount(s.discount, s, v) if s.discount else None
        return out

    def r_invoice(self, s: SimSub, t: int, reason: str, status: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.oid("in"),
            "object": "invoice",
            "billing_reason": reason,
            "created": t,
            "currency": s.currency,
            "customer": s.customer,
            "period_start": s.period_start,
            "period_end": s.period_end,
            "status": status,
        }
        if self.version(t) == OLD:
            out["subscription"] = s.id
        else:
            out["parent"] = {
                "type": "subscription_details",
                "subscription_details": {"subscription": s.id, "metadata": {}},
            }
        return out

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
        v = self.version(t)
        before = self.r_sub(s, v)
        change()
        after = self.r_sub(s, v)
        prev = {k: before[k] for k in after if before.get(k) != after[k]}
        self.record(s, t)
        if prev:
            self.emit(t, "customer.subscription.updated", after, prev)
        return t

    def end_sub(self, s: SimSub, t: int) -> None:
        t = self.tick(s, t)
        s.status, s.ended_at = "canceled", t
        s.canceled_at = s.canceled_at or t
        self.record(s, t)
        self.emit(t, "customer.subscription.deleted", self.r_sub(s, self.version(t)))
        if s.discount:
            self.emit(
                t, "customer.discount.deleted", self.r_discount(s.discount, s, self.version(t))
            )
        live = [x for x in self.by_customer[s.customer] if self.subs[x].status != "canceled"]
        if not live and self.rng.random() < 0.25:
            self.schedule(t + self.rng.randint(30, 200) * DAY, "return", s.customer)

    def invoice(self, s: SimSub, t: int, reason: str, paid: bool) -> None:
        inv = self.r_invoice(s, t + 1, reason, "open")
        self.emit(t + 1, "invoice.created", inv)
        if paid:
            self.emit(t + 3600, "invoice.paid", {**inv, "status": "paid"})

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
        self.emit(t, "customer.discount.created", self.r_discount(s.discount, s, self.version(t)))

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
        self.emit(t, "customer.subscription.created", self.r_sub(s, self.version(t)))
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
        self.emit(
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
            self.emit(t, "customer.discount.deleted", self.r_discount(d, s, self.version(t)))
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
        inv = self.r_invoice(s, t, "subscription_cycle", "open")
        self.emit(t, "invoice.payment_failed", inv)
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
        inv = self.r_invoice(s, t, "subscription_cycle", "paid")
        self.emit(t, "invoice.paid", inv)

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
            self.emit(self.start, "coupon.created", self.r_coupon(c))
        for p in PRICES:
            self.emit(self.start, "price.created", self.r_price(p))
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


# --- the books ---------------------------------------------------------------------------


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


def _rate_table(rng: random.Random, start: int, months: int) -> dict[str, dict[str, str]]:
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


def books(sim: _Sim, months: int, table: dict[str, dict[str, str]]) -> dict[str, Any]:
    bounds = [add_months(sim.start, m) for m in range(months + 1)]
    times = {s.id: [h[0] for h in s.history] for s in sim.subs.values()}

    def snap(t: int) -> dict[str, dict[tuple[str, str], int]]:
        out: dict[str, dict[tuple[str, str], int]] = {}
        for s in sim.subs.values():
            i = bisect.bisect_left(times[s.id], t) - 1
            if i < 0:
                continue
            state = s.history[i][1]
            for pid, cur, amt in book_lines(state, t, sim.grace, sim.prices, sim.coupons):
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
    table = _rate_table(random.Random(seed + 1), t0, months)  # noqa: S311
    rates = {"reporting_currency": "usd", "rates": table}
    live = [s for s in sim.subs.values() if s.status != "canceled"]
    snap = {
        "object": "list",
        "url": "/v1/subscriptions",
        "has_more": False,
        "data": [sim.r_sub(s, CLOVER) for s in live],
    }
    result = SimResult(
        start=t0,
        end=t_end,
        books=books(sim, months, table),
        rates=rates,
        snapshot=snap,
        events=kept if keep_events else None,
        count=sim.count,
    )
    if out is not None:
        for suffix, payload in (
            ("books", {**result.books, "as_of": t_end}),
            ("rates", rates),
            ("snapshot", snap),
        ):
            Path(f"{out}.{suffix}.json").write_text(json.dumps(payload, indent=1))
    return result
