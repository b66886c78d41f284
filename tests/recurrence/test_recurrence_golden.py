"""Golden tables for occurrence maths, next instances and first dues.

Every expected value was worked out by hand from the zone's published DST
rules and a calendar (weekday of each date checked separately), not copied
from the engine's output. Offsets in the ISO strings are the point: they show
which side of a DST change an instance landed on.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from todo_recurrence import (
    Basis,
    CatchUp,
    Recurrence,
    first_due,
    next_instance,
    occurrences,
    parse_recurrence,
    pin_rule,
)


def local(text: str, zone: str) -> datetime:
    """An aware datetime: ISO with offset as given, or naive wall clock in `zone` (fold=0)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(ZoneInfo(zone))


def isos(moments: list[datetime]) -> list[str]:
    return [m.isoformat() for m in moments]


NY = "America/New_York"

# (id, zone, rule text, series start, after (None: start), count, expected)
OCCURRENCE_CASES: list[tuple[str, str, str, str, str | None, int, list[str]]] = [
    # -- DST gaps: the missing local time is skipped (RFC 5545 3.3.10) ----
    ("ny-gap-0230", NY, "every day at 2:30am", "2027-03-12T02:30", None, 4,
     ["2027-03-13T02:30:00-05:00", "2027-03-15T02:30:00-04:00",
      "2027-03-16T02:30:00-04:00", "2027-03-17T02:30:00-04:00"]),
    ("sydney-gap-0230", "Australia/Sydney", "every day at 2:30am", "2027-10-01T02:30", None, 3,
     ["2027-10-02T02:30:00+10:00", "2027-10-04T02:30:00+11:00", "2027-10-05T02:30:00+11:00"]),
    ("london-gap-0130", "Europe/London", "every day at 1:30am", "2027-03-26T01:30", None, 2,
     ["2027-03-27T01:30:00+00:00", "2027-03-29T01:30:00+01:00"]),
    ("berlin-gap-0215", "Europe/Berlin", "every day at 2:15am", "2027-03-27T02:15", None, 2,
     ["2027-03-29T02:15:00+02:00", "2027-03-30T02:15:00+02:00"]),
    ("saopaulo-2018-gap-midnight", "America/Sao_Paulo", "every day at midnight",
     "2018-11-02T00:00", None, 3,
     ["2018-11-03T00:00:00-03:00", "2018-11-05T00:00:00-02:00", "2018-11-06T00:00:00-02:00"]),
    ("auckland-gap-0230", "Pacific/Auckland", "every day at 2:30am", "2027-09-25T02:30", None, 2,
     ["2027-09-27T02:30:00+13:00", "2027-09-28T02:30:00+13:00"]),
    ("lordhowe-gap-0215", "Australia/Lord_Howe", "every day at 2:15am", "2027-10-02T02:15",
     None, 2, ["2027-10-04T02:15:00+11:00", "2027-10-05T02:15:00+11:00"]),
    ("ny-hourly-gap", NY, "every hour", "2027-03-14T00:00", None, 3,
     ["2027-03-14T01:00:00-05:00", "2027-03-14T03:00:00-04:00", "2027-03-14T04:00:00-04:00"]),
    # -- DST overlaps: a repeated local time is taken once, at the first instant
    ("ny-overlap-0130", NY, "every day at 1:30am", "2027-11-05T01:30", None, 4,
     ["2027-11-06T01:30:00-04:00", "2027-11-07T01:30:00-04:00",
      "2027-11-08T01:30:00-05:00", "2027-11-09T01:30:00-05:00"]),
    ("sydney-overlap-0230", "Australia/Sydney", "every day at 2:30am", "2027-04-02T02:30",
     None, 3,
     ["2027-04-03T02:30:00+11:00", "2027-04-04T02:30:00+11:00", "2027-04-05T02:30:00+10:00"]),
    ("london-overlap-0130", "Europe/London", "every day at 1:30am", "2027-10-30T01:30", None, 2,
     ["2027-10-31T01:30:00+01:00", "2027-11-01T01:30:00+00:00"]),
    ("berlin-overlap-0230", "Europe/Berlin", "every day at 2:30am", "2027-10-30T02:30", None, 2,
     ["2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"]),
    ("saopaulo-2018-overlap-2330", "America/Sao_Paulo", "every day at 23:30",
     "2018-02-16T23:30", None, 2, ["2018-02-17T23:30:00-02:00", "2018-02-18T23:30:00-03:00"]),
    ("auckland-overlap-0230", "Pacific/Auckland", "every day at 2:30am", "2027-04-03T02:30",
     None, 2, ["2027-04-04T02:30:00+13:00", "2027-04-05T02:30:00+12:00"]),
    ("lordhowe-overlap-0145", "Australia/Lord_Howe", "every day at 1:45am",
     "2027-04-03T01:45", None, 2, ["2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30"]),
    ("ny-hourly-overlap", NY, "every hour", "2027-11-07T00:00", None, 3,
     ["2027-11-07T01:00:00-04:00", "2027-11-07T02:00:00-05:00", "2027-11-07T03:00:00-05:00"]),
    ("after-in-second-pass-of-overlap", NY, "every day at 1:45am", "2027-11-06T01:45",
     "2027-11-07T01:30:00-05:00", 2, ["2027-11-08T01:45:00-05:00", "2027-11-09T01:45:00-05:00"]),
    # -- wall clock stays put while the UTC offset changes ----------------
    ("ny-0900-spring", NY, "every day at 9am", "2027-03-12T09:00", None, 3,
     ["2027-03-13T09:00:00-05:00", "2027-03-14T09:00:00-04:00", "2027-03-15T09:00:00-04:00"]),
    ("ny-0900-fall", NY, "every day at 9am", "2027-11-06T09:00", None, 2,
     ["2027-11-07T09:00:00-05:00", "2027-11-08T09:00:00-05:00"]),
    ("sydney-0900-fall", "Australia/Sydney", "every day at 9am", "2027-04-03T09:00", None, 2,
     ["2027-04-04T09:00:00+10:00", "2027-04-05T09:00:00+10:00"]),
    ("kolkata-no-dst", "Asia/Kolkata", "every day at 2:30am", "2027-03-12T02:30", None, 3,
     ["2027-03-13T02:30:00+05:30", "2027-03-14T02:30:00+05:30", "2027-03-15T02:30:00+05:30"]),
    ("auckland-weekend-across-dst", "Pacific/Auckland", "every weekend at 10am",
     "2027-09-24T10:00", None, 4,
     ["2027-09-25T10:00:00+12:00", "2027-09-26T10:00:00+13:00",
      "2027-10-02T10:00:00+13:00", "2027-10-03T10:00:00+13:00"]),
    ("saopaulo-yearly-xmas", "America/Sao_Paulo", "every year on 25 december at 7am",
     "2017-01-01T00:00", None, 3,
     ["2017-12-25T07:00:00-02:00", "2018-12-25T07:00:00-02:00", "2019-12-25T07:00:00-03:00"]),
    # -- month ends --------------------------------------------------------
    ("last-day-no-drift", "Europe/London", "every month on the last day", "2027-01-31T09:00",
     None, 4,
     ["2027-02-28T09:00:00+00:00", "2027-03-31T09:00:00+01:00",
      "2027-04-30T09:00:00+01:00", "2027-05-31T09:00:00+01:00"]),
    ("last-day-leap", NY, "last day of every month", "2028-01-31T09:00", None, 2,
     ["2028-02-29T09:00:00-05:00", "2028-03-31T09:00:00-04:00"]),
    ("31st-skips-short-months", NY, "every month on the 31st", "2027-01-31T09:00", None, 4,
     ["2027-03-31T09:00:00-04:00", "2027-05-31T09:00:00-04:00",
      "2027-07-31T09:00:00-04:00", "2027-08-31T09:00:00-04:00"]),
    ("30th-skips-february", NY, "every month on the 30th", "2027-12-30T09:00", None, 2,
     ["2028-01-30T09:00:00-05:00", "2028-03-30T09:00:00-04:00"]),
    ("1st-and-15th", "Asia/Kolkata", "monthly on the 1st and 15th at 8am", "2027-01-01T08:00",
     None, 3,
     ["2027-01-15T08:00:00+05:30", "2027-02-01T08:00:00+05:30", "2027-02-15T08:00:00+05:30"]),
    # -- leap years ---------------------------------------------------------
    ("feb-29-leap-only", "Europe/Berlin", "every year on feb 29", "2027-01-01T09:00", None, 2,
     ["2028-02-29T09:00:00+01:00", "2032-02-29T09:00:00+01:00"]),
    # -- ordinal weekdays ----------------------------------------------------
    ("last-friday", NY, "every month on the last friday at 9am", "2027-01-01T00:00", None, 4,
     ["2027-01-29T09:00:00-05:00", "2027-02-26T09:00:00-05:00",
      "2027-03-26T09:00:00-04:00", "2027-04-30T09:00:00-04:00"]),
    ("2nd-tuesday", "Europe/Berlin", "the 2nd tuesday of every month at 10:00",
     "2027-01-01T00:00", None, 4,
     ["2027-01-12T10:00:00+01:00", "2027-02-09T10:00:00+01:00",
      "2027-03-09T10:00:00+01:00", "2027-04-13T10:00:00+02:00"]),
    ("first-monday", "Australia/Sydney", "every month on the first monday at 8am",
     "2027-01-01T00:00", None, 4,
     ["2027-01-04T08:00:00+11:00", "2027-02-01T08:00:00+11:00",
      "2027-03-01T08:00:00+11:00", "2027-04-05T08:00:00+10:00"]),
    ("quarterly-2nd-wednesday", "Asia/Kolkata", "every 3 months on the second wednesday at 9am",
     "2027-01-01T00:00", None, 4,
     ["2027-01-13T09:00:00+05:30", "2027-04-14T09:00:00+05:30",
      "2027-07-14T09:00:00+05:30", "2027-10-13T09:00:00+05:30"]),
    ("last-weekday-setpos", "Europe/Berlin", "the last weekday of every month at 17:00",
     "2027-01-01T00:00", None, 4,
     ["2027-01-29T17:00:00+01:00", "2027-02-26T17:00:00+01:00",
      "2027-03-31T17:00:00+02:00", "2027-04-30T17:00:00+02:00"]),
    ("last-monday-of-may", NY, "every year on the last monday of may at 9am",
     "2027-01-01T00:00", None, 3,
     ["2027-05-31T09:00:00-04:00", "2028-05-29T09:00:00-04:00", "2029-05-28T09:00:00-04:00"]),
    # -- weekly -----------------------------------------------------------------
    ("biweekly-mon-thu", NY, "every 2 weeks on monday and thursday at 9am", "2027-03-01T09:00",
     None, 5,
     ["2027-03-04T09:00:00-05:00", "2027-03-15T09:00:00-04:00", "2027-03-18T09:00:00-04:00",
      "2027-03-29T09:00:00-04:00", "2027-04-01T09:00:00-04:00"]),
    ("weekdays-london", "Europe/London", "every weekday at 8:30am", "2027-03-26T08:30", None, 4,
     ["2027-03-29T08:30:00+01:00", "2027-03-30T08:30:00+01:00",
      "2027-03-31T08:30:00+01:00", "2027-04-01T08:30:00+01:00"]),
    ("start-not-matching", NY, "every month on the 15th", "2027-01-10T09:00", None, 2,
     ["2027-01-15T09:00:00-05:00", "2027-02-15T09:00:00-05:00"]),
    # -- COUNT / UNTIL ------------------------------------------------------------
    ("count-skipped-not-counted", NY, "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0;COUNT=4",
     "2027-03-12T02:30", "2027-03-01T00:00", 10,
     ["2027-03-12T02:30:00-05:00", "2027-03-13T02:30:00-05:00",
      "2027-03-15T02:30:00-04:00", "2027-03-16T02:30:00-04:00"]),
    ("count-from-start-not-after", NY, "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0;COUNT=4",
     "2027-03-12T02:30", "2027-03-13T12:00", 10,
     ["2027-03-15T02:30:00-04:00", "2027-03-16T02:30:00-04:00"]),
    ("until-local-day-inclusive", NY, "every day at 9am until 2027-03-15", "2027-03-12T09:00",
     None, 10,
     ["2027-03-13T09:00:00-05:00", "2027-03-14T09:00:00-04:00", "2027-03-15T09:00:00-04:00"]),
    ("until-utc-instant", NY, "FREQ=DAILY;BYHOUR=23;BYMINUTE=30;BYSECOND=0;UNTIL=20270316T033000Z",
     "2027-03-13T23:30", None, 10, ["2027-03-14T23:30:00-04:00", "2027-03-15T23:30:00-04:00"]),
]  # fmt: skip


class OccurrenceCase(NamedTuple):
    name: str
    zone: str
    text: str
    start: str
    after: str | None
    how_many: int
    expected: list[str]


OCCURRENCES = [OccurrenceCase(*row) for row in OCCURRENCE_CASES]


@pytest.mark.parametrize("case", OCCURRENCES, ids=[case.name for case in OCCURRENCES])
def test_occurrences_golden(case: OccurrenceCase) -> None:
    tz = ZoneInfo(case.zone)
    begin = local(case.start, case.zone)
    recurrence = parse_recurrence(case.text, tz)
    after = local(case.after or case.start, case.zone)
    found = occurrences(recurrence, begin, tz, after=after, count=case.how_many)
    assert isos(found) == case.expected


@pytest.mark.parametrize(
    "rule",
    ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
     "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20",
     "FREQ=HOURLY;INTERVAL=168;BYDAY=TU"],
)  # fmt: skip
def test_never_matching_stored_rule_gives_nothing(rule: str) -> None:
    tz = ZoneInfo("Europe/Berlin")
    start = local("2027-04-05T09:00", "Europe/Berlin")  # a Monday, in April
    stored = Recurrence(rule=rule, text="stored elsewhere", basis=Basis.SCHEDULE)
    assert occurrences(stored, start, tz, after=start, count=3) == []


# (id, zone, rule text, previous_due, completed_at, now, catch_up,
#  expected due or None, expected rule of the new instance or None)
NEXT_CASES: list[tuple[str, str, str, str, str, str, CatchUp, str | None, str | None]] = [
    ("schedule-on-time", NY, "every day at 9am", "2027-03-01T09:00", "2027-03-01T10:00",
     "2027-03-01T10:00", CatchUp.NEXT_AFTER_NOW, "2027-03-02T09:00:00-05:00",
     "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("schedule-catch-up-after-now", NY, "every day at 9am", "2027-03-01T09:00",
     "2027-03-05T10:00", "2027-03-05T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-06T09:00:00-05:00", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("schedule-strict-after-due", NY, "every day at 9am", "2027-03-01T09:00",
     "2027-03-05T10:00", "2027-03-05T10:00", CatchUp.NEXT_AFTER_DUE,
     "2027-03-02T09:00:00-05:00", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("schedule-count-decrements", NY, "every day at 9am, 5 times", "2027-03-01T09:00",
     "2027-03-01T10:00", "2027-03-01T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-02T09:00:00-05:00", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=4"),
    ("schedule-catch-up-consumes-count", NY, "every day at 9am, 5 times", "2027-03-01T09:00",
     "2027-03-03T10:00", "2027-03-03T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-04T09:00:00-05:00", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=2"),
    ("schedule-catch-up-exhausts-count", NY, "every day at 9am, 3 times", "2027-03-01T09:00",
     "2027-03-05T10:00", "2027-03-05T10:00", CatchUp.NEXT_AFTER_NOW, None, None),
    ("schedule-count-1-ends", NY, "every day at 9am x1", "2027-03-01T09:00",
     "2027-03-01T10:00", "2027-03-01T10:00", CatchUp.NEXT_AFTER_NOW, None, None),
    ("schedule-until-passed", NY, "every day at 9am until 2027-03-01", "2027-03-01T09:00",
     "2027-03-01T10:00", "2027-03-01T10:00", CatchUp.NEXT_AFTER_NOW, None, None),
    ("schedule-dst-gap-skipped-not-counted", "Australia/Sydney",
     "every sunday at 2:30am, 3 times", "2027-09-26T02:30", "2027-09-26T03:00",
     "2027-09-26T03:00", CatchUp.NEXT_AFTER_NOW, "2027-10-10T02:30:00+11:00",
     "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=30;BYSECOND=0;COUNT=2"),
    ("schedule-31st-pinned-no-drift", NY, "every month", "2027-01-31T09:00",
     "2027-01-31T10:00", "2027-01-31T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-31T09:00:00-04:00", "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("schedule-last-day", NY, "every month on the last day", "2027-01-31T09:00",
     "2027-01-31T10:00", "2027-01-31T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-02-28T09:00:00-05:00", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-on-time", NY, "every 3 days after completion", "2027-03-02T09:00",
     "2027-03-02T15:00", "2027-03-02T15:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-05T09:00:00-05:00", "FREQ=DAILY;INTERVAL=3;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-late", NY, "every 3 days after completion", "2027-03-02T09:00",
     "2027-03-10T15:00", "2027-03-10T15:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-13T09:00:00-05:00", "FREQ=DAILY;INTERVAL=3;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-early", NY, "every 3 days after completion", "2027-03-02T09:00",
     "2027-02-27T15:00", "2027-02-27T15:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-02T09:00:00-05:00", "FREQ=DAILY;INTERVAL=3;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-across-dst", NY, "every 3 days after completion", "2027-03-12T09:00",
     "2027-03-12T20:00", "2027-03-12T20:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-15T09:00:00-04:00", "FREQ=DAILY;INTERVAL=3;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-month-end-clamps", NY, "every month after completion", "2027-01-31T09:00",
     "2027-01-31T10:00", "2027-01-31T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-02-28T09:00:00-05:00", "FREQ=MONTHLY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-weekday-skips-weekend", NY, "every weekday after completion",
     "2027-03-05T09:00", "2027-03-05T10:00", "2027-03-05T10:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-08T09:00:00-05:00",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0"),
    ("completion-count", NY, "2 weeks after done, 2 times", "2027-03-02T09:00",
     "2027-03-03T18:00", "2027-03-03T18:00", CatchUp.NEXT_AFTER_NOW,
     "2027-03-17T09:00:00-04:00",
     "FREQ=WEEKLY;INTERVAL=2;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=1"),
    ("completion-hours-absolute", NY, "every 2 hours after completion", "2027-03-13T23:00",
     "2027-03-14T00:30", "2027-03-14T00:30", CatchUp.NEXT_AFTER_NOW,
     "2027-03-14T03:30:00-04:00", "FREQ=HOURLY;INTERVAL=2"),
]  # fmt: skip


class NextCase(NamedTuple):
    name: str
    zone: str
    text: str
    previous_due: str
    completed_at: str
    now: str
    catch_up: CatchUp
    due: str | None
    rule: str | None


NEXTS = [NextCase(*row) for row in NEXT_CASES]


@pytest.mark.parametrize("case", NEXTS, ids=[case.name for case in NEXTS])
def test_next_instance_golden(case: NextCase) -> None:
    """The rule is pinned at the previous due first, as services do for a series' first due."""
    tz = ZoneInfo(case.zone)
    previous_due = local(case.previous_due, case.zone)
    recurrence = pin_rule(parse_recurrence(case.text, tz), previous_due)
    found = next_instance(
        recurrence,
        tz,
        previous_due=previous_due,
        completed_at=local(case.completed_at, case.zone),
        now=local(case.now, case.zone),
        catch_up=case.catch_up,
    )
    if case.due is None:
        assert found is None
        return
    assert found is not None
    assert found.due.isoformat() == case.due
    assert found.recurrence.rule == case.rule
    assert found.recurrence.basis is recurrence.basis


@pytest.mark.parametrize(
    ("text", "basis", "completed_at", "due"),
    [
        # no previous due, schedule: the series restarts at the completion instant
        ("every week", Basis.SCHEDULE, "2027-03-03T15:00", "2027-03-10T15:00:00-05:00"),
        ("every monday at 9am", Basis.SCHEDULE, "2027-03-03T15:00", "2027-03-08T09:00:00-05:00"),
        # no previous due, completion: completion's own time of day
        ("every 3 days after completion", Basis.COMPLETION, "2027-03-02T15:47",
         "2027-03-05T15:47:00-05:00"),
    ],
)  # fmt: skip
def test_next_instance_without_previous_due(
    text: str, basis: Basis, completed_at: str, due: str
) -> None:
    tz = ZoneInfo(NY)
    recurrence = parse_recurrence(text, tz)
    assert recurrence.basis is basis
    done = local(completed_at, NY)
    found = next_instance(recurrence, tz, previous_due=None, completed_at=done, now=done)
    assert found is not None
    assert found.due.isoformat() == due


def test_completion_text_with_count_updates() -> None:
    tz = ZoneInfo(NY)
    recurrence = parse_recurrence("every 3 days after completion, 10 times", tz)
    assert recurrence.text == "every 3 days after completion, 10 times"
    due = local("2027-03-02T09:00", NY)
    found = next_instance(
        pin_rule(recurrence, due), tz, previous_due=due, completed_at=due, now=due
    )
    assert found is not None
    assert found.recurrence.text == "every 3 days at 09:00 after completion, 9 times"


# (id, zone, rule text, now, expected first due or None)
FIRST_DUE_CASES: list[tuple[str, str, str, str, str | None]] = [
    ("daily-default-9am-tomorrow", NY, "every day", "2027-03-02T15:30",
     "2027-03-03T09:00:00-05:00"),
    ("daily-time-later-today", NY, "every day at 17:00", "2027-03-02T15:30",
     "2027-03-02T17:00:00-05:00"),
    ("weekday-after-friday", NY, "every weekday", "2027-03-05T15:30",
     "2027-03-08T09:00:00-05:00"),
    ("monthly-15th", NY, "every month on the 15th", "2027-03-02T15:30",
     "2027-03-15T09:00:00-04:00"),
    ("weekly-starts-next-slot", NY, "every week", "2027-03-02T15:30",
     "2027-03-03T09:00:00-05:00"),
    ("every-2-hours", NY, "every 2 hours", "2027-03-02T15:30", "2027-03-02T17:30:00-05:00"),
    # 2027-03-02 is a Tuesday: an interval only counts from the first instance.
    ("biweekly-starts-next-monday", NY, "every 2 weeks on monday", "2027-03-02T15:30",
     "2027-03-08T09:00:00-05:00"),
    ("bimonthly-starts-next-15th", NY, "every 2 months on the 15th", "2027-03-20T10:00",
     "2027-04-15T09:00:00-04:00"),
    ("every-4-years-next-leap-day", NY, "every 4 years on feb 29", "2027-03-02T15:30",
     "2028-02-29T09:00:00-05:00"),
    ("tomorrow-in-dst-gap", NY, "every day at 2:30am", "2027-03-13T15:00",
     "2027-03-15T02:30:00-04:00"),
    ("until-already-passed", NY, "every day until 2027-01-01", "2027-03-02T15:30", None),
    ("feb-29", "Europe/Berlin", "every year on feb 29", "2027-03-02T15:30",
     "2028-02-29T09:00:00+01:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "text", "now", "expected"),
    [case[1:] for case in FIRST_DUE_CASES],
    ids=[case[0] for case in FIRST_DUE_CASES],
)
def test_first_due_golden(zone: str, text: str, now: str, expected: str | None) -> None:
    tz = ZoneInfo(zone)
    found = first_due(parse_recurrence(text, tz), tz, local(now, zone))
    assert (found.isoformat() if found is not None else None) == expected


def test_naive_datetimes_are_rejected() -> None:
    tz = ZoneInfo(NY)
    recurrence = parse_recurrence("every day", tz)
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(recurrence, datetime(2027, 1, 1), tz, after=datetime(2027, 1, 1), count=1)
