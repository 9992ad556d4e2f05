"""Stripe events in, one normalised model out.

Reads events from a JSON-lines export or from webhook payloads, validates them, deduplicates by
event id, orders them by `created`, and reads the subscription, discount, coupon and invoice shapes
of every supported API version into the same frozen dataclasses. Shapes are recognised by the
fields present rather than by the version string, so a stream that straddles an API upgrade (an
old endpoint and a new one, or an account upgraded mid-history) reads as one history:

* before `2025-03-31.basil` the billing period sits on the subscription; since then on each item;
* before basil a subscription has one `discount` object; since then a `discounts` array (ids, or
  objects when expanded), resolved through `customer.discount.*` events;
* before `2025-09-30.clover` a discount carries its `coupon` expanded; since then the coupon id is
  under `source.coupon` and is resolved through `coupon.*` events.

Bad input never stops the read: each bad line becomes a `Problem` naming the line, and the rest
is processed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

JsonCodec = tuple[Callable[[bytes | str], Any], Callable[[Any], bytes], type[ValueError]]


def _json_codec() -> JsonCodec:
    """orjson is several times faster when installed; the standard library otherwise."""
    try:
        import orjson  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment

        def dumps(value: Any) -> bytes:
            return json.dumps(value, separators=(",", ":")).encode()

        return json.loads, dumps, json.JSONDecodeError
    return orjson.loads, orjson.dumps, orjson.JSONDecodeError  # type: ignore[no-any-return,unused-ignore]


_loads, _dumps, _JSONError = _json_codec()

Amount = int | Fraction

# Prices replaced plans in 2020-08-27; earlier versions lack `price` on items and have other
# subscription shapes we do not read.
MIN_SUPPORTED_VERSION = "2020-08-27"
KNOWN_RELEASES = frozenset({"acacia", "basil", "clover"})
_VERSION_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([a-z]+))?$")
_TYPE_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")

# Object families Stripe sends events for. A well-formed type outside these is reported as
# unknown (kept, not used); types inside them that we do not analyse are kept silently.
KNOWN_FAMILIES = frozenset(
    {
        "account", "application_fee", "balance", "billing", "billing_portal", "capability",
        "cash_balance", "charge", "checkout", "climate", "coupon", "credit_note", "customer",
        "customer_cash_balance_transaction", "entitlements", "file", "financial_connections",
        "identity", "invoice", "invoice_payment", "invoiceitem", "issuing", "mandate",
        "payment_intent", "payment_link", "payment_method", "payout", "person", "plan", "price",
        "product", "promotion_code", "quote", "radar", "refund", "reporting", "review",
        "setup_intent", "sigma", "source", "subscription_schedule", "tax", "tax_rate",
        "terminal", "test_helpers", "topup", "transfer", "treasury",
    }
)  # fmt: skip

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.pending_update_applied",
        "customer.subscription.pending_update_expired",
        "customer.subscription.trial_will_end",
    }
)
INVOICE_EVENTS = frozenset(
    {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice.updated",
    }
)
COUPON_EVENTS = frozenset({"coupon.created", "coupon.updated", "coupon.deleted"})
DISCOUNT_EVENTS = frozenset(
    {"customer.discount.created", "customer.discount.updated", "customer.discount.deleted"}
)

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

# When two events share a second, definitions come before the subscriptions using them, and a
# subscription's creation before its updates before its end.
_TYPE_RANK = {
    "coupon.created": 0,
    "coupon.updated": 0,
    "customer.discount.created": 0,
    "customer.discount.updated": 0,
    "customer.subscription.created": 1,
    "customer.subscription.updated": 2,
    "customer.subscription.deleted": 4,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the input; `line` is the 1-based line of the export, if any."""

    code: str
    message: str
    line: int | None = None
    event_id: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.message}"


# Prices, tiers and coupons are shared between events and frozen. The per-event records below
# (discounts, items, subscriptions, invoices) are treated as immutable too but are plain slotted
# dataclasses: constructing a frozen one costs ten times more, and there are millions of them.


class ShapeError(ValueError):
    """An event or object that does not have the shape Stripe documents."""


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


@dataclass(slots=True)
class IngestResult:
    events: list[Event]
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    lines: int = 0


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


def _with_context(obj: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
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


def before_state(ev: Event, norm: Normaliser) -> Subscription | None:
    """The subscription as the update's `previous_attributes` say it was just before."""
    if ev.previous is None or ev.subscription is None:
        return None
    prev = _loads(ev.previous)
    if not isinstance(prev, dict):
        raise ShapeError("previous_attributes is not an object")
    return norm.before(ev.subscription, prev)


def merge_previous(obj: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """The object as it was before the update: `previous_attributes` holds the old values of the
    changed fields; nested objects (like `items`) are given whole or in part, so merge one level."""
    before = dict(obj)
    for key, old in previous.items():
        cur = before.get(key)
        if isinstance(old, dict) and isinstance(cur, dict):
            before[key] = {**cur, **old}
        else:
            before[key] = old
    return before


def check_version(version: Any) -> str | None:
    """None when readable, else why not."""
    if version is None:
        return None
    if not isinstance(version, str):
        return f"api_version {version!r} is not a string"
    m = _VERSION_RE.match(version)
    if not m:
        return f"api_version {version!r} is not a Stripe API version"
    if m.group(1) < MIN_SUPPORTED_VERSION:
        return (
            f"api_version {version} is older than {MIN_SUPPORTED_VERSION} (Prices API); "
            "its subscription shapes are not supported — re-export with a newer version"
        )
    return None


def _version_warning(version: Any) -> str | None:
    if not isinstance(version, str):
        return None
    m = _VERSION_RE.match(version)
    if m and m.group(2) and m.group(2) not in KNOWN_RELEASES:
        return f"api_version {version} is newer than this reader knows; read as clover shapes"
    return None


class EventReader:
    """Turns raw event dicts into `Event`s, collecting problems; keeps no state between runs
    other than the shared normaliser caches and the problem list of this read."""

    def __init__(self) -> None:
        self.norm = Normaliser()
        self.problems: list[Problem] = []
        self._warned_versions: set[str] = set()
        self._warned_types: set[str] = set()
        self._good_types: set[str] = set()
        self._versions: dict[Any, tuple[str | None, str | None]] = {}
        self._seq = 0

    def read(self, raw: Any, line: int | None = None) -> Event | None:
        eid = raw.get("id") if isinstance(raw, dict) else None
        try:
            return self._read(raw, line)
        except ShapeError as exc:
            self.problems.append(
                Problem(
                    "bad_event",
                    f"{exc}; event skipped",
                    line,
                    eid if isinstance(eid, str) else None,
                )
            )
            return None

    def _read(self, raw: Any, line: int | None) -> Event | None:
        if not isinstance(raw, dict):
            raise ShapeError("not a JSON object")
        eid, etype, created = raw.get("id"), raw.get("type"), raw.get("created")
        if not isinstance(eid, str) or not eid:
            raise ShapeError("event without an 'id'")
        if not isinstance(etype, str):
            raise ShapeError(f"event {eid} has no valid 'type' ({etype!r})")
        if etype not in self._good_types:
            if not _TYPE_RE.match(etype):
                raise ShapeError(f"event {eid} has no valid 'type' ({etype!r})")
            self._good_types.add(etype)
        if isinstance(created, bool) or not isinstance(created, int):
            raise ShapeError(f"event {eid} has no integer 'created'")
        version = raw.get("api_version")
        checked = self._versions.get(version)
        if checked is None:
            checked = self._versions[version] = (check_version(version), _version_warning(version))
        why, warn = checked
        if why:
            self.problems.append(
                Problem("unsupported_api_version", f"{why}; event skipped", line, eid)
            )
            return None
        if warn and isinstance(version, str) and version not in self._warned_versions:
            self._warned_versions.add(version)
            self.problems.append(Problem("new_api_version", warn, line, eid, "warning"))
        data = raw.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise ShapeError(f"event {eid} has no 'data.object'")
        self._seq += 1
        strings = self.norm._strings
        ev = Event(
            id=eid,
            type=strings.setdefault(etype, etype),
            created=created,
            api_version=strings.setdefault(version, version) if version else None,
            livemode=bool(raw.get("livemode")),
            line=line,
            seq=self._seq,
        )
        if etype in SUBSCRIPTION_EVENTS:
            ev.subscription = self.norm.subscription(obj)
            prev = data.get("previous_attributes") if isinstance(data, dict) else None
            if isinstance(prev, dict) and prev:
                # Copied to its exact size: orjson hands back a buffer of several kilobytes.
                ev.previous = memoryview(_dumps(_with_context(obj, prev))).tobytes()
        elif etype in INVOICE_EVENTS:
            ev.invoice = self.norm.invoice(obj, created)
            ev.invoice.event, ev.invoice.at = ev.type, created
        elif etype in COUPON_EVENTS:
            ev.coupon = self.norm.coupon(obj)
        elif etype in DISCOUNT_EVENTS:
            ev.discount = self.norm.discount(obj)
        elif etype.split(".", 1)[0] not in KNOWN_FAMILIES and etype not in self._warned_types:
            self._warned_types.add(etype)
            self.problems.append(
                Problem(
                    "unknown_event_type",
                    f"unknown event type {etype!r}; kept, not used for revenue",
                    line,
                    eid,
                    "warning",
                )
            )
        return ev


def order_key(ev: Event) -> tuple[int, int, int]:
    return (ev.created, _TYPE_RANK.get(ev.type, 3), ev.seq)


def finish(reader: EventReader, events: Iterable[Event], lines: int = 0) -> IngestResult:
    """Deduplicate by id (first delivery wins) and order by `created`."""
    seen: set[str] = set()
    kept: list[Event] = []
    dups = 0
    for ev in events:
        if ev.id in seen:
            dups += 1
            continue
        seen.add(ev.id)
        kept.append(ev)
    kept.sort(key=order_key)
    return IngestResult(events=kept, problems=reader.problems, duplicates=dups, lines=lines)


def _iter_lines(lines: Iterable[bytes], reader: EventReader, counter: list[int]) -> Iterator[Event]:
    loads = _loads
    for n, raw_line in enumerate(lines, 1):
        counter[0] = n
        text = raw_line.strip()
        if not text:
            continue
        try:
            raw = loads(text)
        except (_JSONError, UnicodeDecodeError) as exc:
            if not raw_line.endswith(b"\n"):
                msg = "truncated: the file ends in the middle of an event; line skipped"
                reader.problems.append(Problem("truncated", msg, n))
            else:
                msg = f"not valid JSON ({exc}); line skipped"
                reader.problems.append(Problem("malformed_json", msg, n))
            continue
        ev = reader.read(raw, n)
        if ev is not None:
            yield ev


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of objects that hold no
    cycles: otherwise every few thousand allocations it rescans everything built so far, which
    made reading a million events several times slower. Restores the previous setting."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_lines(lines: Iterable[bytes]) -> IngestResult:
    """Read JSON-lines (bytes, each with its newline as a file gives them)."""
    reader = EventReader()
    counter = [0]
    with paused_gc():
        events = list(_iter_lines(lines, reader, counter))
        return finish(reader, events, counter[0])


def load_file(path: str | Path) -> IngestResult:
    with open(path, "rb") as fh:
        return read_lines(fh)


def read_payloads(payloads: Iterable[str | bytes]) -> IngestResult:
    """Events stored one per row (the webhook table): no line numbers, same checks."""
    with paused_gc():
        return _read_payloads(payloads)


def _read_payloads(payloads: Iterable[str | bytes]) -> IngestResult:
    reader = EventReader()
    out = []
    for p in payloads:
        try:
            raw = _loads(p)
        except _JSONError as exc:
            reader.problems.append(Problem("malformed_json", f"stored event is not JSON: {exc}"))
            continue
        ev = reader.read(raw)
        if ev is not None:
            out.append(ev)
    return finish(reader, out)
