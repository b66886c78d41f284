"""The search budget: hostile rules end within their deadline, with an answer or an error.

Each hostile rule used to make one call run for seconds to minutes (the first
row: about 2 s for `first_due`, 10 s for five occurrences). Answers that do
come back are checked against the rule's own parts, since expanding these
rules with plain dateutil is exactly what takes too long.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest

from todo_recurrence import (
    DEFAULT_BUDGET,
    Budget,
    RecurrenceError,
    RecurrenceTooExpensive,
    first_due,
    next_instance,
    occurrences,
    parse_recurrence,
    pin_rule,
    plan_series,
    spending,
)
from todo_recurrence.rules import stored_parts

T = TypeVar("T")
UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC)
SLACK = 0.5  # CPU seconds a call may run past its deadline (one bounded dateutil call, plus noise)
RARE_MINUTE = "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59"
ALL_HOURS = ",".join(str(h) for h in range(24))
ALL_MINUTES = ",".join(str(m) for m in range(60))
MANY_POSITIONS = ",".join(str(p) for p in range(1, 100))

# (id, rule, zone): rules that parse (the impossible ones are rejected, tested below).
HOSTILE = [
    ("rare-minutely", RARE_MINUTE, "UTC"),
    ("rare-minutely-dst-zone", RARE_MINUTE, "America/New_York"),
    ("rare-yearly-to-the-second",
     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59;BYSECOND=59", "UTC"),
    ("rare-minutely-interval-999", "FREQ=MINUTELY;INTERVAL=999;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
     "America/New_York"),
    ("rare-hourly-interval-999", "FREQ=HOURLY;INTERVAL=999;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
     "UTC"),
    ("rare-daily-interval-2", "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "UTC"),
    ("yearly-interval-999", "FREQ=YEARLY;INTERVAL=999", "America/New_York"),
    ("monthly-interval-999-31st", "FREQ=MONTHLY;INTERVAL=999;BYMONTHDAY=31", "UTC"),
    ("weekly-interval-999-february", "FREQ=WEEKLY;INTERVAL=999;BYMONTH=2;BYDAY=MO", "UTC"),
    # From an odd year every 4th year is never a leap year: nothing, ever.
    ("never-leap-day", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "UTC"),
    ("never-leap-day-many-setpos", "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29;"
     "BYDAY=MO,TU,WE,TH,FR,SA,SU;BYSETPOS=" + MANY_POSITIONS, "UTC"),
    ("fifth-monday-of-february", "FREQ=MONTHLY;BYMONTH=2;BYDAY=5MO", "America/New_York"),
    ("huge-count-minutely", "FREQ=MINUTELY;COUNT=999999999", "UTC"),
    ("every-second", "FREQ=MINUTELY;BYSECOND=" + ALL_MINUTES, "America/New_York"),
    ("yearly-every-second",
     f"FREQ=YEARLY;BYHOUR={ALL_HOURS};BYMINUTE={ALL_MINUTES};BYSECOND={ALL_MINUTES}", "UTC"),
    ("rare-daily-every-minute",
     f"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR={ALL_HOURS};BYMINUTE={ALL_MINUTES}",
     "UTC"),
    ("never-weekday-on-grid", "FREQ=HOURLY;INTERVAL=168;BYDAY=TU", "UTC"),
    ("friday-31st-huge-count",
     "FREQ=MINUTELY;BYMONTHDAY=31;BYMONTH=1,3,5,7,8,10,12;BYDAY=FR;COUNT=999999", "UTC"),
]  # fmt: skip


def matches_parts(rule: str, moment: datetime) -> bool:
    """Whether `moment`'s wall clock satisfies the rule's BY-parts (ordinals and BYSETPOS aside)."""
    parts = stored_parts(rule)
    last = (moment.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    checks = [
        not parts.bymonth or moment.month in parts.bymonth,
        not parts.byday or moment.weekday() in {day.weekday for day in parts.byday},
        not parts.bymonthday
        or moment.day in parts.bymonthday
        or moment.day - last.day - 1 in parts.bymonthday,
        not parts.byhour or moment.hour in parts.byhour,
        not parts.byminute or moment.minute in parts.byminute,
        not parts.bysecond or moment.second in parts.bysecond,
    ]
    return all(checks)


def bounded(call: Callable[[], T]) -> T | RecurrenceError:
    """Run `call`, which must end within the deadline (plus slack) with a result or RecurrenceError."""
    began = time.thread_time()
    try:
        result: T | RecurrenceError = call()
    except RecurrenceError as error:
        result = error
    elapsed = time.thread_time() - began
    assert elapsed <= DEFAULT_BUDGET.seconds + SLACK, f"took {elapsed:.3f}s"
    return result


def ascending_after(moments: list[datetime] | tuple[datetime, ...], after: datetime) -> bool:
    instants = [after.astimezone(UTC)] + [m.astimezone(UTC) for m in moments]
    return all(a < b for a, b in itertools.pairwise(instants))


@pytest.mark.parametrize(
    ("rule", "zone_name"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_hostile_rules_answer_or_give_up_within_the_deadline(rule: str, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    recurrence = parse_recurrence(rule, zone)
    due = bounded(lambda: first_due(recurrence, zone, NOW))
    if isinstance(due, datetime):
        assert due > NOW
        assert matches_parts(recurrence.rule, due)
    start = NOW - timedelta(days=2000)
    pinned = pin_rule(recurrence, start.astimezone(zone))
    found = bounded(lambda: occurrences(pinned, start, zone, after=NOW, count=100))
    if not isinstance(found, RecurrenceError):
        assert ascending_after(found, NOW)
        assert all(matches_parts(pinned.rule, moment) for moment in found)
    step = bounded(
        lambda: next_instance(pinned, zone, previous_due=start, completed_at=NOW, now=NOW)
    )
    if step is not None and not isinstance(step, RecurrenceError):
        assert step.due > NOW
        assert matches_parts(pinned.rule, step.due)
    plan = bounded(lambda: plan_series(rule, zone, NOW, count=100))
    if not isinstance(plan, RecurrenceError) and not isinstance(due, RecurrenceError):
        assert plan.first_due == due
        assert plan.occurrences[:1] == ((due,) if due is not None else ())
        if plan.occurrences:
            assert ascending_after(plan.occurrences[1:], plan.occurrences[0])


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("FREQ=SECONDLY", "FREQ must be"),
        ("FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30", "no month has such a day"),
        ("FREQ=YEARLY;BYDAY=MO;BYSETPOS=400", "BYSETPOS values must be between"),
        ("FREQ=DAILY;BYDAY=MO;BYSETPOS=2", "BYSETPOS is larger"),
        ("FREQ=DAILY;COUNT=1;UNTIL=20270101", "not both"),
        ("FREQ=YEARLY;BYSETPOS=" + ",".join(str(p) for p in range(1, 367)), "longer than 500"),
    ],
)
def test_hostile_rules_the_parser_rejects(rule: str, reason: str) -> None:
    began = time.thread_time()
    with pytest.raises(RecurrenceError, match=reason):
        parse_recurrence(rule, UTC_ZONE)
    assert time.thread_time() - began < SLACK


def test_the_rare_minutely_rule_is_answered_not_searched_minute_by_minute() -> None:
    recurrence = parse_recurrence(RARE_MINUTE, UTC_ZONE)
    due = first_due(recurrence, UTC_ZONE, NOW)
    assert due == datetime(2044, 2, 29, 23, 59, tzinfo=UTC_ZONE)
    found = occurrences(pin_rule(recurrence, due), due, UTC_ZONE, after=NOW, count=5)
    assert [m.year for m in found] == [2044, 2072, 2112, 2140, 2168]  # 2100 is no leap year


def test_a_short_deadline_gives_up_with_the_reason() -> None:
    recurrence = parse_recurrence(RARE_MINUTE, UTC_ZONE)
    began = time.thread_time()
    with (
        spending(Budget(seconds=0.001, max_periods=10**9)),
        pytest.raises(RecurrenceTooExpensive) as raised,
    ):
        occurrences(recurrence, NOW, UTC_ZONE, after=NOW, count=1000)
    assert time.thread_time() - began < 0.001 + SLACK
    assert "matches too rarely" in str(raised.value)
    assert raised.value.text == recurrence.rule
    assert isinstance(raised.value, RecurrenceError)


def test_the_period_cap_gives_up_at_the_same_point_whatever_the_clock() -> None:
    daily = parse_recurrence("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", UTC_ZONE)
    with spending(Budget(seconds=60, max_periods=10)):
        with pytest.raises(RecurrenceTooExpensive, match="matches too rarely"):
            first_due(daily, UTC_ZONE, NOW)  # 18 years: about 20 months and days to look at
        found = first_due(daily, UTC_ZONE, datetime(2043, 3, 1, tzinfo=UTC))  # 3
        assert found == datetime(2044, 2, 29, 9, tzinfo=UTC_ZONE)


def test_walking_too_many_occurrences_says_so() -> None:
    every_minute = parse_recurrence("FREQ=MINUTELY;COUNT=999999999", UTC_ZONE)
    start = NOW - timedelta(days=365)
    with (
        spending(Budget(seconds=60, max_periods=30_000)),
        pytest.raises(RecurrenceTooExpensive, match="too many occurrences"),
    ):
        next_instance(every_minute, UTC_ZONE, previous_due=start, completed_at=NOW, now=NOW)


def test_spending_applies_inside_the_block_only() -> None:
    recurrence = parse_recurrence(RARE_MINUTE, UTC_ZONE)
    with spending(Budget(seconds=60, max_periods=10)), pytest.raises(RecurrenceTooExpensive):
        first_due(recurrence, UTC_ZONE, NOW)
    assert first_due(recurrence, UTC_ZONE, NOW) is not None


def test_a_plan_has_one_budget_and_names_the_users_text() -> None:
    text = "  " + RARE_MINUTE.lower() + "  "
    with spending(Budget(seconds=60, max_periods=4_000)):
        plan = plan_series(text, UTC_ZONE, NOW, count=1)  # one search (about 1,500) fits...
        assert plan.first_due == datetime(2044, 2, 29, 23, 59, tzinfo=UTC_ZONE)
        with pytest.raises(RecurrenceTooExpensive) as raised:
            plan_series(text, UTC_ZONE, NOW, count=3)  # ...three (about 5,900) do not, together
    assert raised.value.text == text.strip()
