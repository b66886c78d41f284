"""The end of the calendar: a series whose next instance would be past the year 9999 just ends.

"Past the end" means past `datetime.max` on the zone's wall clock, or past
9999-12-31T23:59:59 UTC once placed in the zone (west of UTC the last local
evening of 9999 is already in the year 10000 in UTC). Expected values were
worked out by hand from the zones' fixed offsets (Kiritimati +14, New York
-05 in December and -04 in June).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from todo_recurrence import (
    CatchUp,
    first_due,
    next_instance,
    occurrences,
    parse_recurrence,
    pin_rule,
    plan_series,
)

ZONES = ["Pacific/Kiritimati", "UTC", "America/New_York"]
LAST_UTC = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def wall(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "text", ["every year", "every year after completion", "every year, 3 times"]
)
def test_completing_the_last_yearly_instance_ends_the_series(zone: str, text: str) -> None:
    tz = ZoneInfo(zone)
    due = wall("9999-06-01T09:00", zone)
    recurrence = pin_rule(parse_recurrence(text, tz), due)
    for catch_up in CatchUp:
        for done in (due, due + timedelta(days=200)):
            found = next_instance(
                recurrence, tz, previous_due=due, completed_at=done, now=done, catch_up=catch_up
            )
            assert found is None
    assert next_instance(recurrence, tz, previous_due=None, completed_at=due, now=due) is None


@pytest.mark.parametrize("zone", ZONES)
def test_occurrences_near_the_end_are_the_ones_that_exist(zone: str) -> None:
    tz = ZoneInfo(zone)
    start = wall("9997-06-01T09:00", zone)
    recurrence = pin_rule(parse_recurrence("every year", tz), start)
    found = occurrences(recurrence, start, tz, after=start - timedelta(days=1), count=10)
    assert [m.isoformat()[:16] for m in found] == [
        "9997-06-01T09:00", "9998-06-01T09:00", "9999-06-01T09:00",
    ]  # fmt: skip
    assert occurrences(recurrence, start, tz, after=found[-1], count=10) == []


# (id, zone, rule text, series start (wall clock), expected wall clocks of the rest)
LAST_DAYS: list[tuple[str, str, str, str, list[str]]] = [
    ("daily-kiritimati", "Pacific/Kiritimati", "every day at 20:00", "9999-12-29T20:00",
     ["9999-12-30T20:00", "9999-12-31T20:00"]),
    # 20:00 on the 31st in New York is 01:00 UTC in the year 10000: it does not exist.
    ("daily-new-york", "America/New_York", "every day at 20:00", "9999-12-29T20:00",
     ["9999-12-30T20:00"]),
    ("hourly-new-york", "America/New_York", "every 3 hours", "9999-12-31T09:00",
     ["9999-12-31T12:00", "9999-12-31T15:00", "9999-12-31T18:00"]),
    ("hourly-kiritimati", "Pacific/Kiritimati", "every 4 hours", "9999-12-31T09:00",
     ["9999-12-31T13:00", "9999-12-31T17:00", "9999-12-31T21:00"]),
    ("weekly-friday", "UTC", "every week on friday at 9am", "9999-12-17T09:00",
     ["9999-12-24T09:00", "9999-12-31T09:00"]),
    ("monthly-last-day", "America/New_York", "every month on the last day at 18:00",
     "9999-10-31T18:00", ["9999-11-30T18:00", "9999-12-31T18:00"]),
    ("minutely-utc", "UTC", "FREQ=MINUTELY;INTERVAL=20", "9999-12-31T23:00",
     ["9999-12-31T23:20", "9999-12-31T23:40"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "text", "start", "expected"),
    [case[1:] for case in LAST_DAYS],
    ids=[case[0] for case in LAST_DAYS],
)
def test_the_last_days_of_the_calendar(
    zone: str, text: str, start: str, expected: list[str]
) -> None:
    tz = ZoneInfo(zone)
    first = wall(start, zone)
    recurrence = pin_rule(parse_recurrence(text, tz), first)
    found = occurrences(recurrence, first, tz, after=first, count=10)
    assert [m.replace(tzinfo=None).isoformat()[:16] for m in found] == expected
    last = found[-1]
    assert next_instance(recurrence, tz, previous_due=last, completed_at=last, now=last) is None
    assert first_due(recurrence, tz, last) is None


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("text", ["every day", "every hour", "every monday after completion"])
def test_nothing_is_due_after_the_last_instant(zone: str, text: str) -> None:
    tz = ZoneInfo(zone)
    recurrence = parse_recurrence(text, tz)
    assert first_due(recurrence, tz, LAST_UTC) is None
    assert occurrences(recurrence, LAST_UTC, tz, after=LAST_UTC, count=3) == []
    found = next_instance(
        recurrence, tz, previous_due=LAST_UTC, completed_at=LAST_UTC, now=LAST_UTC
    )
    assert found is None


def test_the_first_due_is_today_when_tomorrow_does_not_exist() -> None:
    utc = ZoneInfo("UTC")
    now = datetime(9999, 12, 31, 8, tzinfo=UTC)
    assert first_due(parse_recurrence("every day", utc), utc, now) == datetime(
        9999, 12, 31, 9, tzinfo=utc
    )
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # 22:00 there: 09:00 has passed
    assert first_due(parse_recurrence("every day", kiritimati), kiritimati, now) is None


def test_a_plan_whose_due_is_past_the_year_9999_on_the_zones_clock() -> None:
    kiritimati = ZoneInfo("Pacific/Kiritimati")
    due = datetime(9999, 12, 31, 20, tzinfo=UTC)  # 10000-01-01T10:00 in Kiritimati
    plan = plan_series("every day", kiritimati, due - timedelta(days=1), due=due, count=5)
    assert (plan.first_due, plan.occurrences) == (due, (due,))
    # Now is 9999-12-29T10:00 in Kiritimati: that day's 09:00 has passed.
    near = plan_series("every day at 9am", kiritimati, due - timedelta(days=3), count=5)
    assert [m.isoformat() for m in near.occurrences] == [
        "9999-12-30T09:00:00+14:00", "9999-12-31T09:00:00+14:00",
    ]  # fmt: skip
