"""Exchange rates: amounts in other currencies converted to the reporting currency.

A rates table gives, per currency, a rate per month (one unit of the currency is worth `rate`
units of the reporting currency); a month without its own rate uses the latest earlier one.
Conversion works in minor units, so it accounts for currencies without decimals (JPY) and rounds
half up to the reporting currency's minor unit.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from onthedot.errors import InvalidInput

# ISO 4217 currencies Stripe treats as zero-decimal (amounts are whole units).
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)
UTC = dt.UTC


class MissingRate(InvalidInput):
    code = "missing_exchange_rate"
    title = "No exchange rate for a currency"


def exponent(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def month_start(t: int) -> int:
    d = dt.datetime.fromtimestamp(t, UTC)
    return int(dt.datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())


def round_half_up(x: Fraction) -> int:
    return int((x * 2 + 1) // 2)


@dataclass(frozen=True)
class Rates:
    reporting: str = "usd"
    # currency -> (sorted month-start epochs, rates)
    table: Mapping[str, tuple[tuple[int, ...], tuple[Fraction, ...]]] = field(default_factory=dict)

    def rate(self, currency: str, t: int) -> Fraction:
        cur = currency.lower()
        if cur == self.reporting:
            return Fraction(1)
        entry = self.table.get(cur)
        if entry is None:
            raise MissingRate(
                f"no exchange rate from {cur.upper()} to {self.reporting.upper()}; "
                "pass a rates table (--rates) that covers it",
                currency=cur,
            )
        months, rates = entry
        i = bisect.bisect_right(months, t) - 1
        return rates[max(i, 0)]  # before the first month given: the first rate

    def convert(self, amount: int, currency: str, t: int) -> int:
        """`amount` minor units of `currency` in minor units of the reporting currency at `t`."""
        if amount == 0:
            return 0
        cur = currency.lower()
        if cur == self.reporting:
            return amount
        shift = exponent(self.reporting) - exponent(cur)
        return round_half_up(amount * self.rate(cur, t) * Fraction(10) ** shift)

    def converter(self, t: int) -> dict[str, Fraction]:
        """Not used for correctness; handy for callers converting many amounts at one instant."""
        return {c: self.rate(c, t) for c in self.table}


def _parse_month(key: str) -> int:
    try:
        y, m = key.split("-")[:2]
        return int(dt.datetime(int(y), int(m), 1, tzinfo=UTC).timestamp())
    except ValueError as exc:
        raise InvalidInput(f"rates: {key!r} is not a month (YYYY-MM)") from exc


def rates_from_dict(raw: Mapping[str, Any], reporting: str | None = None) -> Rates:
    """`{"reporting_currency": "usd", "rates": {"eur": {"2024-01": "1.09", ...} | "1.09"}}`."""
    rep = str(reporting or raw.get("reporting_currency") or "usd").lower()
    table: dict[str, tuple[tuple[int, ...], tuple[Fraction, ...]]] = {}
    rates = raw.get("rates", {})
    if not isinstance(rates, Mapping):
        raise InvalidInput("rates: 'rates' must be an object of currency → rates")
    for cur, spec in rates.items():
        pairs: list[tuple[int, Fraction]]
        try:
            if isinstance(spec, Mapping):
                pairs = sorted((_parse_month(k), Fraction(str(v))) for k, v in spec.items())
            else:
                pairs = [(0, Fraction(str(spec)))]
        except (ValueError, ZeroDivisionError) as exc:
            raise InvalidInput(f"rates: a rate for {cur} is not a number") from exc
        if not pairs or any(r <= 0 for _, r in pairs):
            raise InvalidInput(f"rates: rates for {cur} must be positive numbers")
        table[str(cur).lower()] = (tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))
    return Rates(reporting=rep, table=table)


def load_rates(path: str | Path, reporting: str | None = None) -> Rates:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read rates table {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidInput(f"rates table {path} must be a JSON object")
    return rates_from_dict(raw, reporting)
