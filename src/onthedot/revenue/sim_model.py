"""The simulated business: its catalogue (prices and coupons), calendar arithmetic, and the
state of each subscription as the simulator keeps it, including the history the books are kept
from. Used by the lifecycle (`simulate`), the Stripe event writer (`sim_events`) and the books
(`sim_books`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

UTC = dt.UTC
DAY = 86_400


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
