"""Posting schedules: parsing, formatting, time zones, and slot expansion across clock changes.

The property tests check `slots` against an oracle that knows nothing of `fold`: it reads a
zone's UTC offset at UTC instants only, rebuilds the offset timeline around the window, and
applies the documented rule (a skipped wall time moves forward by the jump, a repeated one
takes its first occurrence) by hand.
"""

from __future__ import annotations

import time as monotonic
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onthedot.channels.schedule import Rule, Schedule, next_slots, slots, wall_to_utc, zone
from onthedot.errors import InvalidInput, InvalidSchedule, UnknownTimezone

NY = ZoneInfo("America/New_York")
DAYS_HOW = "use Mon, Tue, … or Mon–Fri (also daily, weekdays, weekends)"
TIMES_HOW = "write times as 08:00, 17:30 or 8am, 5:30pm"
ZONE_HOW = "use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"
# Every name zone() accepts; "localtime" also depends on the host, so it cannot be a fixture.
ZONES = sorted(available_timezones() - {"localtime", "posixrules", "Factory"})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).isoformat()


# -- parsing and formatting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Mon–Fri 08:00, 12:30, 17:00; Sat 10:00", "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"),
        ("Mon—Fri 08:00", "Mon–Fri 08:00"),
        ("Mon-Fri 8:00", "Mon–Fri 08:00"),
        ("mon - fri 8:00", "Mon–Fri 08:00"),
        ("Monday to Friday 08:00", "Mon–Fri 08:00"),
        ("MONDAY through FRIDAY 08:00", "Mon–Fri 08:00"),
        ("Mon,Wed,Fri 08:00", "Mon, Wed, Fri 08:00"),
        ("Mon Wed 08:00", "Mon, Wed 08:00"),
        ("Mon and Wed at 08:00", "Mon, Wed 08:00"),
        ("Tues, Weds, Thurs 09:15", "Tue–Thu 09:15"),
        ("Sundays 10:00", "Sun 10:00"),
        ("daily 09:00", "Mon–Sun 09:00"),
        ("every day 09:00", "Mon–Sun 09:00"),
        ("Every Day at 9am and 5pm", "Mon–Sun 09:00, 17:00"),
        ("everyday 09:00", "Mon–Sun 09:00"),
        ("weekdays 09:00", "Mon–Fri 09:00"),
        ("every weekday 09:00", "Mon–Fri 09:00"),
        ("weekends 10:00", "Sat, Sun 10:00"),
        ("Weekend 10:00", "Sat, Sun 10:00"),
        ("Fri–Mon 09:00", "Mon, Fri–Sun 09:00"),
        ("Sat-Sun 09:00", "Sat, Sun 09:00"),
        ("Mon–Fri: 08:00", "Mon–Fri 08:00"),
        ("Mon 8am, 12:30pm, 5 pm, 6:45 p.m.", "Mon 08:00, 12:30, 17:00, 18:45"),
        ("Mon 12am, 12pm", "Mon 00:00, 12:00"),
        ("Mon 08:00 12:00", "Mon 08:00, 12:00"),
        ("Mon 08:00:00", "Mon 08:00"),
        ("Mon 17:00, 08:00, 08:00", "Mon 08:00, 17:00"),
        ("Mon–Fri 08:00\nSat 10:00", "Mon–Fri 08:00; Sat 10:00"),
        ("Mon–Fri 08:00;\r\n\n;Sat 10:00;", "Mon–Fri 08:00; Sat 10:00"),
        # Overlapping rules merge, then regroup by identical times.
        ("Mon–Fri 08:00; Mon–Fri 12:00", "Mon–Fri 08:00, 12:00"),
        ("Mon–Fri 08:00; Mon 07:00", "Mon 07:00, 08:00; Tue–Fri 08:00"),
        ("Sat 10:00; Sun 10:00; Mon 10:00", "Mon, Sat, Sun 10:00"),
        ("weekdays 09:00; weekends 09:00", "Mon–Sun 09:00"),
        ("", ""),
        ("  ;\n ", ""),
    ],
)
def test_parse_reads_what_people_type(text: str, canonical: str) -> None:
    schedule = Schedule.parse(text)
    assert str(schedule) == canonical
    assert schedule.to_text() == canonical
    assert Schedule.parse(canonical) == schedule


def test_the_canonical_form_and_its_json() -> None:
    schedule = Schedule.parse("Mon–Fri 08:00, 12:30, 17:00; Sat 10:00")
    assert schedule.to_json() == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "times": ["08:00", "12:30", "17:00"]},
        {"days": ["sat"], "times": ["10:00"]},
    ]
    assert schedule.rules == (
        Rule(frozenset(range(5)), (time(8), time(12, 30), time(17))),
        Rule(frozenset({5}), (time(10),)),
    )
    assert repr(schedule) == "Schedule.parse('Mon–Fri 08:00, 12:30, 17:00; Sat 10:00')"
    assert Schedule.from_json(schedule.to_json()) == schedule


def test_times_on_and_is_empty() -> None:
    schedule = Schedule.parse("Mon–Fri 12:30, 08:00; Mon 08:00, 07:00")
    assert schedule.times_on(0) == (time(7), time(8), time(12, 30))
    assert schedule.times_on(4) == (time(8), time(12, 30))
    assert schedule.times_on(6) == ()
    assert not schedule.is_empty
    assert Schedule().is_empty
    assert Schedule.parse("").is_empty
    assert Schedule.from_json([]).is_empty
    assert Schedule().to_json() == []
    assert str(Schedule()) == ""
    with pytest.raises(ValueError, match="weekday must be 0"):
        schedule.times_on(7)


def test_schedules_are_values() -> None:
    a = Schedule.parse("Mon 08:00; Mon 09:00")
    b = Schedule((Rule(frozenset({0}), (time(9), time(8))),))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.rules = ()  # type: ignore[misc]


def test_rules_are_checked_when_built_directly() -> None:
    with pytest.raises(InvalidSchedule, match=r"has seconds; .* use 08:00$"):
        Rule(frozenset({0}), (time(8, 0, 30),))
    with pytest.raises(InvalidSchedule, match="carries a time zone"):
        Rule(frozenset({0}), (time(8, tzinfo=UTC),))
    with pytest.raises(InvalidSchedule, match=r"weekday 7 is out of range; use 0 \(Mon\) to 6"):
        Rule(frozenset({7}), (time(8),))
    with pytest.raises(InvalidSchedule, match="weekday True is out of range"):
        Rule(frozenset({True}), (time(8),))
    with pytest.raises(InvalidSchedule, match="needs at least one day"):
        Rule(frozenset(), (time(8),))
    with pytest.raises(InvalidSchedule, match="needs at least one time"):
        Rule(frozenset({0}), ())
    with pytest.raises(InvalidSchedule, match=r"must be datetime\.time values"):
        Rule(frozenset({0}), ("08:00",))  # type: ignore[arg-type]
    with pytest.raises(InvalidSchedule, match="must be Rule values"):
        Schedule(("Mon 08:00",))  # type: ignore[arg-type]
    # fold only matters for aware times; it must not make two equal schedules differ.
    assert Rule(frozenset({0}), (time(8, fold=1),)).times[0].fold == 0


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("Mnday 08:00", f"unknown day 'Mnday' in rule 'Mnday 08:00'; {DAYS_HOW}"),
        ("Mo 08:00", f"unknown day 'Mo' in rule 'Mo 08:00'; {DAYS_HOW}"),
        (
            "Mon / Tue 08:00",
            "unexpected '/' among the days of rule 'Mon / Tue 08:00'; separate days with "
            "commas or spaces, as in 'Mon, Wed 08:00' or 'Mon–Fri 08:00'",
        ),
        (
            "Mon",
            "rule 'Mon' has no times; add them after the days, as in 'Mon–Fri 08:00, 12:30'",
        ),
        (
            "Mon–Fri at",
            "rule 'Mon–Fri at' has no times; add them after the days, as in 'Mon–Fri 08:00, 12:30'",
        ),
        (
            "08:00",
            "rule '08:00' does not start with its days; write the days first, "
            "as in 'Mon–Fri 08:00' or 'daily 9am'",
        ),
        (
            "08:00 Mon",
            "rule '08:00 Mon' does not start with its days; write the days first, "
            "as in 'Mon–Fri 08:00' or 'daily 9am'",
        ),
        (
            "Mon 08:00 Tue 09:00",
            "rule 'Mon 08:00 Tue 09:00' has days after its times; give each set of days its "
            "own rule, separated by ';', as in 'Mon 08:00; Tue 09:00'",
        ),
        (
            "Mon 08:00 soon",
            f"unexpected 'soon' among the times of rule 'Mon 08:00 soon'; {TIMES_HOW}",
        ),
        ("Mon 08:00 /", f"unexpected '/' among the times of rule 'Mon 08:00 /'; {TIMES_HOW}"),
        ("Mon 8.30", f"bad time '8.30' in rule 'Mon 8.30'; {TIMES_HOW}"),
        ("Mon 123:00", f"bad time '123:00' in rule 'Mon 123:00'; {TIMES_HOW}"),
        (
            "Mon 8",
            "time '8' in rule 'Mon 8' needs minutes or am/pm; write 08:00, or 8am / 8pm",
        ),
        ("Mon 17", "time '17' in rule 'Mon 17' needs minutes; write 17:00"),
        ("Mon 24:00", "time '24:00' in rule 'Mon 24:00' is out of range; use 00:00 to 23:59"),
        ("Mon 8:75", "time '8:75' in rule 'Mon 8:75' has minutes past 59; use 00 to 59"),
        (
            "Mon 08:00:30",
            "time '08:00:30' in rule 'Mon 08:00:30' has seconds; schedules are to the "
            "minute, so write 08:00",
        ),
        (
            "Mon 13pm",
            "time '13pm' in rule 'Mon 13pm' has hour 13 with am/pm, which takes 1 to 12; "
            "write 13:00 in 24-hour form",
        ),
        (
            "Mon 0am",
            "time '0am' in rule 'Mon 0am' has hour 0 with am/pm, which takes 1 to 12; "
            "write 00:00 in 24-hour form",
        ),
        (
            "Mon 30pm",
            "time '30pm' in rule 'Mon 30pm' has hour 30 with am/pm, which takes 1 to 12; "
            "use 1 to 12 with am/pm, or 00:00 to 23:59",
        ),
        (
            "Mon–Mon 08:00",
            "the range Mon–Mon in rule 'Mon–Mon 08:00' starts and ends on the same day; "
            "write just Mon, or daily for every day",
        ),
        (
            "Mon– 08:00",
            "the range starting at 'Mon' in rule 'Mon– 08:00' has no last day; write it as Mon–Fri",
        ),
        (
            "Mon–Wed–Fri 08:00",
            "'–' in rule 'Mon–Wed–Fri 08:00' needs a day on each side, as in Mon–Fri",
        ),
        ("–Fri 08:00", "'–' in rule '–Fri 08:00' needs a day on each side, as in Mon–Fri"),
        (
            "weekdays–Sun 08:00",
            "'weekdays' cannot be one end of a range in rule 'weekdays–Sun 08:00'; "
            "a range joins two single days, as in Mon–Fri",
        ),
        ("Mon–Frday 08:00", f"unknown day 'Frday' in rule 'Mon–Frday 08:00'; {DAYS_HOW}"),
        # The error names the offending rule, not the whole text.
        ("Mon 08:00; Tu 09:00", f"unknown day 'Tu' in rule 'Tu 09:00'; {DAYS_HOW}"),
    ],
)
def test_parse_errors_say_what_is_wrong_and_how_to_write_it(text: str, detail: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.parse(text)
    assert caught.value.detail == detail
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "invalid_schedule"


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidSchedule, match="a schedule must be text, not list"):
        Schedule.parse([])  # type: ignore[arg-type]


def test_from_json_merges_duplicates() -> None:
    schedule = Schedule.from_json(
        [
            {"days": ["mon", "mon", "tue"], "times": ["08:00", "08:00"]},
            {"times": ["12:30"], "days": ["tue"]},
        ]
    )
    assert str(schedule) == "Mon 08:00; Tue 08:00, 12:30"


JSON_EXAMPLE = '[{"days": ["mon", "tue"], "times": ["08:00", "12:30"]}]'


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ("Mon 08:00", f"a schedule must be a list of rules like {JSON_EXAMPLE}, not str"),
        ({"days": []}, f"a schedule must be a list of rules like {JSON_EXAMPLE}, not dict"),
        (
            ["mon"],
            "rule [0] must be an object with 'days' and 'times', "
            "like {'days': ['mon'], 'times': ['08:00']}",
        ),
        (
            [{"days": ["mon"], "times": ["08:00"], "tz": "UTC"}],
            "rule [0] has unknown key 'tz'; a rule has only 'days' and 'times'",
        ),
        ([{"days": ["mon"]}], "rule [0] is missing 'times'"),
        ([{"times": ["08:00"]}], "rule [0] is missing 'days'"),
        (
            [{"days": [], "times": ["08:00"]}],
            'rule [0].days must be a non-empty list of strings such as ["mon", "fri"]',
        ),
        (
            [{"days": "mon", "times": ["08:00"]}],
            'rule [0].days must be a non-empty list of strings such as ["mon", "fri"]',
        ),
        (
            [{"days": [0], "times": ["08:00"]}],
            'rule [0].days must be a non-empty list of strings such as ["mon", "fri"]',
        ),
        (
            [{"days": ["mon"], "times": []}],
            'rule [0].times must be a non-empty list of strings such as ["08:00"]',
        ),
        (
            [{"days": ["mon"], "times": [800]}],
            'rule [0].times must be a non-empty list of strings such as ["08:00"]',
        ),
        (
            [{"days": ["mon"], "times": ["08:00"]}, {"days": ["mon", "Tue"], "times": ["08:00"]}],
            "unknown day 'Tue' at rule [1].days[1]; "
            "use one of mon, tue, wed, thu, fri, sat, sun (lower case)",
        ),
        (
            [{"days": ["monday"], "times": ["08:00"]}],
            "unknown day 'monday' at rule [0].days[0]; "
            "use one of mon, tue, wed, thu, fri, sat, sun (lower case)",
        ),
        *(
            (
                [{"days": ["mon"], "times": ["08:00", bad]}],
                f"bad time {bad!r} at rule [0].times[1]; use 24-hour HH:MM from 00:00 to "
                "23:59, such as '08:00'",
            )
            for bad in ("8:00", "24:00", "08:60", "08:00:00", "8am", " 08:00", "08:00\n")
        ),
    ],
)
def test_from_json_errors(data: object, detail: str) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        Schedule.from_json(data)
    assert caught.value.detail == detail


# -- round trips over random schedules -------------------------------------------------------

DAY_SPELLINGS = (
    ("Mon", "mon", "MONDAY", "Monday", "mondays"),
    ("Tue", "tues", "Tuesday", "TUE"),
    ("Wed", "weds", "Wednesday", "wed"),
    ("Thu", "thur", "Thurs", "thursday"),
    ("Fri", "fri", "Friday", "FRIDAYS"),
    ("Sat", "sat", "Saturday"),
    ("Sun", "sun", "Sunday", "sundays"),
)

any_time = st.builds(time, st.integers(0, 23), st.integers(0, 59))
# Clock changes cluster around midnight and the small hours; so should the schedules.
change_time = st.builds(time, st.sampled_from([0, 1, 2, 3, 22, 23]), st.sampled_from([0, 15, 30]))
schedule_time = st.one_of(change_time, any_time)
rules = st.builds(
    Rule,
    st.frozensets(st.integers(0, 6), min_size=1),
    st.lists(schedule_time, min_size=1, max_size=4).map(tuple),
)
schedules = st.lists(rules, max_size=4).map(lambda rs: Schedule(tuple(rs)))
non_empty_schedules = st.lists(rules, min_size=1, max_size=4).map(lambda rs: Schedule(tuple(rs)))


@given(schedules)
@settings(max_examples=200, deadline=None)
def test_text_and_json_round_trip(schedule: Schedule) -> None:
    assert Schedule.parse(str(schedule)) == schedule
    assert Schedule.from_json(schedule.to_json()) == schedule
    assert str(Schedule.parse(str(schedule))) == str(schedule)
    for day in range(7):
        times = schedule.times_on(day)
        assert list(times) == sorted(set(times))
        assert all(t.second == 0 and t.microsecond == 0 for t in times)


def _spell_time(t: time, style: int) -> str:
    if style == 0:
        return f"{t.hour:02d}:{t.minute:02d}"
    if style == 1:
        return f"{t.hour}:{t.minute:02d}"
    half = "am" if t.hour < 12 else "pm"
    hour = t.hour % 12 or 12
    return f"{hour}{half}" if t.minute == 0 else f"{hour}:{t.minute:02d} {half.upper()}"


@st.composite
def typed_rules(draw: st.DrawFn) -> tuple[str, frozenset[int], tuple[time, ...]]:
    """One rule as a person might type it, with the days and times it means."""
    times = tuple(draw(st.lists(any_time, min_size=1, max_size=4)))
    spelled_times = ", ".join(_spell_time(t, draw(st.integers(0, 2))) for t in times)
    if draw(st.booleans()):
        first, last = draw(st.integers(0, 6)), draw(st.integers(0, 6))
        if first == last:
            last = (last + 1) % 7
        dash = draw(st.sampled_from(["–", "—", "-", " - ", " to "]))
        spelled_days = (
            draw(st.sampled_from(DAY_SPELLINGS[first]))
            + dash
            + draw(st.sampled_from(DAY_SPELLINGS[last]))
        )
        days = frozenset((first + i) % 7 for i in range(((last - first) % 7) + 1))
    else:
        chosen = draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
        separator = draw(st.sampled_from([", ", " ", ",", " and "]))
        spelled_days = separator.join(draw(st.sampled_from(DAY_SPELLINGS[d])) for d in chosen)
        days = frozenset(chosen)
    return f"{spelled_days} {spelled_times}", days, times


@given(st.lists(typed_rules(), min_size=1, max_size=3), st.sampled_from(["; ", "\n", " ;\n"]))
@settings(max_examples=200, deadline=None)
def test_parse_understands_typed_variants(
    typed: list[tuple[str, frozenset[int], tuple[time, ...]]], separator: str
) -> None:
    text = separator.join(rule_text for rule_text, _, _ in typed)
    expected = Schedule(tuple(Rule(days, times) for _, days, times in typed))
    assert Schedule.parse(text) == expected


# -- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "US/Eastern"]
)
def test_zone_loads_iana_names(name: str) -> None:
    assert zone(name).key == name


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("", f"the time zone is empty; {ZONE_HOW}"),
        ("../etc", f"'../etc' is not a time zone name; {ZONE_HOW}"),
        ("/etc/passwd", f"'/etc/passwd' is not a time zone name; {ZONE_HOW}"),
        ("Europe/../Berlin", f"'Europe/../Berlin' is not a time zone name; {ZONE_HOW}"),
        ("Europe//Berlin", f"'Europe//Berlin' is not a time zone name; {ZONE_HOW}"),
        ("Europe/Berlin/", f"'Europe/Berlin/' is not a time zone name; {ZONE_HOW}"),
        (" UTC", f"' UTC' is not a time zone name; {ZONE_HOW}"),
        ("UTC\x00", f"'UTC\\x00' is not a time zone name; {ZONE_HOW}"),
        ("zone.tab", f"'zone.tab' is not a time zone name; {ZONE_HOW}"),
        ("+05:00", f"'+05:00' is not a time zone name; {ZONE_HOW}"),
        ("A" * 65, f"'{'A' * 65}' is not a time zone name; {ZONE_HOW}"),
        ("localtime", f"'localtime' is not a time zone name; {ZONE_HOW}"),
        ("posixrules", f"'posixrules' is not a time zone name; {ZONE_HOW}"),
        ("Factory", f"'Factory' is not a time zone name; {ZONE_HOW}"),
        ("posix/Europe/Berlin", f"'posix/Europe/Berlin' is not a time zone name; {ZONE_HOW}"),
        ("right/UTC", f"'right/UTC' is not a time zone name; {ZONE_HOW}"),
        (
            "America/New_Yrok",
            "unknown time zone 'America/New_Yrok'; did you mean 'America/New_York'? "
            f"Otherwise {ZONE_HOW}",
        ),
        (
            "europe/berlin",
            "unknown time zone 'europe/berlin'; did you mean 'Europe/Berlin'? "
            f"Otherwise {ZONE_HOW}",
        ),
        ("America", f"unknown time zone 'America'; {ZONE_HOW}"),
        ("Mars/Olympus_Mons", f"unknown time zone 'Mars/Olympus_Mons'; {ZONE_HOW}"),
    ],
)
def test_zone_refuses_anything_else(name: str, detail: str) -> None:
    with pytest.raises(UnknownTimezone) as caught:
        zone(name)
    assert caught.value.detail == detail
    assert caught.value.code == "unknown_timezone"


def test_zone_refuses_non_strings() -> None:
    with pytest.raises(UnknownTimezone, match="must be a name, not NoneType"):
        zone(None)  # type: ignore[arg-type]


def test_every_listed_zone_loads() -> None:
    for name in ZONES:
        assert zone(name).key == name


# -- the wall-time rule, worked --------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz_name", "day", "at", "expected_local"),
    [
        # New York springs forward at 02:00 → 03:00: 02:30 does not exist, goes out at 03:30.
        ("America/New_York", date(2026, 3, 8), time(2, 30), "2026-03-08T03:30:00-04:00"),
        ("America/New_York", date(2026, 3, 8), time(2, 0), "2026-03-08T03:00:00-04:00"),
        ("America/New_York", date(2026, 3, 8), time(1, 59), "2026-03-08T01:59:00-05:00"),
        ("America/New_York", date(2026, 3, 8), time(3, 0), "2026-03-08T03:00:00-04:00"),
        # … and falls back at 02:00 → 01:00: 01:30 happens twice, the first one counts (EDT).
        ("America/New_York", date(2026, 11, 1), time(1, 30), "2026-11-01T01:30:00-04:00"),
        ("America/New_York", date(2026, 11, 1), time(1, 0), "2026-11-01T01:00:00-04:00"),
        ("America/New_York", date(2026, 11, 1), time(2, 0), "2026-11-01T02:00:00-05:00"),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), "2026-03-29T03:30:00+02:00"),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), "2026-10-25T02:30:00+02:00"),
        # Lord Howe moves its clocks by half an hour.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), "2026-10-04T02:45:00+11:00"),
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), "2026-04-05T01:45:00+11:00"),
        # Southern hemisphere: Sydney springs forward in October, falls back in April.
        ("Australia/Sydney", date(2026, 10, 4), time(2, 30), "2026-10-04T03:30:00+11:00"),
        ("Australia/Sydney", date(2026, 4, 5), time(2, 30), "2026-04-05T02:30:00+11:00"),
        # Santiago changes at midnight, so the missing hour starts the day.
        ("America/Santiago", date(2026, 9, 6), time(0, 30), "2026-09-06T01:30:00-03:00"),
        ("America/Santiago", date(2026, 4, 4), time(23, 30), "2026-04-04T23:30:00-03:00"),
        # Samoa skipped Friday 2011-12-30 entirely; its times happen a day later.
        ("Pacific/Apia", date(2011, 12, 30), time(10, 0), "2011-12-31T10:00:00+14:00"),
        ("Pacific/Apia", date(2011, 12, 29), time(23, 59), "2011-12-29T23:59:00-10:00"),
        ("UTC", date(2026, 3, 8), time(2, 30), "2026-03-08T02:30:00+00:00"),
    ],
)
def test_wall_to_utc_worked_examples(
    tz_name: str, day: date, at: time, expected_local: str
) -> None:
    tz = ZoneInfo(tz_name)
    instant = wall_to_utc(day, at, tz)
    assert instant.tzinfo is UTC
    assert local(instant, tz) == expected_local


def test_wall_to_utc_ignores_fold_and_refuses_aware_times() -> None:
    assert wall_to_utc(date(2026, 11, 1), time(1, 30, fold=1), NY) == utc(2026, 11, 1, 5, 30)
    with pytest.raises(ValueError, match="without a time zone"):
        wall_to_utc(date(2026, 1, 1), time(8, tzinfo=UTC), NY)


# -- slots, worked ---------------------------------------------------------------------------


def local_slots(text: str, tz_name: str, after: datetime, n: int) -> list[str]:
    tz = ZoneInfo(tz_name)
    return [local(s, tz) for s in next_slots(Schedule.parse(text), tz, after, n)]


def test_new_york_spring_forward_merges_and_reorders() -> None:
    # 02:30 and 03:30 are the same instant that night: one slot. 02:15 (→ 03:15) comes
    # after 03:00 but before 03:30.
    assert local_slots(
        "Sun 01:30, 02:15, 02:30, 03:00, 03:30", "America/New_York", utc(2026, 3, 7), 8
    ) == [
        "2026-03-08T01:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:15:00-04:00",
        "2026-03-08T03:30:00-04:00",
        "2026-03-15T01:30:00-04:00",
        "2026-03-15T02:15:00-04:00",
        "2026-03-15T02:30:00-04:00",
        "2026-03-15T03:00:00-04:00",
    ]


def test_new_york_fall_back_posts_once() -> None:
    assert local_slots("Sun 00:30, 01:30, 02:30", "America/New_York", utc(2026, 10, 31), 4) == [
        "2026-11-01T00:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T02:30:00-05:00",
        "2026-11-08T00:30:00-05:00",
    ]


def test_berlin_both_changes() -> None:
    assert local_slots("Sun 02:30", "Europe/Berlin", utc(2026, 3, 28), 1) == [
        "2026-03-29T03:30:00+02:00"
    ]
    assert local_slots("Sun 02:30", "Europe/Berlin", utc(2026, 10, 24), 2) == [
        "2026-10-25T02:30:00+02:00",
        "2026-11-01T02:30:00+01:00",
    ]


def test_lord_howe_half_hour_change() -> None:
    assert local_slots(
        "Sun 01:45, 02:00, 02:15, 02:30", "Australia/Lord_Howe", utc(2026, 10, 3), 4
    ) == [
        "2026-10-04T01:45:00+10:30",
        "2026-10-04T02:30:00+11:00",
        "2026-10-04T02:45:00+11:00",
        "2026-10-11T01:45:00+11:00",
    ]
    assert local_slots("Sun 01:15, 01:45, 02:00", "Australia/Lord_Howe", utc(2026, 4, 4), 4) == [
        "2026-04-05T01:15:00+11:00",
        "2026-04-05T01:45:00+11:00",
        "2026-04-05T02:00:00+10:30",
        "2026-04-12T01:15:00+10:30",
    ]


def test_apia_skipped_friday_keeps_saturday_in_order() -> None:
    # Friday's times move onto Saturday and interleave with Saturday's own; none is lost.
    assert local_slots(
        "Thu 23:00; Fri 08:00, 17:00; Sat 10:00", "Pacific/Apia", utc(2011, 12, 29), 5
    ) == [
        "2011-12-29T23:00:00-10:00",
        "2011-12-31T08:00:00+14:00",
        "2011-12-31T10:00:00+14:00",
        "2011-12-31T17:00:00+14:00",
        "2012-01-05T23:00:00+14:00",
    ]
    # Friday's 10:00, moved a day on, comes after Saturday's own 08:00.
    assert local_slots("Fri 10:00; Sat 08:00", "Pacific/Apia", utc(2011, 12, 29), 3) == [
        "2011-12-31T08:00:00+14:00",
        "2011-12-31T10:00:00+14:00",
        "2012-01-06T10:00:00+14:00",
    ]
    # The same wall time on Friday and Saturday is a single slot.
    assert local_slots("Fri, Sat 09:00", "Pacific/Apia", utc(2011, 12, 29), 2) == [
        "2011-12-31T09:00:00+14:00",
        "2012-01-06T09:00:00+14:00",
    ]


def test_sydney_southern_hemisphere() -> None:
    assert local_slots("daily 02:30", "Australia/Sydney", utc(2026, 4, 3, 12), 3) == [
        "2026-04-04T02:30:00+11:00",
        "2026-04-05T02:30:00+11:00",
        "2026-04-06T02:30:00+10:00",
    ]
    assert local_slots("daily 02:30", "Australia/Sydney", utc(2026, 10, 2, 12), 3) == [
        "2026-10-03T02:30:00+10:00",
        "2026-10-04T03:30:00+11:00",
        "2026-10-05T02:30:00+11:00",
    ]


def test_slots_are_strictly_after_and_accept_any_aware_after() -> None:
    schedule = Schedule.parse("daily 08:00")
    berlin = ZoneInfo("Europe/Berlin")
    at_eight = datetime(2026, 6, 1, 8, 0, tzinfo=berlin)
    assert next_slots(schedule, berlin, at_eight, 1) == [utc(2026, 6, 2, 6)]
    just_before = at_eight - timedelta(microseconds=1)
    assert next_slots(schedule, berlin, just_before, 1) == [utc(2026, 6, 1, 6)]


def test_empty_schedule_yields_nothing() -> None:
    assert list(slots(Schedule(), NY, utc(2026, 1, 1))) == []
    assert next_slots(Schedule.parse(""), NY, utc(2026, 1, 1), 5) == []


def test_next_slots_edges() -> None:
    schedule = Schedule.parse("daily 08:00")
    assert next_slots(schedule, NY, utc(2026, 1, 1), 0) == []
    with pytest.raises(ValueError, match="n must be zero or more"):
        next_slots(schedule, NY, utc(2026, 1, 1), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        slots(schedule, NY, datetime(2026, 1, 1))


def test_slots_end_with_the_calendar() -> None:
    schedule = Schedule.parse("daily 08:00")
    near_the_end = next_slots(schedule, NY, utc(9999, 12, 20), 100)
    assert 5 <= len(near_the_end) < 15
    assert near_the_end == sorted(set(near_the_end))
    assert next_slots(schedule, ZoneInfo("Asia/Tokyo"), datetime.min.replace(tzinfo=UTC), 2)


def test_two_thousand_slots_take_milliseconds() -> None:
    schedule = Schedule.parse("Mon–Fri 08:00, 12:30, 17:00; Sat 10:00")
    started = monotonic.perf_counter()
    expanded = next_slots(schedule, NY, utc(2026, 1, 1), 2000)
    elapsed = monotonic.perf_counter() - started
    assert len(expanded) == 2000
    assert elapsed < 0.5, f"2,000 slots took {elapsed:.3f} s"


# -- the oracle ------------------------------------------------------------------------------

Segment = tuple[datetime, timedelta]  # (first UTC instant, UTC offset from there on)


def _offset_at(tz: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def offset_timeline(tz: ZoneInfo, start: datetime, end: datetime) -> list[Segment]:
    """The zone's UTC offset over [start, end), as segments, from UTC instants only.

    Samples every 15 minutes and bisects each change to the second (zone transitions fall on
    whole seconds and are never 15 minutes apart).
    """
    step = timedelta(minutes=15)
    timeline: list[Segment] = [(start, _offset_at(tz, start))]
    lo = start
    while lo < end:
        hi = lo + step
        if _offset_at(tz, hi) != timeline[-1][1]:
            a, b = lo, hi  # offset at a is the current one, at b it is not
            while b - a > timedelta(seconds=1):
                mid = a + timedelta(seconds=(b - a).total_seconds() // 2)
                if _offset_at(tz, mid) == timeline[-1][1]:
                    a = mid
                else:
                    b = mid
            timeline.append((b, _offset_at(tz, b)))
        lo = hi
    return timeline


def documented_instant(timeline: list[Segment], wall: datetime) -> tuple[datetime, bool]:
    """(The instant the documented rule gives `wall`, whether `wall` exists at all)."""
    as_utc = wall.replace(tzinfo=UTC)
    bounds = [start for start, _ in timeline[1:]] + [datetime.max.replace(tzinfo=UTC)]
    occurrences = [
        as_utc - offset
        for (start, offset), stop in zip(timeline, bounds, strict=True)
        if start <= as_utc - offset < stop
    ]
    if occurrences:
        return min(occurrences), True
    gaps = [
        as_utc - before
        for (_, before), (change, after) in pairwise(timeline)
        if change + before <= as_utc < change + after
    ]
    assert len(gaps) == 1, f"{wall} neither exists nor falls in one gap: {timeline}"
    return gaps[0], False


def days_between(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def check_against_oracle(schedule: Schedule, tz: ZoneInfo, after: datetime, n: int) -> None:
    got = next_slots(schedule, tz, after, n)
    assert len(got) == n
    assert all(s.tzinfo is UTC for s in got)
    assert all(s > after for s in got)
    assert all(a < b for a, b in pairwise(got)), "not strictly increasing"

    # Wall dates whose times can land in (after, last slot]: offsets are under a day.
    first_day = after.astimezone(UTC).date() - timedelta(days=2)
    last_day = got[-1].date() + timedelta(days=2)
    timeline = offset_timeline(
        tz,
        datetime.combine(first_day - timedelta(days=2), time(), tzinfo=UTC),
        datetime.combine(last_day + timedelta(days=3), time(), tzinfo=UTC),
    )
    sources: dict[datetime, list[tuple[date, time, bool]]] = {}
    for day in days_between(first_day, last_day):
        for at in schedule.times_on(day.weekday()):
            instant, exists = documented_instant(timeline, datetime.combine(day, at))
            assert wall_to_utc(day, at, tz) == instant, (day, at)
            if after < instant <= got[-1]:
                sources.setdefault(instant, []).append((day, at, exists))

    # Nothing skipped, nothing invented: the slots are exactly the scheduled instants.
    assert sorted(sources) == got
    for slot in got:
        wall = slot.astimezone(tz).replace(tzinfo=None)
        for day, at, exists in sources[slot]:
            if exists:
                # A real wall time: the slot shows it, on a weekday that schedules it.
                assert (wall.date(), wall.time()) == (day, at)
                assert at in schedule.times_on(wall.weekday())
            else:
                # A skipped wall time: the slot is the documented shift of it.
                assert slot == wall_to_utc(day, at, tz)
                assert wall > datetime.combine(day, at)


# -- properties ------------------------------------------------------------------------------

SKIPPED_DAYS = [
    ("Pacific/Apia", datetime(2011, 12, 30, tzinfo=UTC)),
    ("Pacific/Fakaofo", datetime(2011, 12, 30, tzinfo=UTC)),
    ("Pacific/Kwajalein", datetime(1993, 8, 21, tzinfo=UTC)),
    ("Pacific/Kiritimati", datetime(1994, 12, 31, tzinfo=UTC)),
    ("Asia/Manila", datetime(1844, 12, 31, tzinfo=UTC)),
    # …and days that happened twice.
    ("America/Juneau", datetime(1867, 10, 19, tzinfo=UTC)),
    ("Pacific/Apia", datetime(1892, 7, 4, tzinfo=UTC)),
    ("Pacific/Kwajalein", datetime(1969, 9, 30, tzinfo=UTC)),
]


@st.composite
def near_clock_changes(draw: st.DrawFn) -> datetime:
    """An instant in a month where clocks usually change, between 1990 and 2037."""
    year = draw(st.integers(1990, 2037))
    month = draw(st.sampled_from([3, 4, 9, 10, 11]))
    day = draw(st.integers(1, 30 if month in (4, 9, 11) else 31))
    seconds = draw(st.integers(0, 24 * 3600 - 1))
    return datetime(year, month, day, tzinfo=UTC) + timedelta(seconds=seconds)


anywhen = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, str, datetime, int]:
    if draw(st.integers(0, 9)) == 0:
        tz_name, around = draw(st.sampled_from(SKIPPED_DAYS))
        after = around + timedelta(hours=draw(st.integers(-72, 24)))
    else:
        tz_name = draw(st.sampled_from(ZONES))
        after = draw(st.one_of(near_clock_changes(), near_clock_changes(), anywhen))
    return draw(non_empty_schedules), tz_name, after, draw(st.integers(1, 30))


@given(cases())
@example((Schedule.parse("Fri 08:00, 17:00; Sat 10:00"), "Pacific/Apia", utc(2011, 12, 28), 6))
@example((Schedule.parse("Fri 23:00; Sat 00:15"), "Pacific/Kiritimati", utc(1994, 12, 28), 4))
@example((Schedule.parse("Sun 02:30, 03:30, 02:15"), "America/New_York", utc(2026, 3, 7), 6))
@example((Schedule.parse("Sun 01:30"), "America/New_York", utc(2026, 11, 1, 5, 30), 2))
@example((Schedule.parse("daily 02:15"), "Australia/Lord_Howe", utc(2026, 10, 1), 5))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_slots_follow_the_documented_rule(case: tuple[Schedule, str, datetime, int]) -> None:
    schedule, tz_name, after, n = case
    check_against_oracle(schedule, ZoneInfo(tz_name), after, n)


def _changes_in(tz: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants, to within a day, just before each offset change of `tz` in `year`."""
    instant = datetime(year, 1, 1, tzinfo=UTC)
    offset = _offset_at(tz, instant)
    changes = []
    while instant.year == year:
        following = instant + timedelta(days=1)
        if _offset_at(tz, following) != offset:
            changes.append(instant)
            offset = _offset_at(tz, following)
        instant = following
    return changes


@pytest.mark.parametrize("year", [1995, 2026])
def test_every_zone_through_its_clock_changes(year: int) -> None:
    """Every zone, every change of the year, half-hourly slots across it: matches the oracle."""
    every_half_hour = Schedule.parse(
        "daily " + ", ".join(f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30))
    )
    for name in ZONES:
        tz = ZoneInfo(name)
        for change in _changes_in(tz, year):
            # The change is within the day after `change`; two days of slots cover it.
            check_against_oracle(every_half_hour, tz, change - timedelta(hours=12), 2 * 48)
