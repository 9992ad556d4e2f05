"""Monthly recurring revenue of each subscription item at an instant.

MRR of an item = its amount per billing period (price × quantity, or the price's tiers) less the
discounts in force, normalised to one month from the price's interval, rounded half up to the
minor unit. Which subscriptions count at all (trials, past_due, scheduled cancellations, metered
prices, one-off coupons) is decided by the `Policy`. Amounts stay in the subscription's currency
here; conversion happens where amounts are added up.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from onthedot.revenue.events import paused_gc
from onthedot.revenue.fx import Rates, round_half_up
from onthedot.revenue.normalised import Amount, Coupon, Discount, Item, Price, Subscription
from onthedot.revenue.policy import Policy
from onthedot.revenue.state import ENDED, Ledger

DAY = 86_400
UTC = dt.UTC

# customer -> (plan, currency) -> MRR in minor units of that currency
Snapshot = dict[str, dict[tuple[str, str], int]]


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ten times more to build
class MrrLine:
    customer: str
    subscription: str
    item: str
    plan: str
    currency: str
    amount: int  # minor units of `currency`


def add_months(t: int, months: int) -> int:
    """Calendar months after `t`, clamped to the month's last day (as Stripe does)."""
    d = dt.datetime.fromtimestamp(t, UTC)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (nxt - dt.timedelta(days=1)).day
    return int(d.replace(year=year, month=month, day=min(d.day, last_day)).timestamp())


def counted(sub: Subscription, t: int, past_due_since: int | None, policy: Policy) -> bool:
    """Whether a subscription in this state brings MRR at `t`."""
    if policy.cancellation == "when_scheduled" and (
        sub.cancel_at_period_end or sub.cancel_at is not None
    ):
        return False
    status = sub.status
    if status == "active":
        return True
    if status == "past_due":
        grace = policy.past_due_grace_days
        return grace is None or past_due_since is None or t < past_due_since + grace * DAY
    if status == "trialing":
        return policy.count_trials
    return False  # canceled, unpaid, paused, incomplete, incomplete_expired


def period_amount(price: Price, quantity: int, policy: Policy) -> Amount:
    """What one billing period of this price costs at this quantity, in minor units."""
    if price.usage_type == "metered":
        if policy.metered == "flat_fees" and price.tiers:
            return price.tiers[0].flat_amount
        return 0
    q = quantity
    if price.divide_by:
        q, rem = divmod(q, price.divide_by)
        q += 1 if (rem and price.round_up) else 0
    if price.billing_scheme != "tiered":
        return (price.unit_amount or 0) * q
    if price.tiers_mode == "volume":
        for tier in price.tiers:
            if tier.up_to is None or q <= tier.up_to:
                return tier.unit_amount * q + tier.flat_amount
        return 0
    total: Amount = 0  # graduated: each tier prices the units that fall in it
    below = 0
    for tier in price.tiers:
        top = q if tier.up_to is None else min(q, tier.up_to)
        n = top - below
        if n <= 0:
            break
        total += tier.unit_amount * n + tier.flat_amount
        below = top
    return total


def discount_applies(
    d: Discount, coupon: Coupon, dates: tuple[int | None, int | None], t: int, policy: Policy
) -> bool:
    if coupon.duration == "forever":
        return True
    if coupon.duration == "once":
        return policy.once_discounts == "apply"
    start, end = dates
    if end is None and start is not None and coupon.duration_in_months:
        end = add_months(start, coupon.duration_in_months)
    return end is None or t < end


def _discount(value: Fraction, coupon: Coupon, currency: str) -> Fraction:
    if coupon.percent_off is not None:
        return value * (1 - coupon.percent_off / 100)
    if coupon.amount_off is not None and (coupon.currency in (None, currency)):
        return max(Fraction(0), value - coupon.amount_off)
    return value


class Valuer:
    """Values subscription states under one policy; caches what does not depend on the state."""

    def __init__(self, policy: Policy, ledger: Ledger) -> None:
        self.policy, self.ledger = policy, ledger
        self._months: dict[tuple[str, int], tuple[int, int]] = {}

    def months(self, price: Price) -> tuple[int, int]:
        """Months per billing period as numerator, denominator."""
        assert price.interval is not None
        key = (price.interval, price.interval_count)
        found = self._months.get(key)
        if found is None:
            f = self.policy.months_per_interval(*key)
            found = self._months[key] = (f.numerator, f.denominator)
        return found

    def lines(self, sub: Subscription, t: int, past_due_since: int | None) -> list[MrrLine]:
        policy = self.policy
        if not counted(sub, t, past_due_since, policy):
            return []
        items = [i for i in sub.items if i.price.interval is not None]
        if policy.apply_discounts and (sub.discounts or any(i.discounts for i in items)):
            amounts: list[Amount] = self._discounted(sub, items, t)
        else:
            amounts = [period_amount(i.price, i.quantity, policy) for i in items]
        by_product = policy.plan_key == "product"
        out = []
        for item, value in zip(items, amounts, strict=True):
            num, den = self.months(item.price)
            if type(value) is int:  # the common case, in integers: round half up of v·den/num
                monthly = (2 * value * den + num) // (2 * num)
            else:
                monthly = round_half_up(Fraction(value) * den / num)
            if monthly:
                price = item.price
                plan = (price.product or "") if by_product else price.id
                out.append(MrrLine(sub.customer, sub.id, item.id, plan, price.currency, monthly))
        return out

    def _discounted(self, sub: Subscription, items: list[Item], t: int) -> list[Amount]:
        policy, ledger = self.policy, self.ledger
        amounts: list[Fraction] = []
        for item in items:
            value = Fraction(period_amount(item.price, item.quantity, policy))
            for d in item.discounts:
                c = ledger.coupon_for(d)
                if c is not None and discount_applies(d, c, ledger.discount_dates(d), t, policy):
                    value = _discount(value, c, sub.currency)
            amounts.append(value)
        for d in sub.discounts:
            c = ledger.coupon_for(d)
            if c is None or not discount_applies(d, c, ledger.discount_dates(d), t, policy):
                continue
            if c.percent_off is not None:
                amounts = [a * (1 - c.percent_off / 100) for a in amounts]
            elif c.amount_off is not None and c.currency in (None, sub.currency):
                total = sum(amounts, Fraction(0))
                if total > 0:  # an invoice-level amount, shared in proportion to the items
                    off = min(Fraction(c.amount_off), total)
                    amounts = [a - off * a / total for a in amounts]
        return list(amounts)


def subscription_lines(
    sub: Subscription, t: int, past_due_since: int | None, policy: Policy, ledger: Ledger
) -> list[MrrLine]:
    return Valuer(policy, ledger).lines(sub, t, past_due_since)


def lines_at(
    ledger: Ledger, t: int, policy: Policy, valuer: Valuer | None = None
) -> Iterator[MrrLine]:
    v = valuer or Valuer(policy, ledger)
    for tl in ledger.timelines.values():
        times = tl.times
        if times[0] >= t or (times[-1] < t and tl.states[-1].status in ENDED):
            continue
        i = bisect.bisect_left(times, t) - 1
        yield from v.lines(tl.states[i], t, tl.past_due_since[i])


def snapshot(ledger: Ledger, t: int, policy: Policy, valuer: Valuer | None = None) -> Snapshot:
    with paused_gc():
        return _snapshot(ledger, t, policy, valuer)


def _snapshot(ledger: Ledger, t: int, policy: Policy, valuer: Valuer | None) -> Snapshot:
    snap: Snapshot = {}
    for line in lines_at(ledger, t, policy, valuer):
        parts = snap.get(line.customer)
        if parts is None:
            parts = snap[line.customer] = {}
        key = (line.plan, line.currency)
        parts[key] = parts.get(key, 0) + line.amount
    return snap


def total(snap: Snapshot, rates: Rates, t: int) -> int:
    return sum(rates.convert(a, cur, t) for parts in snap.values() for (_, cur), a in parts.items())
