"""How the sandbox behaves: latency, failures, rate limits and deduplication.

The sandbox exists to show what onthedot does when a network is slow, flaky, strict or unable
to say what it already has. Every one of those is a field here, and every field can be changed
while the sandbox runs (`PUT /api/v1/config`), so a demo or a test can turn a failure on and off.
"""

from __future__ import annotations

import math
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Idempotency",
    "Latency",
    "RateLimit",
    "SandboxConfig",
    "describe_errors",
    "sample_latency_s",
]

Idempotency = Literal["key", "none", "blind"]

# The 99th percentile of the standard normal distribution: a lognormal latency with median m
# reaches its 99th percentile p at exp(ln m + Z99 * sigma).
Z99 = 2.3263478740408408


class Latency(BaseModel):
    """How long the sandbox waits before it answers: never, always `median_ms`, or a lognormal
    spread (real networks have a long tail) with the given median and 99th percentile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["none", "fixed", "lognormal"] = "none"
    median_ms: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    p99_ms: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> Latency:
        if self.kind == "lognormal":
            if self.median_ms <= 0:
                raise ValueError("a lognormal latency needs median_ms above 0")
            if self.p99_ms < self.median_ms:
                raise ValueError(
                    f"p99_ms ({self.p99_ms:g}) must be at least median_ms ({self.median_ms:g})"
                )
        return self


class RateLimit(BaseModel):
    """At most `requests` post requests per account in each fixed window of `window_s`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = Field(ge=1)
    window_s: float = Field(gt=0, allow_inf_nan=False)


class SandboxConfig(BaseModel):
    """The sandbox's behaviour. The three rates are shares of post requests, drawn from one
    random number each, so together they may not exceed 1."""

    model_config = ConfigDict(extra="forbid")

    latency: Latency = Latency()
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Answered 503, nothing made.")
    ghost_rate: float = Field(default=0.0, ge=0, le=1, description="Created, but answered 502.")
    throttle_rate: float = Field(default=0.0, ge=0, le=1, description="Answered 429, 1 s wait.")
    rate_limit: RateLimit | None = None
    idempotency: Idempotency = "key"
    max_chars: int = Field(default=500, ge=1)
    revoked_tokens: list[str] = Field(default_factory=list)
    max_media_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    seed: int | None = None

    @model_validator(mode="after")
    def _rates_fit(self) -> SandboxConfig:
        total = self.error_rate + self.ghost_rate + self.throttle_rate
        if total > 1 + 1e-9:
            raise ValueError(
                f"error_rate + ghost_rate + throttle_rate is {total:g}; together they are "
                "shares of the same requests and may not exceed 1"
            )
        return self

    def merged(self, changes: dict[str, Any]) -> SandboxConfig:
        """This config with the top-level fields in `changes` replaced (nested objects such as
        `latency` are replaced whole), validated again."""
        return SandboxConfig.model_validate({**self.model_dump(), **changes})


def describe_errors(exc: ValidationError) -> str:
    """One line a person can act on: each problem as `field: what is wrong`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def sample_latency_s(latency: Latency, rng: random.Random) -> float:
    """One latency in seconds, drawn from `rng`."""
    if latency.kind == "none":
        return 0.0
    if latency.kind == "fixed":
        return latency.median_ms / 1000
    mu = math.log(latency.median_ms)
    sigma = math.log(latency.p99_ms / latency.median_ms) / Z99
    return rng.lognormvariate(mu, sigma) / 1000
