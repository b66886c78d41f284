"""Property tests: random rules, zones and starts against invariants of the engine.

Rules come from a generator that also keeps the parameters it wrote into the
phrase, so each occurrence is checked against those parameters directly
(not against the engine's own reading of the rule).
"""

from __future__ import annotations

import calendar
import functools
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_recurrence import (
    CatchUp,
    Recurrence,
    first_due,
    next_instance,
    occurrences,
    parse_recurrence,
    pin_rule,
    plan_series,
)

ZONES = [
    "America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney",
    "America/Sao_Paulo", "Pacific/Auckland", "Asia/Kolkata", "Australia/Lord_Howe", "UTC",
]  # fmt: skip
NO_DST_ZONES = ["Asia/Kolkata", "UTC"]
DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
SETTINGS = settings(deadline=None, max_examples=200)


@dataclass(frozen=True)
class Spec:
    """A generated rule: its text and the parameters that text encodes."""

    text: str
    unit: str  # "hour", "day", "week", "month" or "year": the INTERVAL grid
    interval: int
    hour: int  # -1: sub-daily, the minute and second come from the series start
    minute: int
    weekdays: frozenset[int] = frozenset()
    monthdays: frozenset[int] = frozenset()  # -1 = last day of the month
    ordinal: tuple[int, int] | None = None  # (n, weekday): n-th weekday of the month
    month_day: tuple[int, int] | None = None  # (month, day) once a year

    def day_matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if self.weekdays and day.weekday() not in self.weekdays:
            return False
        if self.monthdays and not (
            day.day in self.monthdays or (-1 in self.monthdays and day.day == last)
        ):
            return False
        if self.ordinal is not None:
            n, weekday = self.ordinal
            nth = (day.day - 1) // 7 + 1 if n > 0 else -((last - day.day) // 7 + 1)
            if day.weekday() != weekday or nth != n:
                return False
        return self.month_day is None or (day.month, day.day) == self.month_day

    def time_matches(self, moment: datetime, start: datetime) -> bool:
        if self.hour < 0:
            return (moment.minute, moment.second) == (start.minute, start.second)
        return (moment.hour, moment.minute, moment.second) == (self.hour, self.minute, 0)

    def on_grid(self, moment: datetime, start: datetime) -> bool:
        if self.unit == "hour":  # wall-clock hours, as RFC 5545 expands them
            wall = moment.replace(tzinfo=None) - start.replace(tzinfo=None)
            return int(wall.total_seconds()) % (3600 * self.interval) == 0
        day, first = moment.date(), start.date()
        if self.unit == "day":
            steps = (day - first).days
        elif self.unit == "week":
            monday, first_monday = (
                day - timedelta(day.weekday()),
                first - timedelta(first.weekday()),
            )
            steps = (monday - first_monday).days // 7
        elif self.unit == "month":
            steps = (day.year - first.year) * 12 + day.month - first.month
        else:
            steps = day.year - first.year
        return steps % self.interval == 0


def _clock(draw: st.DrawFn) -> tuple[int, int, str]:
    # Hours around DST changes are over-represented on purpose.
    hour = draw(st.sampled_from([0, 1, 2, 3, 9, 12, 17, 23]))
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    return hour, minute, f" at {hour:02d}:{minute:02d}"


@st.composite
def day_specs(draw: st.DrawFn) -> Spec:
    """Daily and weekly rules, as phrases and as RRULE text."""
    hour, minute, at = _clock(draw)
    n = draw(st.integers(1, 3))
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=3))
    kind = draw(st.sampled_from(["daily", "weekly", "rrule"]))
    if kind == "daily":
        return Spec(f"every {n} days{at}", "day", n, hour, minute)
    if kind == "weekly":
        names = " and ".join(DAY_NAMES[d] for d in sorted(days))
        return Spec(f"every {n} weeks on {names}{at}", "week", n, hour, minute, frozenset(days))
    codes = ",".join(CODES[d] for d in sorted(days))
    text = f"FREQ=DAILY;INTERVAL={n};BYDAY={codes};BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"
    return Spec(text, "day", n, hour, minute, frozenset(days))


@st.composite
def month_specs(draw: st.DrawFn) -> Spec:
    """Days of the month (incl. 29-31 and the last day), ordinal weekdays, yearly dates."""
    hour, minute, at = _clock(draw)
    n = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["monthday", "ordinal", "yearly"]))
    if kind == "monthday":
        days = draw(
            st.sets(st.sampled_from([1, 5, 15, 28, 29, 30, 31, -1]), min_size=1, max_size=2)
        )
        words = " and ".join("last day" if d == -1 else f"{d}th" for d in sorted(days))
        text = f"every {n} months on the {words.replace('1th', '1st')}{at}"
        return Spec(text, "month", n, hour, minute, monthdays=frozenset(days))
    if kind == "ordinal":
        which = draw(st.sampled_from(sorted(ORDINALS)))
        weekday = draw(st.integers(0, 6))
        text = f"every {n} months on the {ORDINALS[which]} {DAY_NAMES[weekday]}{at}"
        return Spec(text, "month", n, hour, minute, ordinal=(which, weekday))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(2028, month)[1]))
    if (month, day) == (2, 29):
        n = 1  # every 2nd year from an odd year never has a February 29: no occurrences at all
    text = f"every {n} years on {calendar.month_name[month].lower()} {day}{at}"
    return Spec(text, "year", n, hour, minute, month_day=(month, day))


def specs() -> st.SearchStrategy[Spec]:
    """Any generated rule; sub-daily ones take their minute from the series start."""
    hourly = st.integers(1, 3).map(lambda n: Spec(f"every {n} hours", "hour", n, -1, -1))
    return st.one_of(hourly, day_specs(), month_specs())


@functools.cache
def offset_changes(name: str) -> list[date]:
    """Local dates (2020-2035) just before each UTC-offset change of a zone."""
    zone = ZoneInfo(name)
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(16 * 366)]
    offsets = [
        datetime(d.year, d.month, d.day, 12, tzinfo=UTC).astimezone(zone).utcoffset() for d in days
    ]
    return [days[i] for i in range(1, len(days)) if offsets[i] != offsets[i - 1]]


@st.composite
def starts(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone and a real instant in it between 2020 and 2035, often just before a DST change."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    changes = offset_changes(name)
    near_change = bool(changes) and draw(st.booleans())
    if near_change:
        day = draw(st.sampled_from(changes)) - timedelta(days=draw(st.integers(0, 8)))
        clock = draw(st.times())
        naive = datetime.combine(day, clock)
    else:
        naive = draw(st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31)))
    # A wall time inside a gap is resolved to the instant after it.
    return zone, naive.replace(microsecond=0, tzinfo=zone).astimezone(UTC).astimezone(zone)


def exists(moment: datetime) -> bool:
    zone = moment.tzinfo
    assert isinstance(zone, ZoneInfo)
    wall = moment.replace(tzinfo=None)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def series(spec: Spec, zone: ZoneInfo, start: datetime) -> tuple[Recurrence, list[datetime]]:
    recurrence = pin_rule(parse_recurrence(spec.text, zone), start)
    return recurrence, occurrences(recurrence, start, zone, after=start, count=12)


@SETTINGS
@given(spec=specs(), where=starts())
def test_occurrences_exist_increase_and_match_the_rule(
    spec: Spec, where: tuple[ZoneInfo, datetime]
) -> None:
    zone, start = where
    _, found = series(spec, zone, start)
    assert len(found) == 12
    instants = [start.astimezone(UTC)] + [m.astimezone(UTC) for m in found]
    assert all(a < b for a, b in itertools.pairwise(instants))
    for moment in found:
        assert moment.tzinfo is zone
        assert exists(moment)
        assert moment.fold == 0
        assert spec.time_matches(moment, start)
        assert spec.day_matches(moment.date())
        assert spec.on_grid(moment, start)


@SETTINGS
@given(spec=specs(), where=starts(), picks=st.lists(st.integers(0, 10), min_size=1, max_size=3))
def test_restarting_at_any_occurrence_gives_the_same_series(
    spec: Spec, where: tuple[ZoneInfo, datetime], picks: list[int]
) -> None:
    zone, start = where
    recurrence, found = series(spec, zone, start)
    for i in picks:
        again = occurrences(recurrence, found[i], zone, after=found[i], count=len(found) - i - 1)
        assert again == found[i + 1 :]


@SETTINGS
@given(
    unit=st.sampled_from(["day", "week", "month", "year"]),
    n=st.integers(1, 3),
    where=starts(),
)
def test_pinning_does_not_change_the_series(
    unit: str, n: int, where: tuple[ZoneInfo, datetime]
) -> None:
    zone, start = where
    bare = parse_recurrence(f"every {n} {unit}s", zone)
    pinned = pin_rule(bare, start)
    assert pin_rule(pinned, start) == pinned
    expected = occurrences(bare, start, zone, after=start, count=8)
    assert occurrences(pinned, start, zone, after=start, count=8) == expected
    assert len(expected) == 8
    for i in (0, 3, 6):  # restart at later instances: the pinned rule does not drift
        assert occurrences(pinned, expected[i], zone, after=expected[i], count=1) == [
            expected[i + 1]
        ]


@SETTINGS
@given(
    spec=specs(),
    zone_name=st.sampled_from(NO_DST_ZONES),
    naive=st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31)),
    skip=st.integers(0, 4000),
)
def test_without_dst_the_result_is_exactly_dateutils(
    spec: Spec, zone_name: str, naive: datetime, skip: int
) -> None:
    zone = ZoneInfo(zone_name)
    start = naive.replace(microsecond=0, tzinfo=zone)
    after = start + timedelta(days=skip, hours=skip % 24)
    recurrence = pin_rule(parse_recurrence(spec.text, zone), start)
    reference = rrulestr(recurrence.rule, dtstart=start.replace(tzinfo=None))
    expected = [
        m.replace(tzinfo=zone) for m in reference.xafter(after.replace(tzinfo=None), count=6)
    ]
    assert occurrences(recurrence, start, zone, after=after, count=6) == expected


@SETTINGS
@given(spec=specs(), where=starts(), times=st.integers(1, 6))
def test_count_keeps_the_first_instances_and_skips_are_not_counted(
    spec: Spec, where: tuple[ZoneInfo, datetime], times: int
) -> None:
    zone, start = where
    open_ended, _ = series(spec, zone, start)
    counted = Recurrence(f"{open_ended.rule};COUNT={times}", open_ended.text, open_ended.basis)
    before = start - timedelta(seconds=1)
    expected = occurrences(open_ended, start, zone, after=before, count=times)
    assert occurrences(counted, start, zone, after=before, count=50) == expected
    assert len(expected) == times


@SETTINGS
@given(spec=specs(), where=starts(), times=st.integers(2, 5))
def test_completing_each_instance_walks_the_series_then_ends(
    spec: Spec, where: tuple[ZoneInfo, datetime], times: int
) -> None:
    zone, start = where
    pinned, _ = series(spec, zone, start)
    due = occurrences(pinned, start, zone, after=start - timedelta(seconds=1), count=1)[0]
    expected = occurrences(pinned, due, zone, after=due, count=times - 1)
    current = Recurrence(f"{pinned.rule};COUNT={times}", pinned.text, pinned.basis)
    walked: list[datetime] = []
    while True:
        step = next_instance(
            current, zone, previous_due=due, completed_at=due, now=due,
            catch_up=CatchUp.NEXT_AFTER_DUE,
        )  # fmt: skip
        if step is None:
            break
        walked.append(step.due)
        due, current = step.due, step.recurrence
    assert walked == expected


@SETTINGS
@given(spec=specs(), zone_name=st.sampled_from(ZONES))
def test_description_reads_back_to_the_same_rule(spec: Spec, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    recurrence = parse_recurrence(spec.text, zone)
    assert parse_recurrence(recurrence.text, zone) == recurrence


def walk(recurrence: Recurrence, zone: ZoneInfo, due: datetime, count: int) -> list[datetime]:
    """`due` and the dues that completing each task when due gives, `count` in all at most."""
    dues = [due]
    while len(dues) < count:
        step = next_instance(
            recurrence, zone, previous_due=dues[-1], completed_at=dues[-1], now=dues[-1],
            catch_up=CatchUp.NEXT_AFTER_DUE,
        )  # fmt: skip
        if step is None:
            break
        dues.append(step.due)
        recurrence = step.recurrence
    return dues


@SETTINGS
@given(spec=specs(), where=starts(), completion=st.booleans(), count=st.integers(1, 6))
def test_the_plan_starts_with_the_due_creation_stores(
    spec: Spec, where: tuple[ZoneInfo, datetime], completion: bool, count: int
) -> None:
    zone, now = where
    text = spec.text + (" after completion" if completion else "")
    recurrence = parse_recurrence(text, zone)
    due = first_due(recurrence, zone, now)  # what creating the task without a due stores
    assert due is not None
    plan = plan_series(text, zone, now, count=count)
    assert plan.occurrences[0] == plan.first_due == due
    assert plan.recurrence == pin_rule(recurrence, due)
    # The preview used to list the pinned series from that due: it starts with it too.
    # One second earlier in time, not on the wall clock: 03:00 on a spring-forward day less a
    # second is 02:59:59, which that day never had.
    before = (due.astimezone(UTC) - timedelta(seconds=1)).astimezone(zone)
    assert occurrences(plan.recurrence, due, zone, after=before, count=1) == [due]
    assert list(plan.occurrences) == walk(plan.recurrence, zone, due, count)


@SETTINGS
@given(spec=specs(), where=starts(), shift=st.integers(-3000, 3000))
def test_a_given_due_is_the_plans_first(
    spec: Spec, where: tuple[ZoneInfo, datetime], shift: int
) -> None:
    zone, now = where
    due = (now + timedelta(hours=shift)).astimezone(zone)
    plan = plan_series(spec.text, zone, now, due=due, count=4)
    assert plan.occurrences[0] == plan.first_due == due
    assert plan.recurrence == pin_rule(parse_recurrence(spec.text, zone), due)
    assert list(plan.occurrences) == walk(plan.recurrence, zone, due, 4)
