"""A channel's posting schedule, and its expansion into the UTC instants that floating posts fill.

A schedule is a set of weekdays × wall-clock times ("Mon–Fri 08:00, 12:30; Sat 10:00"). Wall
times only mean something in a place, so slots are expanded in the channel's IANA zone and
handed out as UTC instants, which is how every time is stored. The rule for wall times that
do not exist or happen twice lives in `wall_to_utc`; docs/time.md explains it for users.
"""

from __future__ import annotations

import dataclasses
import difflib
import heapq
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from onthedot.errors import InvalidSchedule, UnknownTimezone

__all__ = [
    "Rule",
    "Schedule",
    "next_slots",
    "slots",
    "wall_to_utc",
    "zone",
]

_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ABBRS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ALL_DAYS = frozenset(range(7))
_DAY_GROUPS = {
    "daily": _ALL_DAYS,
    "everyday": _ALL_DAYS,
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weekend": frozenset({5, 6}),
    "weekends": frozenset({5, 6}),
}
_DASHES = frozenset("-‐‑‒–—―−")  # hyphen, the Unicode dashes and the minus sign
_RANGE_WORDS = frozenset({"to", "through", "thru", "till", "until"})
_DAY_FILLERS = frozenset({",", ":", "&", "and", "on", "at", "every"})
_TIME_FILLERS = frozenset({",", "&", "and"})

_DAYS_HOW = "use Mon, Tue, … or Mon–Fri (also daily, weekdays, weekends)"
_TIMES_HOW = "write times as 08:00, 17:30 or 8am, 5:30pm"
_JSON_EXAMPLE = '[{"days": ["mon", "tue"], "times": ["08:00", "12:30"]}]'

_RULE_SEPARATOR = re.compile(r"[;\n\r]+")
_EVERY_DAY = re.compile(r"\bevery\s+day\b", re.IGNORECASE)
_DAY_TOKEN = re.compile(r"[^\W\d_]+|\S")
_TIME_TOKEN = re.compile(r"\d[\d:.]*(?:\s*[ap]\.?m\.?(?![^\W\d_]))?|[^\W\d_]+|\S", re.IGNORECASE)
_TIME_TEXT = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?"
    r"\s*(?:(?P<half>[ap])\.?m\.?)?",
    re.IGNORECASE,
)
_TIME_JSON = re.compile(r"(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)")

# Names ZoneInfo can load that are not zones a channel should live in: the host's own
# zone, the tzcode build helper, the "no zone configured" placeholder, and the alternate
# trees (POSIX-style and leap-second-counting) some systems ship next to the real one.
_REFUSED_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_REFUSED_ZONE_TREES = frozenset({"posix", "right"})
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_ZONE_HOW = "use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'"

# Every UTC offset is strictly within a day (datetime enforces it), so a wall time on a date
# maps to an instant less than a day away from that date's wall clock read as UTC. That bound
# is all `slots` needs to know when no later date can produce an earlier instant.
_OFFSET_BOUND = timedelta(hours=24)
_ONE_DAY = timedelta(days=1)
# Margins keep the arithmetic inside datetime's range at both ends of the calendar.
_FIRST_DAY = date.min + timedelta(days=2)
_LAST_DAY = date.max - timedelta(days=2)


def _minute_time(value: object) -> time:
    if not isinstance(value, time):
        raise InvalidSchedule(f"schedule times must be datetime.time values, not {value!r}")
    if value.tzinfo is not None:
        raise InvalidSchedule(
            f"schedule time {value.isoformat()} carries a time zone; schedule times are "
            "wall-clock times in the channel's zone, so leave the zone off"
        )
    if value.second or value.microsecond:
        raise InvalidSchedule(
            f"schedule time {value.isoformat()} has seconds; schedules are to the minute, "
            f"use {value.strftime('%H:%M')}"
        )
    return value.replace(fold=0)


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """Some weekdays (Mon=0 … Sun=6), each posting at the same wall-clock times."""

    days: frozenset[int]
    times: tuple[time, ...]

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        for day in days:
            # bool is an int, but True as "Tuesday" is a bug, not a weekday.
            if type(day) is not int or not 0 <= day <= 6:
                raise InvalidSchedule(f"weekday {day!r} is out of range; use 0 (Mon) to 6 (Sun)")
        if not days:
            raise InvalidSchedule("a schedule rule needs at least one day")
        times = tuple(sorted({_minute_time(t) for t in self.times}))
        if not times:
            raise InvalidSchedule("a schedule rule needs at least one time")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "times", times)

    def to_text(self) -> str:
        return f"{_days_text(self.days)} {', '.join(_hhmm(t) for t in self.times)}"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Schedule:
    """When a channel posts: the union of its rules, kept in one canonical form.

    Whatever rules go in, the stored rules are regrouped so each weekday appears in exactly
    one rule and weekdays with identical times share a rule. Two schedules that post at the
    same times are therefore equal, and `str` gives the same text for both.
    """

    rules: tuple[Rule, ...] = ()
    _week: tuple[tuple[time, ...], ...] = dataclasses.field(init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        per_day: list[set[time]] = [set() for _ in range(7)]
        for rule in self.rules:
            if not isinstance(rule, Rule):
                raise InvalidSchedule(f"schedule rules must be Rule values, not {rule!r}")
            for day in rule.days:
                per_day[day].update(rule.times)
        week = tuple(tuple(sorted(times)) for times in per_day)
        object.__setattr__(self, "_week", week)
        object.__setattr__(self, "rules", _group_days(week))

    # -- ways in ---------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Read a schedule as people type it: "Mon–Fri 08:00, 12:30; Sat 10am".

        Rules are separated by ";" or new lines; each rule is days followed by times. Empty
        text is an empty schedule.
        """
        if not isinstance(text, str):
            raise InvalidSchedule(f"a schedule must be text, not {type(text).__name__}")
        rules = []
        for chunk in _RULE_SEPARATOR.split(text):
            rule_text = chunk.strip()
            if rule_text:
                rules.append(_parse_rule(rule_text))
        return cls(tuple(rules))

    @classmethod
    def from_json(cls, data: object) -> Schedule:
        """Read the stored form, `[{"days": ["mon", ...], "times": ["08:00", ...]}, ...]`.

        Strict about shape, day codes and "HH:MM" times; overlapping rules are merged.
        """
        if not isinstance(data, list):
            raise InvalidSchedule(
                f"a schedule must be a list of rules like {_JSON_EXAMPLE}, "
                f"not {type(data).__name__}"
            )
        rules = []
        for index, entry in enumerate(data):
            where = f"rule [{index}]"
            if not isinstance(entry, dict):
                raise InvalidSchedule(
                    f"{where} must be an object with 'days' and 'times', "
                    f"like {{'days': ['mon'], 'times': ['08:00']}}"
                )
            for key in entry:
                if key not in ("days", "times"):
                    raise InvalidSchedule(
                        f"{where} has unknown key {key!r}; a rule has only 'days' and 'times'"
                    )
            for key in ("days", "times"):
                if key not in entry:
                    raise InvalidSchedule(f"{where} is missing {key!r}")
            days = _json_strings(entry["days"], f"{where}.days", 'such as ["mon", "fri"]')
            times = _json_strings(entry["times"], f"{where}.times", 'such as ["08:00"]')
            rules.append(
                Rule(
                    frozenset(_json_day(d, f"{where}.days[{i}]") for i, d in enumerate(days)),
                    tuple(_json_time(t, f"{where}.times[{i}]") for i, t in enumerate(times)),
                )
            )
        return cls(tuple(rules))

    # -- ways out --------------------------------------------------------------------------

    def to_json(self) -> list[dict[str, list[str]]]:
        return [
            {
                "days": [_DAY_CODES[d] for d in sorted(rule.days)],
                "times": [_hhmm(t) for t in rule.times],
            }
            for rule in self.rules
        ]

    def to_text(self) -> str:
        """The canonical text, e.g. "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"."""
        return "; ".join(rule.to_text() for rule in self.rules)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Schedule.parse({self.to_text()!r})"

    # -- questions -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return not any(self._week)

    def times_on(self, weekday: int) -> tuple[time, ...]:
        """The wall-clock times of one weekday (Mon=0 … Sun=6), sorted and unique."""
        if type(weekday) is not int or not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Mon) to 6 (Sun), not {weekday!r}")
        return self._week[weekday]


def _group_days(week: tuple[tuple[time, ...], ...]) -> tuple[Rule, ...]:
    by_times: dict[tuple[time, ...], list[int]] = {}
    for day, times in enumerate(week):
        if times:
            by_times.setdefault(times, []).append(day)
    # Weekdays are visited in order, so rules come out ordered by their first day.
    return tuple(Rule(frozenset(days), times) for times, days in by_times.items())


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _days_text(days: Iterable[int]) -> str:
    # Runs of three or more days read best as ranges ("Mon–Fri"); two as a pair ("Sat, Sun").
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{_DAY_ABBRS[run[0]]}–{_DAY_ABBRS[run[-1]]}")
        else:
            parts.extend(_DAY_ABBRS[d] for d in run)
    return ", ".join(parts)


# -- text parsing ----------------------------------------------------------------------------


def _day_number(word: str) -> int | None:
    lowered = word.lower()
    if lowered == "weds":
        return 2
    if len(lowered) >= 3:
        for number, name in enumerate(_DAY_NAMES):
            # Any prefix of three letters or more is unambiguous ("thurs", "sund"); a
            # trailing plural ("Mondays") reads as the same day.
            if name.startswith(lowered) or lowered == name + "s":
                return number
    return None


def _is_range_mark(token: str) -> bool:
    return token in _DASHES or token.lower() in _RANGE_WORDS


def _parse_rule(rule_text: str) -> Rule:
    first_digit = re.search(r"\d", rule_text)
    days_text = rule_text[: first_digit.start()] if first_digit else rule_text
    times_text = rule_text[first_digit.start() :] if first_digit else ""
    days = _parse_days(days_text, rule_text)
    if not days:
        raise InvalidSchedule(
            f"rule {rule_text!r} does not start with its days; "
            "write the days first, as in 'Mon–Fri 08:00' or 'daily 9am'"
        )
    times = _parse_times(times_text, rule_text)
    if not times:
        raise InvalidSchedule(
            f"rule {rule_text!r} has no times; add them after the days, "
            "as in 'Mon–Fri 08:00, 12:30'"
        )
    return Rule(frozenset(days), tuple(times))


def _parse_days(days_text: str, rule_text: str) -> set[int]:
    normalized = _EVERY_DAY.sub("daily", days_text)
    tokens = [
        token for token in _DAY_TOKEN.findall(normalized) if token.lower() not in _DAY_FILLERS
    ]
    days: set[int] = set()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if _is_range_mark(token):
            raise InvalidSchedule(
                f"{token!r} in rule {rule_text!r} needs a day on each side, as in Mon–Fri"
            )
        if index + 1 < len(tokens) and _is_range_mark(tokens[index + 1]):
            if index + 2 >= len(tokens) or _is_range_mark(tokens[index + 2]):
                raise InvalidSchedule(
                    f"the range starting at {token!r} in rule {rule_text!r} has no last day; "
                    "write it as Mon–Fri"
                )
            first = _range_end(token, rule_text)
            last = _range_end(tokens[index + 2], rule_text)
            if first == last:
                raise InvalidSchedule(
                    f"the range {token}–{tokens[index + 2]} in rule {rule_text!r} starts and "
                    f"ends on the same day; write just {_DAY_ABBRS[first]}, or daily for "
                    "every day"
                )
            # Ranges may wrap past Sunday: Fri–Mon is Fri, Sat, Sun, Mon.
            span = (last - first) % 7
            days.update((first + step) % 7 for step in range(span + 1))
            index += 3
            continue
        days.update(_day_word(token, rule_text))
        index += 1
    return days


def _day_word(token: str, rule_text: str) -> frozenset[int]:
    group = _DAY_GROUPS.get(token.lower())
    if group is not None:
        return group
    if not token.isalpha():
        raise InvalidSchedule(
            f"unexpected {token!r} among the days of rule {rule_text!r}; separate days with "
            "commas or spaces, as in 'Mon, Wed 08:00' or 'Mon–Fri 08:00'"
        )
    number = _day_number(token)
    if number is None:
        raise InvalidSchedule(f"unknown day {token!r} in rule {rule_text!r}; {_DAYS_HOW}")
    return frozenset({number})


def _range_end(token: str, rule_text: str) -> int:
    number = _day_number(token)
    if number is not None:
        return number
    if token.lower() in _DAY_GROUPS:
        raise InvalidSchedule(
            f"{token!r} cannot be one end of a range in rule {rule_text!r}; "
            "a range joins two single days, as in Mon–Fri"
        )
    raise InvalidSchedule(f"unknown day {token!r} in rule {rule_text!r}; {_DAYS_HOW}")


def _parse_times(times_text: str, rule_text: str) -> list[time]:
    times: list[time] = []
    for token in _TIME_TOKEN.findall(times_text):
        if token.lower() in _TIME_FILLERS:
            continue
        if token[0].isdigit():
            times.append(_parse_time(token, rule_text))
        elif _day_number(token) is not None or token.lower() in _DAY_GROUPS:
            raise InvalidSchedule(
                f"rule {rule_text!r} has days after its times; give each set of days its "
                "own rule, separated by ';', as in 'Mon 08:00; Tue 09:00'"
            )
        else:
            raise InvalidSchedule(
                f"unexpected {token!r} among the times of rule {rule_text!r}; {_TIMES_HOW}"
            )
    return times


def _parse_time(token: str, rule_text: str) -> time:
    match = _TIME_TEXT.fullmatch(token)
    if match is None:
        raise InvalidSchedule(f"bad time {token!r} in rule {rule_text!r}; {_TIMES_HOW}")
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    where = f"time {token!r} in rule {rule_text!r}"
    if match["second"] is not None and int(match["second"]) != 0:
        raise InvalidSchedule(
            f"{where} has seconds; schedules are to the minute, so write {hour:02d}:{minute:02d}"
        )
    if minute > 59:
        raise InvalidSchedule(f"{where} has minutes past 59; use 00 to 59")
    half = match["half"]
    if half is not None:
        if not 1 <= hour <= 12:
            fix = (
                f"write {hour:02d}:{minute:02d} in 24-hour form"
                if hour <= 23
                else "use 1 to 12 with am/pm, or 00:00 to 23:59"
            )
            raise InvalidSchedule(f"{where} has hour {hour} with am/pm, which takes 1 to 12; {fix}")
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    elif match["minute"] is None:
        raise InvalidSchedule(
            f"{where} needs minutes or am/pm; write {hour:02d}:00, or {hour}am / {hour}pm"
            if hour <= 12
            else f"{where} needs minutes; write {hour:02d}:00"
        )
    if hour > 23:
        raise InvalidSchedule(f"{where} is out of range; use 00:00 to 23:59")
    return time(hour, minute)


# -- JSON parsing ----------------------------------------------------------------------------


def _json_strings(value: object, where: str, example: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise InvalidSchedule(f"{where} must be a non-empty list of strings {example}")
    return [str(item) for item in value]


def _json_day(code: str, where: str) -> int:
    if code not in _DAY_CODES:
        raise InvalidSchedule(
            f"unknown day {code!r} at {where}; use one of {', '.join(_DAY_CODES)} (lower case)"
        )
    return _DAY_CODES.index(code)


def _json_time(text: str, where: str) -> time:
    match = _TIME_JSON.fullmatch(text)
    if match is None:
        raise InvalidSchedule(
            f"bad time {text!r} at {where}; use 24-hour HH:MM from 00:00 to 23:59, such as '08:00'"
        )
    return time(int(match["hour"]), int(match["minute"]))


# -- time zones and wall times ---------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """Load the IANA time zone `name` ("Europe/Berlin", "UTC"), refusing anything else."""
    if not isinstance(name, str):
        raise UnknownTimezone(f"a time zone must be a name, not {type(name).__name__}; {_ZONE_HOW}")
    if not name:
        raise UnknownTimezone(f"the time zone is empty; {_ZONE_HOW}")
    # Checking the shape first keeps paths ("../etc", "/usr/...") away from the file lookup.
    if (
        len(name) > 64
        or not _ZONE_NAME.fullmatch(name)
        or name in _REFUSED_ZONES
        or name.split("/", 1)[0] in _REFUSED_ZONE_TREES
    ):
        raise UnknownTimezone(f"{name!r} is not a time zone name; {_ZONE_HOW}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: a data file that is not a zone; OSError: a directory such as "America".
        raise UnknownTimezone(_unknown_zone_detail(name)) from None


def _unknown_zone_detail(name: str) -> str:
    known = sorted(available_timezones() - _REFUSED_ZONES)
    same_but_case = [candidate for candidate in known if candidate.lower() == name.lower()]
    close = same_but_case or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    if close:
        return f"unknown time zone {name!r}; did you mean {close[0]!r}? Otherwise {_ZONE_HOW}"
    return f"unknown time zone {name!r}; {_ZONE_HOW}"


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in `tz` shows `at` on `day`.

    The documented rule (docs/time.md) for the two cases where that is not one instant:

    * a wall time skipped by a clock change happens as far after the change as it was
      after the moment the clock jumped, so it moves forward by the length of the jump
      (New York, 2026-03-08 02:30 becomes 03:30 EDT); a whole skipped day moves a day;
    * a wall time that happens twice takes its first occurrence.
    """
    if at.tzinfo is not None:
        raise ValueError("wall_to_utc needs a wall-clock time without a time zone")
    # PEP 495 defines fold=0 as "use the offset in force before the transition", both in a
    # gap and in an overlap, which is exactly the rule above: in a gap the old offset puts the
    # time past the jump by the jump's length; in an overlap it picks the earlier instant.
    local = datetime.combine(day, at, tzinfo=tz).replace(fold=0)
    return local.astimezone(UTC)


# -- slot expansion --------------------------------------------------------------------------


def slots(schedule: Schedule, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """The schedule's slots strictly after `after`, as increasing, distinct UTC instants.

    Endless for a schedule with times (it stops only at the end of the calendar, year 9999);
    empty for an empty schedule. Scheduled wall times that land on the same instant, as
    02:30 and 03:30 do on a spring-forward night, are one slot.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("slots needs a timezone-aware `after`")
    if schedule.is_empty:
        return iter(())
    return _expand(schedule, tz, after.astimezone(UTC))


def next_slots(schedule: Schedule, tz: ZoneInfo, after: datetime, n: int) -> list[datetime]:
    """The first `n` slots after `after` (fewer only for an empty schedule)."""
    if n < 0:
        raise ValueError(f"n must be zero or more, not {n}")
    return list(islice(slots(schedule, tz, after), n))


def _expand(schedule: Schedule, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    # A shifted wall time can land after later wall times (on a spring-forward night 02:15
    # becomes 03:15, after 03:00; Apia's skipped Friday lands among Saturday's times), so
    # candidates go through a heap and leave it only once no later date can produce anything
    # earlier. A date's candidates lie within a day either side of that date read as UTC, so
    # starting two days before `after`'s UTC date misses nothing.
    day = after.date()
    day = day - 2 * _ONE_DAY if day > _FIRST_DAY + 2 * _ONE_DAY else _FIRST_DAY
    last = after
    pending: list[datetime] = []
    while day <= _LAST_DAY:
        for at in schedule.times_on(day.weekday()):
            heapq.heappush(pending, wall_to_utc(day, at, tz))
        day += _ONE_DAY
        settled = datetime.combine(day, time(), tzinfo=UTC) - _OFFSET_BOUND
        while pending and pending[0] <= settled:
            instant = heapq.heappop(pending)
            if instant > last:
                last = instant
                yield instant
    for instant in sorted(pending):
        if instant > last:
            last = instant
            yield instant
