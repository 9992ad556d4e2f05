"""The lateness report's pure parts: buckets, percentiles, the minute asked about, the JSON,
the table and the chart."""

from __future__ import annotations

import datetime as dt
import itertools
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onthedot.errors import InvalidInput, UnknownTimezone
from onthedot.observability import lateness
from onthedot.observability.lateness import BUCKETS, Row, bucket_of, parse_minute, percentile
from onthedot.posts.models import PostStatus

UTC = dt.UTC
DUE = dt.datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _sent(late_s: float, network: str = "sandbox", due: dt.datetime = DUE) -> Row:
    return Row(network, PostStatus.SENT, due, due + dt.timedelta(seconds=late_s))


# --- buckets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late_s", "key"),
    [
        (0.0, "0-1s"),
        (0.999, "0-1s"),
        (1.0, "1-5s"),
        (4.999999, "1-5s"),
        (5.0, "5-15s"),
        (15.0, "15-60s"),
        (59.9, "15-60s"),
        (60.0, "1-5min"),
        (299.0, "1-5min"),
        (300.0, "5-15min"),
        (900.0, "15min+"),
        (86_400.0, "15min+"),
        (-0.001, "early"),
    ],
)
def test_bucket_edges_are_half_open(late_s: float, key: str) -> None:
    assert bucket_of(late_s) == key


def test_buckets_tile_the_half_line() -> None:
    assert BUCKETS[0].from_s == 0.0
    for before, after in itertools.pairwise(BUCKETS):
        assert before.to_s == after.from_s
    assert BUCKETS[-1].to_s == float("inf")


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_every_lateness_falls_in_the_bucket_that_holds_it(late_s: float) -> None:
    (bucket,) = [b for b in BUCKETS if b.key == bucket_of(late_s)]
    assert bucket.from_s <= late_s < bucket.to_s


# --- percentiles -----------------------------------------------------------------------------

values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=200
)


@given(values, st.sampled_from([0.0, 50.0, 95.0, 99.0, 100.0]))
def test_percentile_agrees_with_numpy(data: list[float], q: float) -> None:
    ordered = sorted(data)
    assert percentile(ordered, q) == pytest.approx(
        float(np.percentile(ordered, q)), rel=1e-9, abs=1e-6
    )


@given(values)
def test_percentiles_are_ordered_and_bounded(data: list[float]) -> None:
    ordered = sorted(data)
    p = [percentile(ordered, q) for q in (0, 50, 95, 99, 100)]
    assert p[0] == ordered[0] and p[-1] == ordered[-1]
    assert all(a <= b + 1e-9 for a, b in itertools.pairwise(p))


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


# --- summaries -------------------------------------------------------------------------------


def test_summary_counts_every_post_once() -> None:
    rows = [
        _sent(0.2),
        _sent(0.7),
        _sent(3.0),
        _sent(70.0, "mastodon"),
        _sent(-0.5),
        Row("sandbox", PostStatus.SENT, DUE, None),
        Row("sandbox", PostStatus.SCHEDULED, DUE, None),
        Row("sandbox", PostStatus.HELD, DUE, None),
        Row("sandbox", PostStatus.PUBLISHING, DUE, None),
        Row("sandbox", PostStatus.RETRY_WAIT, DUE, None),
        Row("mastodon", PostStatus.FAILED, DUE, None),
        Row("mastodon", PostStatus.UNKNOWN, DUE, None),
        Row("mastodon", PostStatus.MISSED, DUE, None),
    ]
    minute = parse_minute("2026-11-26T08:00")
    report = lateness.summarise(rows, minute=minute, workspace_id=None)
    total = report.total
    assert total.posts == len(rows)
    assert total.buckets == {
        "0-1s": 2,
        "1-5s": 1,
        "5-15s": 0,
        "15-60s": 0,
        "1-5min": 1,
        "5-15min": 0,
        "15min+": 0,
    }
    assert total.counts == {
        "early": 1,
        "sent_untimed": 1,
        "not_yet_sent": 4,
        "failed": 1,
        "unknown": 1,
        "missed": 1,
    }
    assert total.sent == 5
    assert sum(total.buckets.values()) + sum(total.counts.values()) == total.posts
    assert total.lateness_s == {
        "p50": pytest.approx(0.7),
        "p95": pytest.approx(float(np.percentile([-0.5, 0.2, 0.7, 3.0, 70.0], 95))),
        "p99": pytest.approx(float(np.percentile([-0.5, 0.2, 0.7, 3.0, 70.0], 99))),
        "max": 70.0,
    }
    assert list(report.networks) == ["mastodon", "sandbox"]
    assert report.networks["mastodon"].posts == 4
    assert report.networks["mastodon"].buckets["1-5min"] == 1
    assert report.networks["sandbox"].counts["not_yet_sent"] == 4


def test_an_empty_minute_has_no_percentiles() -> None:
    report = lateness.summarise([], minute=parse_minute("2026-11-26T08:00"), workspace_id=3)
    assert report.total.posts == 0
    assert report.total.lateness_s == {"p50": None, "p95": None, "p99": None, "max": None}
    assert "no post was due in this minute" in lateness.to_table(report)
    assert lateness.to_json(report)["networks"] == {}


@given(st.lists(st.floats(min_value=-5, max_value=5000, allow_nan=False), max_size=100))
def test_bucket_counts_add_up(lates: list[float]) -> None:
    summary = lateness.summary_of(_sent(x) for x in lates)
    assert summary.posts == len(lates) == summary.sent
    assert sum(summary.buckets.values()) + summary.counts["early"] == len(lates)


# --- the minute ------------------------------------------------------------------------------


def test_a_minute_in_utc_by_default() -> None:
    minute = parse_minute("2026-11-26T08:00")
    assert minute.start == DUE and minute.end == DUE + dt.timedelta(minutes=1)
    assert minute.note is None
    assert parse_minute("2026-11-26 08:00:00").start == DUE
    assert parse_minute(" 2026-11-26T08:00:00.000 ").start == DUE


def test_a_minute_in_a_zone() -> None:
    # Winter in Berlin: UTC+1.
    assert parse_minute("2026-11-26T08:00", "Europe/Berlin").start == DUE - dt.timedelta(hours=1)
    # Summer: UTC+2.
    summer = parse_minute("2026-07-01T08:00", "Europe/Berlin")
    assert summer.start == dt.datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert "CEST" in summer.describe() and "UTC+02:00" in summer.describe()


def test_a_skipped_minute_moves_forward_by_the_jump() -> None:
    # Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 is scheduled at 03:30 CEST.
    minute = parse_minute("2026-03-29T02:30", "Europe/Berlin")
    assert minute.start == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert minute.local.strftime("%H:%M %Z") == "03:30 CEST"
    assert minute.note is not None and "does not exist" in minute.note


def test_a_repeated_minute_is_its_first_occurrence_unless_an_offset_says_otherwise() -> None:
    # Berlin, 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    first = parse_minute("2026-10-25T02:30", "Europe/Berlin")
    assert first.start == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert first.note is not None and "happens twice" in first.note
    assert "--due 2026-10-25T02:30+01:00" in first.note
    second = parse_minute("2026-10-25T02:30+01:00", "Europe/Berlin")
    assert second.start == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert second.local.strftime("%H:%M %Z") == "02:30 CET"
    assert parse_minute("2026-11-26T08:00Z", "Europe/Berlin").start == DUE


@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2037, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
)
def test_a_minute_round_trips_through_its_zone(wall: dt.datetime, tz: str) -> None:
    minute = parse_minute(wall.strftime("%Y-%m-%dT%H:%M"), tz)
    assert minute.end - minute.start == dt.timedelta(minutes=1)
    if minute.note is None:
        assert minute.local.replace(tzinfo=None) == wall
    else:
        # Skipped: shown at the later wall time it became; repeated: the first of the two.
        assert minute.local.replace(tzinfo=None) >= wall


@pytest.mark.parametrize(
    ("due", "message"),
    [
        ("tomorrow", "is not a minute; write it as YYYY-MM-DDTHH:MM"),
        ("2026-11-26", "is not a minute"),
        ("2026-11-26T08", "is not a minute"),
        ("2026-11-26T08:00:30", "is not the start of a minute"),
        ("2026-11-26T08:00:00.5", "is not the start of a minute"),
        ("2026-02-30T08:00", "is not a date and time"),
        ("2026-11-26T25:00", "is not a date and time"),
        ("", "is not a minute"),
        ("2026-11-26T08:00+25:00", "has an offset no clock uses"),
        ("2026-11-26T08:00+1", "is not a minute"),
    ],
)
def test_a_bad_due_says_how_to_write_it(due: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_minute(due)


@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)?", fullmatch=True
        ),
    )
)
def test_any_due_is_a_minute_or_a_clear_error(due: str) -> None:
    try:
        minute = parse_minute(due, "Europe/Berlin")
    except InvalidInput as exc:
        assert repr(due.strip()) in str(exc)
    else:
        assert minute.start.tzinfo is not None and minute.start.second == 0


@pytest.mark.parametrize("tz", ["Mars/Base", "", "+01:00", "../etc/passwd", "Europe"])
def test_an_unknown_zone_is_refused(tz: str) -> None:
    with pytest.raises(UnknownTimezone):
        parse_minute("2026-11-26T08:00", tz)


# --- output ----------------------------------------------------------------------------------


def _report() -> lateness.LatenessReport:
    rows = [_sent(0.1), _sent(2.0), _sent(20.0, "mastodon"), Row("x", PostStatus.FAILED, DUE, None)]
    return lateness.summarise(
        rows, minute=parse_minute("2026-11-26T09:00", "Europe/Berlin"), workspace_id=7
    )


def test_json_shape() -> None:
    body = lateness.to_json(_report())
    assert body["schema"] == 1
    assert body["minute"] == {
        "local": "2026-11-26T09:00:00+01:00",
        "zone": "Europe/Berlin",
        "start_utc": "2026-11-26T08:00:00Z",
        "end_utc": "2026-11-26T08:01:00Z",
        "note": None,
    }
    assert body["workspace_id"] == 7
    assert [b["key"] for b in body["buckets"]] == [b.key for b in BUCKETS]
    assert body["buckets"][-1]["to_s"] is None
    total = body["total"]
    assert total["posts"] == 4 and total["sent"] == 3 and total["failed"] == 1
    assert total["buckets"]["0-1s"] == 1 and total["buckets"]["15-60s"] == 1
    assert set(total["lateness_s"]) == {"p50", "p95", "p99", "max"}
    assert sorted(body["networks"]) == ["mastodon", "sandbox", "x"]


def test_table_has_a_column_per_network_and_the_total() -> None:
    out = lateness.to_table(_report())
    assert "2026-11-26 09:00 Europe/Berlin (CET, UTC+01:00), workspace 7" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("mastodon"))
    assert header.split() == ["mastodon", "sandbox", "x", "all"]
    row = next(line for line in out.splitlines() if line.startswith("on time (<1 s)"))
    assert row.split()[-4:] == ["0", "1", "0", "1"]


def test_chart_is_a_png() -> None:
    png = lateness.chart_png(_report())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 400 < width < 3000 and 200 < height < 2000
