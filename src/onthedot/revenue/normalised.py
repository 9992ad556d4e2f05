"""The normalised model Stripe events are read into: prices, coupons, discounts, subscription
items, subscriptions, invoices and the event record itself.

One set of dataclasses for every supported API version; `shapes` reads each version's objects
into them and `events` reads whole events.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

Amount = int | Fraction

# Prices, tiers and coupons are shared between events and frozen. The per-event records below
# (discounts, items, subscriptions, invoices) are treated as immutable too but are plain slotted
# dataclasses: constructing a frozen one costs ten times more, and there are millions of them.


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int | None  # None is Stripe's "inf"
    unit_amount: Amount
    flat_amount: Amount


@dataclass(frozen=True, slots=True)
class Price:
    id: str
    product: str | None
    currency: str
    unit_amount: Amount | None
    interval: str | None  # None: a one-off price
    interval_count: int
    usage_type: str  # licensed | metered
    billing_scheme: str  # per_unit | tiered
    tiers_mode: str | None  # graduated | volume
    tiers: tuple[Tier, ...]
    divide_by: int | None  # transform_quantity
    round_up: bool


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    percent_off: Fraction | None
    amount_off: int | None
    currency: str | None
    duration: str  # once | repeating | forever
    duration_in_months: int | None


@dataclass(slots=True)
class Discount:
    """A discount as referenced from a subscription; `coupon` is None until resolved."""

    id: str | None
    coupon_id: str | None
    coupon: Coupon | None
    start: int | None
    end: int | None
    customer: str | None = None
    subscription: str | None = None


@dataclass(slots=True)
class Item:
    id: str
    price: Price
    quantity: int
    period_start: int | None
    period_end: int | None
    discounts: tuple[Discount, ...]


@dataclass(slots=True)
class Subscription:
    id: str
    customer: str
    status: str
    currency: str
    items: tuple[Item, ...]
    discounts: tuple[Discount, ...]
    cancel_at_period_end: bool
    cancel_at: int | None
    canceled_at: int | None
    ended_at: int | None
    trial_start: int | None
    trial_end: int | None
    period_start: int | None
    period_end: int | None


@dataclass(slots=True)
class Invoice:
    id: str
    customer: str | None
    subscription: str | None
    billing_reason: str | None
    status: str | None
    created: int
    period_start: int | None
    period_end: int | None
    event: str = ""  # the event type that delivered it (invoice.paid, invoice.payment_failed…)
    at: int = 0  # when that event happened


@dataclass(slots=True)
class Event:
    """One Stripe event, with its object read into the normalised model where we use it."""

    id: str
    type: str
    created: int
    api_version: str | None
    livemode: bool
    line: int | None
    seq: int
    subscription: Subscription | None = None
    # `previous_attributes` of an update, kept as compact JSON: only the audit reads it (through
    # `before_state`), and parsing it for every event would double the cost of reading.
    previous: bytes | None = None
    coupon: Coupon | None = None
    discount: Discount | None = None
    invoice: Invoice | None = None
