"""The spike benchmark's maths: percentiles, detection, buckets, ratios, targets, JSON shape."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from bench.spike import report
from bench.spike.report import Counted, Result

from onthedot.observability.lateness import percentile

T = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> str:
    return (T + dt.timedelta(seconds=seconds)).isoformat()


def record(ref: str, seconds: float, *, created: bool = True) -> dict[str, object]:
    return {"ref": ref, "arrived_at": at(seconds), "created": created, "status": 201}


def counted(lateness: list[float], *, early: int = 0, dup: int = 0, lost: int = 0) -> Counted:
    return Counted(
        posts=len(lateness) + lost,
        requests=len(lateness) + dup,
        created=len(lateness) + dup,
        early=early,
        duplicated=dup,
        lost=lost,
        lateness=lateness,
        drain_s=max(lateness, default=None),
        foreign=0,
    )


def result(name: str, lateness: list[float], **kw: int) -> Result:
    return Result(name, "cfg", counted(lateness, **kw), cpu_s=1.0, peak_rss_mb=10.0)


@pytest.mark.parametrize("q", [0, 1, 50, 95, 99, 100])
@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0], [0.5, 0.1, 7.0, 2.2, 9.9, 1.0, 4.4]])
def test_percentile_matches_numpys_linear_interpolation(values: list[float], q: float) -> None:
    assert percentile(sorted(values), q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_refuses_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_of_nothing_is_none() -> None:
    assert report.summary([]) == {"p50": None, "p95": None, "p99": None, "max": None}
    assert report.summary([2.0, 1.0])["max"] == 2.0


def test_count_finds_early_duplicated_lost_and_foreign() -> None:
    due = {"a/0": T, "b/0": T, "c/0": T, "d/0": T + dt.timedelta(seconds=10)}
    records = [
        record("a/0", 0.25),
        record("b/0", -0.5),  # early
        record("b/0", 1.0),  # and duplicated
        record("c/0", 0.75, created=False),  # refused: not created
        record("d/0", 9.0),  # early against its own due time
        record("zzz/0", 0.1),  # nobody's
    ]
    c = report.count(records, due, T)
    assert (c.early, c.duplicated, c.lost, c.foreign) == (2, 1, 1, 1)
    assert (c.requests, c.created, c.posts) == (5, 4, 4)
    # First creation per post: a +0.25, b -0.5, d -1.0; c was never created.
    assert sorted(c.lateness) == [-1.0, -0.5, 0.25]
    assert c.drain_s == 9.0  # the last request's arrival minus T, refused ones included


def test_count_takes_the_earliest_creation_whatever_the_order() -> None:
    c = report.count([record("a/0", 2.0), record("a/0", 1.0)], {"a/0": T}, T)
    assert c.lateness == [1.0]
    assert c.duplicated == 1


def test_count_of_nothing_received() -> None:
    c = report.count([], {"a/0": T}, T)
    assert (c.lost, c.drain_s, c.lateness) == (1, None, [])


def test_buckets_cover_every_value_once_with_lower_bounds_inclusive() -> None:
    values = [-0.001, 0.0, 0.0999, 0.1, 0.99, 1.0, 59.9, 60.0, 1e6]
    buckets = dict(report.bucketed(values))
    assert list(buckets) == [label for _, _, label in report.BUCKETS]
    assert sum(buckets.values()) == len(values)
    assert buckets["early"] == 1
    assert buckets["<0.1 s"] == 2
    assert buckets["0.1-0.5 s"] == 1
    assert buckets["0.5-1 s"] == 1
    assert buckets["1-2 s"] == 1
    assert buckets["30-60 s"] == 1
    assert buckets[">=60 s"] == 2


def test_ratio() -> None:
    assert report.ratio(3.0, 1.5) == 2.0
    assert report.ratio(None, 1.0) is None
    assert report.ratio(1.0, None) is None
    assert report.ratio(1.0, 0.0) is None


def test_ratios_against_the_floor_and_onthedot_sqlite() -> None:
    results = [
        result("floor", [1.0, 2.0]),
        result("onthedot-postgres-1", [8.0]),
        result("onthedot-sqlite", [2.0, 4.0]),
        result("celery", [10.0, 20.0]),
    ]
    q = report.ratios(results[3], results)
    assert q["drain_vs_floor"] == pytest.approx(10.0)
    assert q["drain_vs_onthedot"] == pytest.approx(5.0)  # SQLite is the reference
    assert q["p99_vs_floor"] == pytest.approx(percentile([10.0, 20.0], 99) / 1.99)


def test_targets() -> None:
    results = [
        result("floor", [1.0]),
        result("onthedot-sqlite", [1.1]),
        result("onthedot-postgres-1", [0.5], dup=1),
        result("celery", [10.0]),
        result("cron-poller", [3.0]),
        result("apscheduler", [], lost=5),
    ]
    found = {t.text: t for t in report.targets(results, posts=2000)}
    correct = found["onthedot: 0 early, 0 duplicated, 0 lost in every configuration"]
    assert correct.met is False and "onthedot-postgres-1" in correct.detail
    assert found["onthedot-sqlite: drain within 1.2x the floor's"].met is True
    assert found["a 2,000-post spike: onthedot p99 under 1 s"].met is False  # worst: 1.1 s
    peer = "onthedot p99 (worst configuration) at least 5x lower than {}'s"
    assert found[peer.format("celery")].met is True  # 10 / 1.1
    assert found[peer.format("cron-poller")].met is False  # 3 / 1.1
    assert found[peer.format("apscheduler")].met is True  # it delivered nothing
    big = {t.text: t for t in report.targets(results, posts=50_000)}
    assert big["a 2,000-post spike: onthedot p99 under 1 s"].met is None


def test_document_has_the_issues_shape_and_is_json() -> None:
    results = [result("floor", [0.5, 1.0]), result("onthedot-sqlite", [], lost=2)]
    doc = json.loads(json.dumps(report.document(4, results, machine="m")))
    assert doc["posts"] == 4
    assert doc["machine"] == "m"
    first = doc["contenders"][0]
    required = {"name", "config", "early", "duplicated", "lost", "lateness_s", "drain_s"}
    assert required | {"cpu_s", "peak_rss_mb"} <= set(first)
    assert set(first["lateness_s"]) == {"p50", "p95", "p99", "max"}
    assert first["name"] == "floor"
    assert doc["contenders"][1]["lateness_s"]["p99"] is None
    assert all(c["name"] in report.NAMES for c in doc["contenders"])


def test_table_has_a_row_per_contender() -> None:
    results = [result("floor", [0.5]), result("celery", [2.0, 1.0])]
    lines = report.table(results).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| floor | 0 | 0 | 0 |")
