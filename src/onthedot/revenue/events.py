"""Stripe events in, one normalised model out.

Reads events from a JSON-lines export or from webhook payloads, validates them, deduplicates by
event id, orders them by `created`, and reads the subscription, discount, coupon and invoice shapes
of every supported API version into the same dataclasses (`normalised`, through `shapes`), so that
a stream that straddles an API upgrade reads as one history.

Bad input never stops the read: each bad line becomes a `Problem` naming the line, and the rest
is processed.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from onthedot.revenue.normalised import (
    Amount,
    Coupon,
    Discount,
    Event,
    Invoice,
    Item,
    Price,
    Subscription,
    Tier,
)
from onthedot.revenue.shapes import Normaliser, ShapeError, with_context

# The model (`normalised`) and the shape reader (`shapes`) used to be defined here; their names
# stay importable from this module.
__all__ = [
    "COUPON_EVENTS",
    "DISCOUNT_EVENTS",
    "INVOICE_EVENTS",
    "KNOWN_FAMILIES",
    "KNOWN_RELEASES",
    "MIN_SUPPORTED_VERSION",
    "SUBSCRIPTION_EVENTS",
    "Amount",
    "Coupon",
    "Discount",
    "Event",
    "EventReader",
    "IngestResult",
    "Invoice",
    "Item",
    "Normaliser",
    "Price",
    "Problem",
    "ShapeError",
    "Subscription",
    "Tier",
    "before_state",
    "check_version",
    "finish",
    "load_file",
    "merge_previous",
    "order_key",
    "paused_gc",
    "read_lines",
    "read_payloads",
]

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


@dataclass(slots=True)
class IngestResult:
    events: list[Event]
    problems: list[Problem] = field(default_factory=list)
    duplicates: int = 0
    lines: int = 0


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
                ev.previous = memoryview(_dumps(with_context(obj, prev))).tobytes()
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
