"""The settable choices behind an MRR figure, each with the common choice as its default.

Two MRR numbers disagree most often because they were computed with different policies, not
because one is wrong; so every choice is named here, documented in `docs/revenue.md`, and passed
explicitly to the analysis.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reporting_currency: str = Field(
        default="usd",
        description="Currency of every reported amount; others are converted with a rates table.",
    )
    plan_key: Literal["price", "product"] = Field(
        default="price",
        description="What a 'plan' is in by-plan reports: the Stripe price (Pro monthly and Pro "
        "yearly apart, as Stripe's plans were) or the product (all of Pro together).",
    )
    count_trials: bool = Field(
        default=False,
        description="Count trialing subscriptions at their post-trial price. Off: a trial pays "
        "nothing, and counts as new business when it converts.",
    )
    metered: Literal["exclude", "flat_fees"] = Field(
        default="exclude",
        description="Metered prices have no fixed amount: exclude them, or count only the flat "
        "fee of their first tier (the part billed whatever the usage).",
    )
    past_due_grace_days: int | None = Field(
        default=30,
        ge=0,
        description="A past_due subscription counts for this many days after it became past_due, "
        "then counts as churned until it pays. None: count it until Stripe ends it.",
    )
    cancellation: Literal["at_end", "when_scheduled"] = Field(
        default="at_end",
        description="Count a cancellation when the subscription ends (it is still paid until "
        "then), or as soon as it is scheduled.",
    )
    apply_discounts: bool = Field(
        default=True, description="Subtract coupons (percent or amount off) from MRR."
    )
    once_discounts: Literal["ignore", "apply"] = Field(
        default="ignore",
        description="A 'once' coupon discounts one invoice, not the recurring revenue: ignore it, "
        "or subtract it for as long as Stripe keeps it on the subscription.",
    )
    days_per_year: str = Field(
        default="365", description="Normalising daily prices: MRR = daily × days_per_year / 12."
    )
    weeks_per_year: str = Field(
        default="52", description="Normalising weekly prices: MRR = weekly × weeks_per_year / 12."
    )
    renewal_slack_hours: int = Field(
        default=24,
        ge=0,
        description="Audit: how long after a period ends its renewal may arrive before it is "
        "reported missing.",
    )

    @field_validator("reporting_currency")
    @classmethod
    def _lower(cls, v: str) -> str:
        if not v.isalpha() or len(v) != 3:
            raise ValueError("a three-letter ISO currency code")
        return v.lower()

    @field_validator("days_per_year", "weeks_per_year")
    @classmethod
    def _number(cls, v: str) -> str:
        try:
            if Fraction(v) <= 0:
                raise ValueError("must be positive")
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"not a positive number: {v!r}") from exc
        return v

    def months_per_interval(self, interval: str, count: int) -> Fraction:
        """How many months one billing period lasts; MRR = period amount / this."""
        if interval == "month":
            return Fraction(count)
        if interval == "year":
            return Fraction(12 * count)
        if interval == "week":
            return Fraction(12 * count) / Fraction(self.weeks_per_year)
        if interval == "day":
            return Fraction(12 * count) / Fraction(self.days_per_year)
        raise ValueError(f"unknown interval {interval!r}")


DEFAULT_POLICY = Policy()
