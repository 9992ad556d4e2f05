"""The lateness report: how many of the posts due in one minute went out how late.

Pure functions over rows (one per post: its network, status, due time and the time the
network accepted its first item), so the report reads the same from the CLI, the API and the
tests: the minute a person asks about, the buckets, the percentiles, the JSON, the table and
the chart.

Lateness is `published_at` of the post's first item minus its `due_at` (see
`onthedot.reports.queries` for why that column). A thread counts once, by its first item.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from onthedot.channels.schedule import zone
from onthedot.errors import InvalidInput
from onthedot.posts.models import PostStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "BUCKETS",
    "SCHEMA_VERSION",
    "Bucket",
    "LatenessReport",
    "Minute",
    "Row",
    "Summary",
    "bucket_of",
    "chart_png",
    "parse_minute",
    "percentile",
    "summarise",
    "summary_of",
    "to_json",
    "to_table",
]

SCHEMA_VERSION: Final = 1
MEASURED_BY: Final = "post_items.published_at of the first item - posts.due_at"


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # stable, for machines
    label: str  # for people
    from_s: float  # inclusive
    to_s: float  # exclusive; inf for the last one


BUCKETS: Final = (
    Bucket("0-1s", "on time (<1 s)", 0.0, 1.0),
    Bucket("1-5s", "1–5 s", 1.0, 5.0),
    Bucket("5-15s", "5–15 s", 5.0, 15.0),
    Bucket("15-60s", "15–60 s", 15.0, 60.0),
    Bucket("1-5min", "1–5 min", 60.0, 300.0),
    Bucket("5-15min", "5–15 min", 300.0, 900.0),
    Bucket("15min+", ">15 min", 900.0, math.inf),
)
# Posts without a lateness, by what became of them (keys of `Summary.counts`).
EARLY: Final = "early"  # published before its due time: a broken promise, shown on its own
SENT_UNTIMED: Final = "sent_untimed"  # marked sent by a person; when it went out is unknown
NOT_YET_SENT: Final = "not_yet_sent"
FAILED: Final = "failed"
UNKNOWN: Final = "unknown"
MISSED: Final = "missed"
OTHER_COUNTS: Final = (EARLY, SENT_UNTIMED, NOT_YET_SENT, FAILED, UNKNOWN, MISSED)
OTHER_LABELS: Final = {
    EARLY: "early (before due)",
    SENT_UNTIMED: "sent, time unknown",
    NOT_YET_SENT: "not yet sent",
    FAILED: "failed",
    UNKNOWN: "unknown",
    MISSED: "missed",
}
_BY_STATUS: Final = {
    PostStatus.FAILED: FAILED,
    PostStatus.UNKNOWN: UNKNOWN,
    PostStatus.MISSED: MISSED,
}
PERCENTILES: Final = (("p50", 50.0), ("p95", 95.0), ("p99", 99.0))


def bucket_of(lateness_s: float) -> str:
    """The key of the bucket a lateness falls in, or `early` below zero."""
    if lateness_s < 0:
        return EARLY
    for bucket in BUCKETS:
        if lateness_s < bucket.to_s:
            return bucket.key
    return BUCKETS[-1].key  # NaN never gets here: lateness is a difference of instants


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile of sorted values, interpolated linearly between the two nearest
    ranks (numpy's default, so it agrees with the sandbox's and the spike harness's figures)."""
    if not ordered:
        raise ValueError("no values")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Iterable[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max of `values`; None each when there are none. The sandbox and the
    benchmarks summarise with this too, so every lateness figure is computed one way."""
    ordered = sorted(values)
    stats: dict[str, float | None] = dict.fromkeys([*(k for k, _ in PERCENTILES), "max"])
    if ordered:
        stats.update({k: percentile(ordered, q) for k, q in PERCENTILES})
        stats["max"] = ordered[-1]
    return stats


@dataclass(frozen=True, slots=True)
class Row:
    """One post due in the minute."""

    network: str
    status: PostStatus
    due_at: dt.datetime
    published_at: dt.datetime | None  # of the first item; None until the network accepted it


@dataclass(frozen=True, slots=True)
class Summary:
    posts: int
    buckets: Mapping[str, int]  # every key of BUCKETS, zeros included
    counts: Mapping[str, int]  # every key of OTHER_COUNTS, zeros included
    lateness_s: Mapping[str, float | None]  # p50, p95, p99, max; None without a timed post

    @property
    def sent(self) -> int:
        """Posts with a lateness: the buckets and the early ones."""
        return sum(self.buckets.values()) + self.counts[EARLY]


def summary_of(rows: Iterable[Row]) -> Summary:
    buckets = dict.fromkeys((b.key for b in BUCKETS), 0)
    counts = dict.fromkeys(OTHER_COUNTS, 0)
    lateness: list[float] = []
    posts = 0
    for row in rows:
        posts += 1
        if row.status == PostStatus.SENT:
            if row.published_at is None:
                counts[SENT_UNTIMED] += 1
                continue
            late = (row.published_at - row.due_at).total_seconds()
            lateness.append(late)
            key = bucket_of(late)
            if key == EARLY:
                counts[EARLY] += 1
            else:
                buckets[key] += 1
        else:
            # Everything short of an outcome (queued, held, claimed, publishing, waiting to
            # retry) has not gone out yet.
            counts[_BY_STATUS.get(row.status, NOT_YET_SENT)] += 1
    return Summary(posts, buckets, counts, summary(lateness))


# --- the minute asked about ------------------------------------------------------------------

_MINUTE = re.compile(
    r"(?P<wall>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(?::(?P<s>\d{2}(?:\.\d+)?))?"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)
_MINUTE_HOW = "write it as YYYY-MM-DDTHH:MM, e.g. 2026-11-26T08:00"


@dataclass(frozen=True, slots=True)
class Minute:
    """One wall-clock minute in a zone, as the UTC half-open range [start, end)."""

    start: dt.datetime  # UTC
    zone: str
    note: str | None = None  # how a skipped or repeated wall time was read

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=1)

    @property
    def local(self) -> dt.datetime:
        return self.start.astimezone(ZoneInfo(self.zone))

    def describe(self) -> str:
        local = self.local
        offset = local.strftime("%z")
        return (
            f"{local:%Y-%m-%d %H:%M} {self.zone} ({local.tzname()}, UTC{offset[:3]}:{offset[3:]})"
        )


def parse_minute(due: str, tz: str = "UTC", *, name: str = "--due") -> Minute:
    """The minute `due` names in zone `tz`; `InvalidInput` saying what to fix otherwise.

    A wall time without an offset follows the scheduling rule (docs/time.md): one skipped by
    a clock change moves forward by the jump, one that happens twice is its first
    occurrence; the note says so. An offset (`+01:00`, `Z`) picks the instant itself, which
    is how to ask for the second occurrence of a repeated minute.
    """
    where = zone(tz)  # UnknownTimezone (an InvalidInput) names the zone and how to fix it
    due = due.strip()
    match = _MINUTE.fullmatch(due)
    if match is None:
        raise InvalidInput(f"{due!r} is not a minute; {_MINUTE_HOW}")
    seconds = match["s"]
    if seconds is not None and float(seconds) != 0:
        raise InvalidInput(
            f"{due!r} is not the start of a minute; the report covers a whole minute, "
            f"so leave out the seconds ({match['wall'].replace(' ', 'T')})"
        )
    try:
        wall = dt.datetime.fromisoformat(match["wall"].replace(" ", "T"))
    except ValueError:
        raise InvalidInput(f"{due!r} is not a date and time; {_MINUTE_HOW}") from None
    offset = match["offset"]
    if offset is not None:
        try:
            fixed = dt.datetime.fromisoformat(
                f"{wall:%Y-%m-%dT%H:%M}{'+00:00' if offset == 'Z' else offset}"
            )
        except ValueError:
            raise InvalidInput(
                f"{due!r} has an offset no clock uses ({offset}); give one such as +01:00, "
                "or none to read the time in the report's zone"
            ) from None
        return Minute(fixed.astimezone(dt.UTC), tz)
    first = wall.replace(tzinfo=where, fold=0)
    second = wall.replace(tzinfo=where, fold=1)
    start = first.astimezone(dt.UTC)
    note = None
    round_trip = start.astimezone(where).replace(tzinfo=None)
    if round_trip != wall:
        note = (
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz} (the clocks jumped); posts scheduled "
            f"for it were due at {round_trip:%H:%M}, which is the minute reported"
        )
    elif first.utcoffset() != second.utcoffset():
        later = second.astimezone(dt.UTC).astimezone(where)
        stamp = later.isoformat(timespec="minutes")
        note = (
            f"{wall:%Y-%m-%d %H:%M} happens twice in {tz}; this is the first one "
            f"({first.tzname()}); for the second, give {name} {stamp}"
        )
    return Minute(start, tz, note)


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatenessReport:
    minute: Minute
    workspace_id: int | None  # None: every workspace of the installation
    total: Summary
    networks: Mapping[str, Summary] = field(default_factory=dict)


def summarise(rows: Iterable[Row], *, minute: Minute, workspace_id: int | None) -> LatenessReport:
    rows = list(rows)
    by_network: dict[str, list[Row]] = {}
    for row in rows:
        by_network.setdefault(row.network, []).append(row)
    return LatenessReport(
        minute,
        workspace_id,
        summary_of(rows),
        {name: summary_of(by_network[name]) for name in sorted(by_network)},
    )


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "posts": summary.posts,
        "sent": summary.sent,
        "buckets": dict(summary.buckets),
        **dict(summary.counts),
        "lateness_s": dict(summary.lateness_s),
    }


def to_json(report: LatenessReport) -> dict[str, Any]:
    """The report for machines; its shape is documented in docs/lateness-report-and-doctor.md."""
    minute = report.minute
    return {
        "schema": SCHEMA_VERSION,
        "minute": {
            "local": minute.local.isoformat(),
            "zone": minute.zone,
            "start_utc": minute.start.isoformat().replace("+00:00", "Z"),
            "end_utc": minute.end.isoformat().replace("+00:00", "Z"),
            "note": minute.note,
        },
        "workspace_id": report.workspace_id,
        "measured_by": MEASURED_BY,
        "buckets": [
            {
                "key": b.key,
                "label": b.label,
                "from_s": b.from_s,
                "to_s": None if math.isinf(b.to_s) else b.to_s,
            }
            for b in BUCKETS
        ],
        "total": _summary_json(report.total),
        "networks": {name: _summary_json(s) for name, s in report.networks.items()},
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def to_table(report: LatenessReport) -> str:
    """Rows are the buckets and counts, columns every network and the total."""
    from onthedot.console import table

    minute = report.minute
    scope = "all workspaces" if report.workspace_id is None else f"workspace {report.workspace_id}"
    header = [
        f"Posts due {minute.describe()}, {scope}",
        f"= {minute.start:%Y-%m-%d %H:%M}–{minute.end:%H:%M} UTC; lateness = {MEASURED_BY}",
    ]
    if minute.note:
        header.append(f"note: {minute.note}")
    columns = [*report.networks.values(), report.total]
    names = [*report.networks, "all"]
    rows: list[list[object]] = [["posts", *(s.posts for s in columns)]]
    rows += [[b.label, *(s.buckets[b.key] for s in columns)] for b in BUCKETS]
    rows += [[OTHER_LABELS[k], *(s.counts[k] for s in columns)] for k in OTHER_COUNTS]
    rows += [
        [f"{k} (s)", *(_seconds(s.lateness_s[k]) for s in columns)]
        for k in ("p50", "p95", "p99", "max")
    ]
    if report.total.posts == 0:
        return "\n".join([*header, "no post was due in this minute"])
    return "\n".join([*header, "", table(["", *names], rows)])


# --- the chart -------------------------------------------------------------------------------


def _figure() -> Figure:
    # Imported on first use: matplotlib is slow to import and most commands never draw.
    from matplotlib.figure import Figure

    return Figure(figsize=(10.0, 4.8))


def chart_png(report: LatenessReport) -> bytes:
    """Posts by lateness bucket, one bar series per network, as PNG bytes (Agg, no pyplot:
    nothing global is touched, so it is safe inside the server)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import MaxNLocator

    # Early posts should never happen and untimed ones are rare: a bar only when there are some.
    shown = [k for k in (EARLY,) if report.total.counts[k]]
    rest = [k for k in (SENT_UNTIMED,) if report.total.counts[k]]
    rest += [NOT_YET_SENT, FAILED, UNKNOWN, MISSED]
    labels = [
        *(OTHER_LABELS[k] for k in shown),
        *(b.label for b in BUCKETS),
        *(OTHER_LABELS[k] for k in rest),
    ]
    fig = _figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(labels)))
    series = report.networks or {"all": report.total}
    width = 0.8 / max(1, len(series))
    for n, (name, summary) in enumerate(series.items()):
        values = [
            *(summary.counts[k] for k in shown),
            *(summary.buckets[b.key] for b in BUCKETS),
            *(summary.counts[k] for k in rest),
        ]
        offset = (n - (len(series) - 1) / 2) * width
        ax.bar([i + offset for i in x], values, width=width, label=f"{name} ({summary.posts})")
    # Sent posts by lateness on the left, the ones without a lateness on the right.
    ax.axvline(len(shown) + len(BUCKETS) - 0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("posts")
    ax.set_title(
        f"Posts due {report.minute.describe()} by lateness (p95 "
        f"{_seconds(report.total.lateness_s['p95'])} s, max "
        f"{_seconds(report.total.lateness_s['max'])} s)",
        fontsize=10,
    )
    ax.legend(fontsize=8, title="network (posts)", title_fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()
