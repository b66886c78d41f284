"""plan_series: the one computation behind both the rule preview and task creation.

Expected dates were worked out by hand (2027-03-05 is a Friday; New York
moves to -04:00 on 2027-03-14). The property test that the plan starts with
the due creation stores lives with the other property tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from todo_recurrence import (
    MAX_RULE_TEXT,
    Basis,
    RecurrenceError,
    first_due,
    parse_recurrence,
    pin_rule,
    plan_series,
)

NY = ZoneInfo("America/New_York")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


# (id, rule text, now, given due or None, count, pinned rule, expected dues)
PLANS: list[tuple[str, str, str, str | None, int, str, list[str]]] = [
    ("weekdays-from-friday-afternoon", "every weekday", "2027-03-05T15:30", None, 3,
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     ["2027-03-08T09:00:00-05:00", "2027-03-09T09:00:00-05:00", "2027-03-10T09:00:00-05:00"]),
    # A given due is kept even when it is past: the plan shows what creation stores.
    ("given-due-in-the-past", "every month on the 15th", "2027-03-02T12:00", "2027-01-15T09:00",
     3, "FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     ["2027-01-15T09:00:00-05:00", "2027-02-15T09:00:00-05:00", "2027-03-15T09:00:00-04:00"]),
    ("count-ends-the-plan", "every day, 3 times", "2027-03-02T00:00", None, 10,
     "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=3",
     ["2027-03-02T09:00:00-05:00", "2027-03-03T09:00:00-05:00", "2027-03-04T09:00:00-05:00"]),
    ("schedule-keeps-the-31st", "every month", "2027-01-02T00:00", "2027-01-31T09:00", 3,
     "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     ["2027-01-31T09:00:00-05:00", "2027-03-31T09:00:00-04:00", "2027-05-31T09:00:00-04:00"]),
    # Completion-based dues assume each task is completed when due (month ends clamp).
    ("completion-clamps-month-ends", "every month after completion", "2027-01-02T00:00",
     "2027-01-31T09:00", 3, "FREQ=MONTHLY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     ["2027-01-31T09:00:00-05:00", "2027-02-28T09:00:00-05:00", "2027-03-28T09:00:00-04:00"]),
    ("completion-count", "every 2 weeks on monday after completion, 2 times", "2027-03-02T15:30",
     None, 5, "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0;COUNT=2",
     ["2027-03-08T09:00:00-05:00", "2027-03-22T09:00:00-04:00"]),
    ("no-occurrences-asked", "every day", "2027-03-02T15:30", None, 0,
     "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", []),
]  # fmt: skip


class PlanCase(NamedTuple):
    name: str
    text: str
    now: str
    due: str | None
    how_many: int
    rule: str
    expected: list[str]


@pytest.mark.parametrize("case", [PlanCase(*row) for row in PLANS], ids=[row[0] for row in PLANS])
def test_plan_golden(case: PlanCase) -> None:
    due = at(case.due) if case.due else None
    plan = plan_series(case.text, NY, at(case.now), due=due, count=case.how_many)
    assert plan.recurrence.rule == case.rule
    assert [moment.isoformat() for moment in plan.occurrences] == case.expected
    assert plan.first_due is not None
    assert plan.occurrences[:1] in ((), (plan.first_due,))


def test_the_plan_is_what_creation_stores() -> None:
    text, now = "every 2 weeks on monday at 8am", at("2027-03-02T15:30")
    plan = plan_series(text, NY, now, count=1)
    recurrence = parse_recurrence(text, NY)
    due = first_due(recurrence, NY, now)
    assert due is not None
    assert (plan.first_due, plan.occurrences) == (due, (due,))
    assert plan.recurrence == pin_rule(recurrence, due)


def test_the_basis_can_be_given_with_a_normalized_rule() -> None:
    plan = plan_series(
        "FREQ=DAILY;BYHOUR=8", NY, at("2027-01-02T00:00"), basis=Basis.COMPLETION, count=2
    )
    assert plan.recurrence.basis is Basis.COMPLETION
    assert plan.recurrence.text == "every day at 08:00 after completion"


def test_a_rule_that_has_ended_has_no_plan() -> None:
    plan = plan_series("every day until 2027-01-01", NY, at("2027-03-02T15:30"), count=3)
    assert (plan.first_due, plan.occurrences) == (None, ())
    assert plan.recurrence == parse_recurrence("every day until 2027-01-01", NY)


def test_one_length_limit_for_phrases_and_rules() -> None:
    longest_rule = "FREQ=WEEKLY" + ";" * (MAX_RULE_TEXT - len("FREQ=WEEKLY"))
    assert len(longest_rule) == MAX_RULE_TEXT
    assert plan_series("  " + longest_rule + "  ", NY, at("2027-03-02T15:30")).first_due
    for too_long in (longest_rule + ";", "every day" + " " * MAX_RULE_TEXT + "at 9am"):
        with pytest.raises(RecurrenceError, match=f"longer than {MAX_RULE_TEXT} characters") as e:
            plan_series(too_long, NY, at("2027-03-02T15:30"))
        assert len(str(e.value)) < 300  # the message does not repeat the whole text


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_rejected(text: str) -> None:
    with pytest.raises(RecurrenceError, match="empty"):
        plan_series(text, NY, at("2027-03-02T15:30"))


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_series("every day", NY, datetime(2027, 3, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_series("every day", NY, at("2027-03-02T15:30"), due=datetime(2027, 3, 3))
