"""Stripe objects, in the shape of any supported API version, read into the normalised model.

Shapes are recognised by the fields present rather than by the version string, so a stream that
straddles an API upgrade (an old endpoint and a new one, or an account upgraded mid-history) reads
as one history:

* before `2025-03-31.basil` the billing period sits on the subscription; since then on each item;
* before basil a subscription has one `discount` object; since then a `discounts` array (ids, or
  objects when expanded), resolved through `customer.discount.*` events;
* before `2025-09-30.clover` a discount carries its `coupon` expanded; since then the coupon id is
  under `source.coupon` and is resolved through `coupon.*` events.

An update's `previous_attributes` are read back onto the parsed subscription to give the
subscription as it was just before (`Normaliser.before`).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any

from onthedot.revenue.normalised import (
    Amount,
    Coupon,
    Discount,
    Invoice,
    Item,
    Price,
    Subscription,
    Tier,
)


class ShapeError(ValueError):
    """An event or object that does not have the shape Stripe documents."""


# `previous_attributes` keys that map to one scalar field of the model; `items` and
# `discount(s)` are handled apart, and every other key is a field the model does not read.
_SCALAR_PREVIOUS = {
    "status": "status",
    "customer": "customer",
    "currency": "currency",
    "cancel_at_period_end": "cancel_at_period_end",
    "cancel_at": "cancel_at",
    "canceled_at": "canceled_at",
    "ended_at": "ended_at",
    "trial_start": "trial_start",
    "trial_end": "trial_end",
    "current_period_start": "period_start",
    "current_period_end": "period_end",
}


# --- small readers -------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    """An expandable field: an id string, or the expanded object's id."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    raise ShapeError(f"expected an id or an object with an id, got {type(value).__name__}")


def _int(value: Any, name: str) -> int | None:
    if value is None or type(value) is int:
        return value
    raise ShapeError(f"'{name}' should be an integer, got {value!r}")


def _amount(value: Any, decimal: Any, name: str) -> Amount | None:
    """Stripe gives `unit_amount` in minor units, and `unit_amount_decimal` for sub-cent prices."""
    if value is not None:
        v = _int(value, name)
        return v
    if decimal is not None:
        try:
            f = Fraction(str(decimal))
        except (ValueError, ZeroDivisionError) as exc:
            raise ShapeError(f"'{name}_decimal' is not a number: {decimal!r}") from exc
        return f.numerator if f.denominator == 1 else f
    return None


class Normaliser:
    """Reads Stripe objects into the model, sharing identical prices and coupons between events
    so that a million events do not hold a million copies of the same price."""

    def __init__(self) -> None:
        self._prices: dict[tuple[Any, ...], Price] = {}
        self._coupons: dict[tuple[Any, ...], Coupon] = {}
        self._strings: dict[str, str] = {}

    def _s(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def price(self, obj: Any) -> Price:
        if not isinstance(obj, dict):
            raise ShapeError("subscription item has no expanded price or plan")
        recurring = obj.get("recurring")
        if obj.get("object") == "plan":  # legacy plan objects on old items
            recurring = {
                "interval": obj.get("interval"),
                "interval_count": obj.get("interval_count"),
                "usage_type": obj.get("usage_type"),
            }
            amount, amount_dec = obj.get("amount"), obj.get("amount_decimal")
        else:
            amount, amount_dec = obj.get("unit_amount"), obj.get("unit_amount_decimal")
        # Stripe never changes a price's amounts, so a price is known by its id and the fields
        # most likely to differ if an event were corrupted; tiers come with the first sighting.
        rec = recurring if isinstance(recurring, dict) else {}
        key = (
            obj.get("id"),
            amount,
            amount_dec,
            obj.get("currency"),
            rec.get("interval"),
            rec.get("interval_count"),
            rec.get("usage_type"),
            obj.get("billing_scheme"),
        )
        found = self._prices.get(key)
        if found is not None:
            return found
        pid = obj.get("id")
        currency = obj.get("currency")
        if not isinstance(pid, str) or not isinstance(currency, str):
            raise ShapeError("price without an id or a currency")
        interval = interval_count = usage_type = None
        if isinstance(recurring, dict):
            interval = recurring.get("interval")
            interval_count = _int(recurring.get("interval_count"), "interval_count")
            usage_type = recurring.get("usage_type")
            if interval not in ("day", "week", "month", "year"):
                raise ShapeError(f"price {pid}: unknown interval {interval!r}")
        tiers = []
        for t in obj.get("tiers") or ():
            if not isinstance(t, dict):
                raise ShapeError(f"price {pid}: a tier is not an object")
            up_to = t.get("up_to")
            ua = _amount(t.get("unit_amount"), t.get("unit_amount_decimal"), "unit_amount")
            fa = _amount(t.get("flat_amount"), t.get("flat_amount_decimal"), "flat_amount")
            tiers.append(
                Tier(
                    up_to=None if up_to in (None, "inf") else _int(up_to, "up_to"),
                    unit_amount=ua or 0,
                    flat_amount=fa or 0,
                )
            )
        tq = obj.get("transform_quantity")
        price = Price(
            id=self._s(pid),
            product=self._s(p) if (p := _id(obj.get("product"))) else None,
            currency=currency.lower(),
            unit_amount=_amount(amount, amount_dec, "unit_amount"),
            interval=interval,
            interval_count=interval_count or 1,
            usage_type=str(usage_type or "licensed"),
            billing_scheme=str(obj.get("billing_scheme") or "per_unit"),
            tiers_mode=obj.get("tiers_mode"),
            tiers=tuple(tiers),
            divide_by=_int(tq.get("divide_by"), "divide_by") if isinstance(tq, dict) else None,
            round_up=isinstance(tq, dict) and tq.get("round") == "up",
        )
        self._prices[key] = price
        return price

    def coupon(self, obj: Any) -> Coupon:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise ShapeError("coupon without an id")
        key = (
            obj["id"],
            obj.get("percent_off"),
            obj.get("amount_off"),
            obj.get("currency"),
            obj.get("duration"),
            obj.get("duration_in_months"),
        )
        found = self._coupons.get(key)
        if found is not None:
            return found
        duration = obj.get("duration")
        if duration not in ("once", "repeating", "forever"):
            raise ShapeError(f"coupon {obj['id']}: unknown duration {duration!r}")
        pct = obj.get("percent_off")
        coupon = Coupon(
            id=self._s(obj["id"]),
            percent_off=Fraction(str(pct)) if pct is not None else None,
            amount_off=_int(obj.get("amount_off"), "amount_off"),
            currency=str(obj["currency"]).lower() if obj.get("currency") else None,
            duration=duration,
            duration_in_months=_int(obj.get("duration_in_months"), "duration_in_months"),
        )
        self._coupons[key] = coupon
        return coupon

    def discount(self, obj: Any) -> Discount:
        """A discount id (basil+, unexpanded) or object (any version)."""
        if isinstance(obj, str):
            return Discount(id=self._s(obj), coupon_id=None, coupon=None, start=None, end=None)
        if not isinstance(obj, dict):
            raise ShapeError("discount is neither an id nor an object")
        raw_coupon = obj.get("coupon")
        if raw_coupon is None and isinstance(obj.get("source"), dict):  # clover
            raw_coupon = obj["source"].get("coupon")
        coupon = self.coupon(raw_coupon) if isinstance(raw_coupon, dict) else None
        coupon_id = coupon.id if coupon else _id(raw_coupon)
        did = obj.get("id")
        return Discount(
            id=self._s(did) if isinstance(did, str) else None,
            coupon_id=coupon_id,
            coupon=coupon,
            start=_int(obj.get("start"), "start"),
            end=_int(obj.get("end"), "end"),
            customer=_id(obj.get("customer")),
            subscription=_id(obj.get("subscription")),
        )

    def _discounts(self, obj: dict[str, Any]) -> tuple[Discount, ...]:
        single = obj.get("discount")
        single_d = self.discount(single) if isinstance(single, dict) else None
        many = obj.get("discounts")
        if many is None:
            return (single_d,) if single_d else ()
        if not isinstance(many, list):
            raise ShapeError("'discounts' is not an array")
        out = []
        for d in many:
            if isinstance(d, str) and single_d is not None and single_d.id == d:
                out.append(single_d)  # pre-basil objects carry both; keep the expanded one
            else:
                out.append(self.discount(d))
        return tuple(out)

    def subscription(self, obj: Any) -> Subscription:
        if not isinstance(obj, dict):
            raise ShapeError("subscription is not an object")
        get = obj.get
        sid, customer, status = get("id"), get("customer"), get("status")
        if isinstance(customer, dict):
            customer = customer.get("id")
        if type(sid) is not str or type(customer) is not str or type(status) is not str:
            raise ShapeError("subscription without id, customer or status")
        items_obj = get("items")
        data = items_obj.get("data") if isinstance(items_obj, dict) else None
        if not isinstance(data, list):
            raise ShapeError(f"subscription {sid}: 'items.data' is missing")
        sub_ps = _int(get("current_period_start"), "current_period_start")
        sub_pe = _int(get("current_period_end"), "current_period_end")
        items = tuple(self._item(it, sid, sub_ps, sub_pe) for it in data)
        if sub_ps is None and items:  # basil+: the subscription's period spans its items'
            sub_ps = min((i.period_start for i in items if i.period_start), default=None)
            sub_pe = max((i.period_end for i in items if i.period_end), default=None)
        currency = get("currency") or (items[0].price.currency if items else "")
        strings = self._strings
        return Subscription(
            id=strings.setdefault(sid, sid),
            customer=strings.setdefault(customer, customer),
            status=strings.setdefault(status, status),
            currency=str(currency).lower(),
            items=items,
            discounts=self._discounts(obj),
            cancel_at_period_end=bool(get("cancel_at_period_end")),
            cancel_at=_int(get("cancel_at"), "cancel_at"),
            canceled_at=_int(get("canceled_at"), "canceled_at"),
            ended_at=_int(get("ended_at"), "ended_at"),
            trial_start=_int(get("trial_start"), "trial_start"),
            trial_end=_int(get("trial_end"), "trial_end"),
            period_start=sub_ps,
            period_end=sub_pe,
        )

    def _item(self, it: Any, sid: str, sub_ps: int | None, sub_pe: int | None) -> Item:
        if not isinstance(it, dict) or type(it.get("id")) is not str:
            raise ShapeError(f"subscription {sid}: an item has no id")
        get = it.get
        ps = _int(get("current_period_start"), "current_period_start")
        pe = _int(get("current_period_end"), "current_period_end")
        qty = get("quantity")
        iid = it["id"]
        return Item(
            id=self._strings.setdefault(iid, iid),
            price=self.price(get("price") or get("plan")),
            quantity=1 if qty is None else (_int(qty, "quantity") or 0),
            period_start=ps if ps is not None else sub_ps,
            period_end=pe if pe is not None else sub_pe,
            discounts=self._discounts(it) if (get("discounts") or get("discount")) else (),
        )

    def before(self, sub: Subscription, prev: dict[str, Any]) -> Subscription:
        """The subscription as `previous_attributes` says it was before the update: the changed
        fields the model reads are patched onto the parsed object (parsing again only the items
        or discounts when those changed); fields the model does not read are ignored."""
        changes: dict[str, Any] = {}
        for key, value in prev.items():
            name = _SCALAR_PREVIOUS.get(key)
            if name == "cancel_at_period_end":
                changes[name] = bool(value)
            elif name == "status" or name == "customer":
                value = _id(value)
                if type(value) is not str:
                    raise ShapeError(f"previous {key} is not a string")
                changes[name] = value
            elif name == "currency":
                changes[name] = str(value).lower()
            elif name:
                changes[name] = _int(value, key)
        ps = changes.get("period_start", sub.period_start)
        pe = changes.get("period_end", sub.period_end)
        if "items" in prev:
            old = prev["items"]
            data = old.get("data") if isinstance(old, dict) else None
            if not isinstance(data, list):
                raise ShapeError(f"subscription {sub.id}: previous 'items.data' is missing")
            has_own = bool(prev.get("_sub_periods"))
            items = tuple(
                self._item(it, sub.id, ps if has_own else None, pe if has_own else None)
                for it in data
            )
            changes["items"] = items
            if not has_own and items:  # basil+: the period spans the items'
                changes["period_start"] = min(
                    (i.period_start for i in items if i.period_start), default=None
                )
                changes["period_end"] = max(
                    (i.period_end for i in items if i.period_end), default=None
                )
        elif "period_start" in changes or "period_end" in changes:
            # Old versions: items have no period of their own and inherit the subscription's.
            changes["items"] = tuple(
                dataclasses.replace(i, period_start=ps, period_end=pe)
                if (i.period_start, i.period_end) == (sub.period_start, sub.period_end)
                else i
                for i in sub.items
            )
        if "discount" in prev or "discounts" in prev:
            changes["discounts"] = self._discounts(prev)
        return dataclasses.replace(sub, **changes) if changes else sub

    def invoice(self, obj: Any, created: int) -> Invoice:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            raise ShapeError("invoice without an id")
        sub = obj.get("subscription")
        parent = obj.get("parent")
        if sub is None and isinstance(parent, dict):  # basil+: parent.subscription_details
            details = parent.get("subscription_details")
            if isinstance(details, dict):
                sub = details.get("subscription")
        return Invoice(
            id=obj["id"],
            customer=_id(obj.get("customer")),
            subscription=_id(sub),
            billing_reason=obj.get("billing_reason"),
            status=obj.get("status"),
            created=_int(obj.get("created"), "created") or created,
            period_start=_int(obj.get("period_start"), "period_start"),
            period_end=_int(obj.get("period_end"), "period_end"),
        )


def with_context(obj: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    """What `Normaliser.before` needs of the current object besides `previous_attributes`: the
    unchanged half of a pre-basil discount pair, and whether the period is the subscription's."""
    out = prev
    if ("discount" in prev) != ("discounts" in prev):
        other = "discounts" if "discount" in prev else "discount"
        if other in obj:
            out = {**out, other: obj[other]}
    if "items" in prev and obj.get("current_period_start") is not None:
        out = {**out, "_sub_periods": True}
    return out
