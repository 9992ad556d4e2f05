"""Hand-written Stripe events for the worked examples: small builders, so each test spells out
only what matters to it."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from onthedot.revenue.events import IngestResult, read_lines

OLD, BASIL, CLOVER = "2024-06-20", "2025-03-31.basil", "2025-09-30.clover"
_ids = itertools.count(1)


def ts(y: int, m: int, d: int = 1, h: int = 0) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=dt.UTC).timestamp())


def price(
    pid: str = "price_a",
    amount: int | None = 1000,
    interval: str = "month",
    count: int = 1,
    currency: str = "usd",
    product: str = "prod_a",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": pid,
        "object": "price",
        "currency": currency,
        "product": product,
        "unit_amount": amount,
        "billing_scheme": "per_unit",
        "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
        **extra,
    }


def coupon(cid: str, duration: str, **kw: Any) -> dict[str, Any]:
    return {"id": cid, "object": "coupon", "duration": duration, "percent_off": None,
            "amount_off": None, "currency": None, "duration_in_months": None, **kw}  # fmt: skip


def sub(
    sid: str = "sub_1",
    customer: str = "cus_1",
    items: list[tuple[dict[str, Any], int]] | None = None,
    status: str = "active",
    start: int | None = None,
    end: int | None = None,
    version: str = OLD,
    discount: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    start = start if start is not None else ts(2024, 1, 15)
    end = end if end is not None else ts(2024, 2, 15)
    data = []
    for n, (p, q) in enumerate(items or [(price(), 1)]):
        it: dict[str, Any] = {"id": f"si_{sid}_{n}", "object": "subscription_item", "price": p,
                              "quantity": q}  # fmt: skip
        if version != OLD:
            it["current_period_start"], it["current_period_end"] = start, end
        data.append(it)
    obj: dict[str, Any] = {
        "id": sid,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": data[0]["price"]["currency"],
        "items": {"object": "list", "data": data},
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "trial_start": None,
        "trial_end": None,
    }
    if version == OLD:
        obj["current_period_start"], obj["current_period_end"] = start, end
        obj["discount"] = discount
    else:
        obj["discounts"] = [discount["id"]] if discount else []
    obj.update(extra)
    return obj


def event(
    etype: str,
    created: int,
    obj: dict[str, Any],
    prev: dict[str, Any] | None = None,
    version: str = OLD,
    eid: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if prev is not None:
        data["previous_attributes"] = prev
    return {"id": eid or f"evt_{next(_ids)}", "object": "event", "api_version": version,
            "created": created, "data": data, "type": etype, "livemode": False}  # fmt: skip


def lines(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() + b"\n" for e in events]


def ingest(events: list[dict[str, Any]]) -> IngestResult:
    return read_lines(lines(events))
