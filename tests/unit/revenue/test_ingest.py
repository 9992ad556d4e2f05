"""Bad input: each problem names its line, and everything else is still read."""

from __future__ import annotations

import json

from onthedot.revenue.events import load_file, read_lines, read_payloads

from .factory import OLD, event, lines, sub, ts


def good(n: int) -> list[bytes]:
    return lines([event("customer.subscription.created", ts(2024, 1, 1) + i,
                        sub(f"sub_{i}")) for i in range(n)])  # fmt: skip


def test_malformed_line_is_named_and_the_rest_read() -> None:
    data = good(2)
    data.insert(1, b'{"id": "evt_x", "type": \n')
    res = read_lines(data)
    assert len(res.events) == 2
    [p] = res.problems
    assert p.line == 2 and p.code == "malformed_json"
    assert str(p).startswith("line 2: not valid JSON")


def test_truncated_file_reports_the_last_line() -> None:
    data = good(3)
    data[-1] = data[-1][: len(data[-1]) // 2]  # cut mid-object, no final newline
    res = read_lines(data)
    assert len(res.events) == 2
    [p] = res.problems
    assert (p.line, p.code) == (3, "truncated")
    assert "ends in the middle of an event" in str(p)


def test_unknown_event_type_is_kept_and_reported_once() -> None:
    odd = [event("spaceship.launched", ts(2024, 1, 2) + i, {"id": "x"}) for i in range(3)]
    res = read_lines(good(1) + lines(odd))
    assert len(res.events) == 4  # kept
    [p] = res.problems
    assert (p.line, p.code, p.severity) == (2, "unknown_event_type", "warning")
    assert "spaceship.launched" in p.message
    known = read_lines(lines([event("charge.succeeded", ts(2024, 1, 2), {"id": "ch_1"})]))
    assert known.problems == []


def test_unsupported_api_version_is_skipped_with_its_line() -> None:
    old = event("customer.subscription.created", ts(2024, 1, 3), sub("sub_old"),
                version="2017-08-15")  # fmt: skip
    junk = event("customer.subscription.created", ts(2024, 1, 3), sub("sub_j"), version="latest")
    res = read_lines(good(1) + lines([old, junk]))
    assert [e.subscription.id for e in res.events if e.subscription] == ["sub_0"]
    assert [(p.line, p.code) for p in res.problems] == [
        (2, "unsupported_api_version"),
        (3, "unsupported_api_version"),
    ]
    assert "2017-08-15 is older than 2020-08-27" in str(res.problems[0])


def test_newer_unknown_release_is_read_with_a_warning() -> None:
    new = event("customer.subscription.created", ts(2024, 1, 3), sub("sub_n", version="x"),
                version="2027-01-01.zinnia")  # fmt: skip
    res = read_lines(lines([new]))
    assert len(res.events) == 1 and res.problems[0].severity == "warning"


def test_events_missing_their_parts_are_skipped_with_a_reason() -> None:
    no_id = {"type": "customer.subscription.created", "created": 1, "data": {"object": {}}}
    no_items = event("customer.subscription.created", ts(2024, 1, 3), {"id": "sub_x",
                     "customer": "cus_1", "status": "active"})  # fmt: skip
    not_object = [1, 2]
    res = read_lines([json.dumps(x).encode() + b"\n" for x in (no_id, no_items, not_object)])
    assert res.events == []
    assert [p.line for p in res.problems] == [1, 2, 3]
    assert "without an 'id'" in res.problems[0].message
    assert "items.data" in res.problems[1].message


def test_duplicates_are_dropped_and_order_is_by_created() -> None:
    a = event("customer.subscription.created", 200, sub("sub_a"), eid="evt_a")
    b = event("customer.subscription.created", 100, sub("sub_b"), eid="evt_b")
    res = read_lines(lines([a, b, a, a]))
    assert [e.id for e in res.events] == ["evt_b", "evt_a"]
    assert res.duplicates == 2


def test_blank_lines_are_ignored_and_files_read(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "ev.jsonl"
    path.write_bytes(b"\n".join([b"", *[x.rstrip(b"\n") for x in good(2)], b""]) + b"\n")
    res = load_file(path)
    assert len(res.events) == 2 and res.problems == []


def test_stored_payloads_are_read_the_same_way() -> None:
    res = read_payloads([x.decode() for x in good(2)] + ["{nope"])
    assert len(res.events) == 2 and res.problems[0].code == "malformed_json"


def test_old_and_new_shapes_read_to_the_same_model() -> None:
    old = read_lines(lines([event("customer.subscription.created", 1, sub(version=OLD))]))
    basil = "2025-03-31.basil"
    new = read_lines(
        lines([event("customer.subscription.created", 1, sub(version=basil), version=basil)])
    )
    assert old.events[0].subscription == new.events[0].subscription
