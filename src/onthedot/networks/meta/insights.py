"""A post's insights (developers.facebook.com/docs/graph-api/reference/insights; Threads and
Instagram answer the same shape): each metric's value, lifetime or total."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onthedot.networks.base import AuthRevoked, Permanent, Transient
from onthedot.networks.meta.caller import Caller

__all__ = ["optional_insight", "values_of"]


def values_of(body: Mapping[str, Any]) -> dict[str, int]:
    """Each metric's value, by name."""
    values: dict[str, int] = {}
    for metric in body.get("data") or []:
        if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
            continue
        points = metric.get("values")
        total = metric.get("total_value")
        value = (
            points[0].get("value")
            if isinstance(points, list) and points and isinstance(points[0], dict)
            else total.get("value")
            if isinstance(total, dict)
            else None
        )
        if isinstance(value, int):
            values[metric["name"]] = value
    return values


async def optional_insight(caller: Caller, node: str, metric: str) -> int | None:
    """One insight where the network offers it: older posts, or a token without the insights
    permission, still have their counts. Lost access is not shrugged off."""
    try:
        body = await caller.get(
            f"{node}/insights", doing="reading the post's insights", params={"metric": metric}
        )
    except (Permanent, Transient) as exc:
        if isinstance(exc, AuthRevoked):
            raise
        return None
    return values_of(body).get(metric)
