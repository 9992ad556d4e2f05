"""The spike's maths: what the sandbox received, counted against what was due.

Pure functions over the sandbox's request records; nothing here does I/O.

- early: posts created before their due time (must be 0);
- duplicated: posts created more than once (the sandbox runs without deduplication by
  default, so a second execution shows as a second post);
- lost: posts never created;
- lateness: first creation's arrival at the sandbox minus the due time;
- drain: the last post request's arrival minus T.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from onthedot.observability.lateness import summary

NAMES = (
    "floor",
    "onthedot-sqlite",
    "onthedot-postgres-1",
    "onthedot-postgres-2",
    "celery",
    "apscheduler",
    "procrastinate",
    "cron-poller",
)
ONTHEDOT = tuple(n for n in NAMES if n.startswith("onthedot-"))
# Lateness buckets of the chart, in seconds: [lower, upper).
BUCKETS: tuple[tuple[float, float, str], ...] = (
    (-math.inf, 0.0, "early"),
    (0.0, 0.1, "<0.1 s"),
    (0.1, 0.5, "0.1-0.5 s"),
    (0.5, 1.0, "0.5-1 s"),
    (1.0, 2.0, "1-2 s"),
    (2.0, 5.0, "2-5 s"),
    (5.0, 10.0, "5-10 s"),
    (10.0, 30.0, "10-30 s"),
    (30.0, 60.0, "30-60 s"),
    (60.0, math.inf, ">=60 s"),
)
PEER_FACTOR = 5.0  # onthedot's p99 must be at least this many times lower than each peer's
DRAIN_FACTOR = 1.2  # onthedot's drain within this many times the floor's
SMALL_SPIKE = 2000  # the spike size of the "p99 under 1 s" target
SMALL_SPIKE_P99_S = 1.0


def _utc(value: Any) -> dt.datetime:
    instant = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Counted:
    """What the sandbox's records say about the expected posts."""

    posts: int
    requests: int  # post requests for expected refs, whatever their answer
    created: int  # posts created for expected refs, copies included
    early: int
    duplicated: int
    lost: int
    lateness: list[float]  # per post created at least once: first creation minus due time
    drain_s: float | None  # last request's arrival minus T
    foreign: int  # requests for refs nobody expected

    @property
    def summary(self) -> dict[str, float | None]:
        return summary(self.lateness)


def count(
    records: Iterable[Mapping[str, Any]], due: Mapping[str, dt.datetime], t: dt.datetime
) -> Counted:
    """Count `records` (the sandbox's `/api/v1/requests`) against `due` (ref -> due time).

    A post is early when any of its creations arrived before its due time, duplicated when it
    was created more than once, lost when it was never created.
    """
    copies: Counter[str] = Counter()
    first: dict[str, dt.datetime] = {}
    early_refs: set[str] = set()
    requests = foreign = 0
    last: dt.datetime | None = None
    for record in records:
        ref = record.get("ref")
        if not isinstance(ref, str) or ref not in due:
            foreign += 1
            continue
        requests += 1
        arrived = _utc(record["arrived_at"])
        if last is None or arrived > last:
            last = arrived
        if not record.get("created"):
            continue
        copies[ref] += 1
        if arrived < due[ref]:
            early_refs.add(ref)
        if ref not in first or arrived < first[ref]:
            first[ref] = arrived
    return Counted(
        posts=len(due),
        requests=requests,
        created=sum(copies.values()),
        early=len(early_refs),
        duplicated=sum(1 for n in copies.values() if n > 1),
        lost=sum(1 for ref in due if ref not in copies),
        lateness=[(first[ref] - due[ref]).total_seconds() for ref in first],
        drain_s=None if last is None else (last - t).total_seconds(),
        foreign=foreign,
    )


def bucketed(lateness: Iterable[float]) -> list[tuple[str, int]]:
    """How many posts fall in each lateness bucket (all buckets, in order)."""
    counts = [0] * len(BUCKETS)
    for value in lateness:
        for i, (low, high, _) in enumerate(BUCKETS):
            if low <= value < high:
                counts[i] += 1
                break
    return [(label, n) for (_, _, label), n in zip(BUCKETS, counts, strict=True)]


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference; None when either is unknown or the reference is not positive."""
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference


@dataclass(slots=True)
class Result:
    """One contender's run."""

    name: str
    config: str
    counted: Counted
    cpu_s: float | None
    peak_rss_mb: float | None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lateness(self) -> dict[str, float | None]:
        return self.counted.summary

    @property
    def p99(self) -> float | None:
        return self.lateness["p99"]

    @property
    def correct(self) -> bool:
        c = self.counted
        return c.early == 0 and c.duplicated == 0 and c.lost == 0


def _by_name(results: Sequence[Result]) -> dict[str, Result]:
    return {r.name: r for r in results}


def reference_onthedot(results: Sequence[Result]) -> Result | None:
    """The onthedot run the peers are compared with: SQLite (the default installation)
    when it ran, else the first onthedot configuration that did."""
    named = _by_name(results)
    for name in ONTHEDOT:
        if name in named:
            return named[name]
    return None


def ratios(result: Result, results: Sequence[Result]) -> dict[str, float | None]:
    """p99 and drain of `result` against the floor's and onthedot's in the same run."""
    floor = _by_name(results).get("floor")
    ours = reference_onthedot(results)
    out: dict[str, float | None] = {}
    for key, other in (("floor", floor), ("onthedot", ours)):
        out[f"p99_vs_{key}"] = ratio(result.p99, other.p99 if other else None)
        out[f"drain_vs_{key}"] = ratio(
            result.counted.drain_s, other.counted.drain_s if other else None
        )
    return out


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    met: bool | None  # None: not measured in this run
    detail: str


def targets(results: Sequence[Result], posts: int) -> list[Target]:
    """The issue's targets, each met, not met or not measured."""
    ours = [r for r in results if r.name in ONTHEDOT]
    named = _by_name(results)
    out: list[Target] = []
    if ours:
        bad = [
            f"{r.name}: {r.counted.early} early, {r.counted.duplicated} duplicated, "
            f"{r.counted.lost} lost"
            for r in ours
            if not r.correct
        ]
        out.append(
            Target(
                "onthedot: 0 early, 0 duplicated, 0 lost in every configuration",
                not bad,
                "; ".join(bad) or ", ".join(r.name for r in ours),
            )
        )
    floor = named.get("floor")
    for r in ours:
        factor = ratio(r.counted.drain_s, floor.counted.drain_s if floor else None)
        out.append(
            Target(
                f"{r.name}: drain within {DRAIN_FACTOR:g}x the floor's",
                None if factor is None else factor <= DRAIN_FACTOR,
                "floor not run" if factor is None else f"{factor:.2f}x",
            )
        )
    if ours:
        if posts <= SMALL_SPIKE:
            worst = max((r.p99 for r in ours if r.p99 is not None), default=None)
            out.append(
                Target(
                    f"a {posts:,}-post spike: onthedot p99 under {SMALL_SPIKE_P99_S:g} s",
                    None if worst is None else worst < SMALL_SPIKE_P99_S,
                    "no lateness" if worst is None else f"worst p99 {worst:.3f} s",
                )
            )
        else:
            out.append(
                Target(
                    f"a {SMALL_SPIKE:,}-post spike: onthedot p99 under {SMALL_SPIKE_P99_S:g} s",
                    None,
                    f"not measured here ({posts:,} posts); run --posts {SMALL_SPIKE}",
                )
            )
    worst_ours = max((r.p99 for r in ours if r.p99 is not None), default=None)
    for peer in results:
        if peer.name in ONTHEDOT or peer.name == "floor":
            continue
        factor = ratio(peer.p99, worst_ours)
        if peer.p99 is None and peer.counted.lost == peer.counted.posts:
            factor = math.inf  # the peer delivered nothing
        out.append(
            Target(
                f"onthedot p99 (worst configuration) at least {PEER_FACTOR:g}x lower than "
                f"{peer.name}'s",
                None if factor is None else factor >= PEER_FACTOR,
                "not comparable" if factor is None else f"{factor:.1f}x",
            )
        )
    return out


# --- output ---------------------------------------------------------------------------------


def _s(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(results: Sequence[Result]) -> str:
    """A Markdown table, one row per contender."""
    lines = [
        "| contender | early | duplicated | lost | p50 s | p95 s | p99 s | max s | drain s "
        "| CPU s | peak RSS MB | p99 vs floor | drain vs floor | p99 vs onthedot |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        late = r.lateness
        q = ratios(r, results)
        lines.append(
            f"| {r.name} | {r.counted.early} | {r.counted.duplicated} | {r.counted.lost} "
            f"| {_s(late['p50'])} | {_s(late['p95'])} | {_s(late['p99'])} | {_s(late['max'])} "
            f"| {_s(r.counted.drain_s)} | {_s(r.cpu_s, 1)} | {_s(r.peak_rss_mb, 0)} "
            f"| {_x(q['p99_vs_floor'])} | {_x(q['drain_vs_floor'])} "
            f"| {_x(q['p99_vs_onthedot'])} |"
        )
    return "\n".join(lines)


def targets_text(found: Sequence[Target]) -> str:
    words = {True: "met", False: "NOT MET", None: "not measured"}
    return "\n".join(f"- {words[t.met]}: {t.text} ({t.detail})" for t in found)


def document(posts: int, results: Sequence[Result], **extra: Any) -> dict[str, Any]:
    """The JSON document: {"posts", "contenders": [...]}, plus `extra` top-level keys."""
    contenders = []
    for r in results:
        contenders.append(
            {
                "name": r.name,
                "config": r.config,
                "early": r.counted.early,
                "duplicated": r.counted.duplicated,
                "lost": r.counted.lost,
                "lateness_s": r.lateness,
                "drain_s": r.counted.drain_s,
                "cpu_s": r.cpu_s,
                "peak_rss_mb": r.peak_rss_mb,
                "requests": r.counted.requests,
                "created": r.counted.created,
                "ratios": ratios(r, results),
                "buckets": dict(bucketed(r.counted.lateness)),
                "notes": r.notes,
                **r.extra,
            }
        )
    return {"posts": posts, "contenders": contenders, **extra}
