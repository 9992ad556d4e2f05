"""The simulation's Stripe events: its subscriptions, discounts, coupons, prices and invoices
rendered as Stripe objects in the API version of their time (the account is upgraded from an old
version to basil to clover along the way) and wrapped in event envelopes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from onthedot.revenue.sim_model import SimCoupon, SimDiscount, SimPrice, SimSub

OLD, BASIL, CLOVER = "2024-06-20", "2025-03-31.basil", "2025-09-30.clover"


# --- rendering, per API version ------------------------------------------------------------


def render_price(p: SimPrice) -> dict[str, Any]:
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


def render_coupon(c: SimCoupon) -> dict[str, Any]:
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


def render_discount(d: SimDiscount, s: SimSub, v: str) -> dict[str, Any]:
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
        out["coupon"] = render_coupon(d.coupon)
    return out


def render_sub(s: SimSub, v: str) -> dict[str, Any]:
    items = []
    for i in s.items:
        it: dict[str, Any] = {
            "id": i.id,
            "object": "subscription_item",
            "created": i.created,
            "price": render_price(i.price),
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
        out["discount"] = render_discount(s.discount, s, v) if s.discount else None
    return out


class EventWriter:
    """Sends each event, in the API version of its time, to `sink`, and counts them. Ids come
    from the simulation's random stream, so that a seed always gives the same events."""

    def __init__(
        self,
        rng: random.Random,
        start: int,
        end: int,
        sink: Callable[[dict[str, Any]], None],
    ) -> None:
        self.rng, self.start, self.end, self._emit = rng, start, end, sink
        self.count = 0

    # --- ids, versions, envelopes ---------------------------------------------------------
    def oid(self, prefix: str) -> str:
        return f"{prefix}_{self.rng.getrandbits(80):020x}"

    def version(self, t: int) -> str:
        x = (t - self.start) / (self.end - self.start)
        return OLD if x < 1 / 3 else BASIL if x < 2 / 3 else CLOVER

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

    # --- invoices: each takes a new id from the random stream -----------------------------
    def render_invoice(self, s: SimSub, t: int, reason: str, status: str) -> dict[str, Any]:
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
