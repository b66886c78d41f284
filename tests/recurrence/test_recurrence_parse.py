"""Golden tables for parsing (phrases and RRULE text), errors, descriptions and pinning."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from todo_recurrence import Basis, Recurrence, RecurrenceError, parse_recurrence, pin_rule

NY = ZoneInfo("America/New_York")
S, C = Basis.SCHEDULE, Basis.COMPLETION

# (input, canonical rule, description, basis)
PARSE_CASES: list[tuple[str, str, str, Basis]] = [
    ("daily", "FREQ=DAILY", "every day", S),
    ("every day", "FREQ=DAILY", "every day", S),
    ("  Every   Day  ", "FREQ=DAILY", "every day", S),
    ("each day", "FREQ=DAILY", "every day", S),
    ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday", S),
    ("every weekend", "FREQ=WEEKLY;BYDAY=SA,SU", "every Saturday and Sunday", S),
    ("every 3 days", "FREQ=DAILY;INTERVAL=3", "every 3 days", S),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", "every 2 weeks", S),
    ("every 4 months", "FREQ=MONTHLY;INTERVAL=4", "every 4 months", S),
    ("every 2 years", "FREQ=YEARLY;INTERVAL=2", "every 2 years", S),
    ("every other week", "FREQ=WEEKLY;INTERVAL=2", "every 2 weeks", S),
    ("every two days", "FREQ=DAILY;INTERVAL=2", "every 2 days", S),
    ("weekly", "FREQ=WEEKLY", "every week", S),
    ("monthly", "FREQ=MONTHLY", "every month", S),
    ("yearly", "FREQ=YEARLY", "every year", S),
    ("annually", "FREQ=YEARLY", "every year", S),
    ("biweekly", "FREQ=WEEKLY;INTERVAL=2", "every 2 weeks", S),
    ("bi-weekly", "FREQ=WEEKLY;INTERVAL=2", "every 2 weeks", S),
    ("every 2 weeks on monday and thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
     "every 2 weeks on Monday and Thursday", S),
    ("every mon, wed and fri", "FREQ=WEEKLY;BYDAY=MO,WE,FR",
     "every Monday, Wednesday and Friday", S),
    ("every tuesday", "FREQ=WEEKLY;BYDAY=TU", "every Tuesday", S),
    ("every other monday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "every 2 weeks on Monday", S),
    ("every month on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15", "every month on the 15th", S),
    ("monthly on the 1st and 15th", "FREQ=MONTHLY;BYMONTHDAY=1,15",
     "every month on the 1st and 15th", S),
    ("every month on the last friday", "FREQ=MONTHLY;BYDAY=-1FR",
     "every month on the last Friday", S),
    ("the 2nd tuesday of every month", "FREQ=MONTHLY;BYDAY=2TU",
     "every month on the second Tuesday", S),
    ("every month on the first monday", "FREQ=MONTHLY;BYDAY=1MO",
     "every month on the first Monday", S),
    ("every 3 months on the second wednesday", "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE",
     "every 3 months on the second Wednesday", S),
    ("every month on the first and third monday", "FREQ=MONTHLY;BYDAY=1MO,3MO",
     "every month on the first Monday and the third Monday", S),
    ("every month on day 15", "FREQ=MONTHLY;BYMONTHDAY=15", "every month on the 15th", S),
    ("every month on the 1st, 10th and 20th", "FREQ=MONTHLY;BYMONTHDAY=1,10,20",
     "every month on the 1st, 10th and 20th", S),
    ("every month on the last day", "FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day", S),
    ("last day of every month", "FREQ=MONTHLY;BYMONTHDAY=-1", "every month on the last day", S),
    ("on the 1st and last day of every month", "FREQ=MONTHLY;BYMONTHDAY=1,-1",
     "every month on the 1st and last day", S),
    ("every month on the second to last day", "FREQ=MONTHLY;BYMONTHDAY=-2",
     "every month on the 2nd to last day", S),
    ("the last weekday of every month", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
     "every month on the last weekday", S),
    ("every year on feb 29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "every year on February 29", S),
    ("every year on 25 december", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
     "every year on December 25", S),
    ("annually on march 1st", "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1", "every year on March 1", S),
    ("every year on jan 1 and jul 1", "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
     "every year in January and July on the 1st", S),
    ("every year on the 4th of july", "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
     "every year on July 4", S),
    ("every year on the last monday of may", "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO",
     "every year in May on the last Monday", S),
    ("every day at 9am", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", "every day at 09:00", S),
    ("every day at 9:30 pm", "FREQ=DAILY;BYHOUR=21;BYMINUTE=30;BYSECOND=0",
     "every day at 21:30", S),
    ("every day at 17:30", "FREQ=DAILY;BYHOUR=17;BYMINUTE=30;BYSECOND=0", "every day at 17:30", S),
    ("every day at noon", "FREQ=DAILY;BYHOUR=12;BYMINUTE=0;BYSECOND=0", "every day at 12:00", S),
    ("every day at 12am", "FREQ=DAILY;BYHOUR=0;BYMINUTE=0;BYSECOND=0", "every day at 00:00", S),
    ("every day at 9am and 5pm", "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0;BYSECOND=0",
     "every day at 09:00 and 17:00", S),
    ("every month on the last friday at 9am",
     "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     "every month on the last Friday at 09:00", S),
    ("every day until 2027-03-01", "FREQ=DAILY;UNTIL=20270302T045959Z",
     "every day, until 2027-03-01", S),
    ("every day until march 1 2027", "FREQ=DAILY;UNTIL=20270302T045959Z",
     "every day, until 2027-03-01", S),
    ("every day for 10 times", "FREQ=DAILY;COUNT=10", "every day, 10 times", S),
    ("every day 10 times", "FREQ=DAILY;COUNT=10", "every day, 10 times", S),
    ("every day x10", "FREQ=DAILY;COUNT=10", "every day, 10 times", S),
    ("every day 15 times", "FREQ=DAILY;COUNT=15", "every day, 15 times", S),
    ("every 3 days after completion", "FREQ=DAILY;INTERVAL=3", "every 3 days after completion", C),
    ("2 weeks after done", "FREQ=WEEKLY;INTERVAL=2", "every 2 weeks after completion", C),
    ("every 3 days after completion, 10 times", "FREQ=DAILY;INTERVAL=3;COUNT=10",
     "every 3 days after completion, 10 times", C),
    ("every 2 hours", "FREQ=HOURLY;INTERVAL=2", "every 2 hours", S),
    ("every hour at minute 30", "FREQ=HOURLY;BYMINUTE=30", "every hour at minute 30", S),
    ("every 15 minutes", "FREQ=MINUTELY;INTERVAL=15", "every 15 minutes", S),
    ("quarterly", "FREQ=MONTHLY;INTERVAL=3", "every 3 months", S),
]  # fmt: skip

# RRULE text, validated and re-emitted in canonical order
RRULE_CASES: list[tuple[str, str, str, Basis]] = [
    ("FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=-1FR", "every month on the last Friday", S),
    ("RRULE:FREQ=DAILY;COUNT=5", "FREQ=DAILY;COUNT=5", "every day, 5 times", S),
    ("rrule:byday=we,mo;interval=2;freq=weekly;until=20271231",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20280101T045959Z",
     "every 2 weeks on Monday and Wednesday, until 2027-12-31", S),
    ("FREQ=DAILY;INTERVAL=1;BYMINUTE=15;BYHOUR=8", "FREQ=DAILY;BYHOUR=8;BYMINUTE=15",
     "every day at 08:15", S),
    ("FREQ=MONTHLY;BYDAY=+1MO", "FREQ=MONTHLY;BYDAY=1MO", "every month on the first Monday", S),
    ("FREQ=DAILY;UNTIL=20270301T120000Z", "FREQ=DAILY;UNTIL=20270301T120000Z",
     "every day, until 2027-03-01 07:00", S),
    ("FREQ=DAILY;INTERVAL=3 after completion", "FREQ=DAILY;INTERVAL=3",
     "every 3 days after completion", C),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU",
     "every 2 weeks on Monday (weeks start on Sunday)", S),
]  # fmt: skip


@pytest.mark.parametrize(("text", "rule", "description", "basis"), PARSE_CASES + RRULE_CASES)
def test_parse_golden(text: str, rule: str, description: str, basis: Basis) -> None:
    assert parse_recurrence(text, NY) == Recurrence(rule=rule, text=description, basis=basis)


@pytest.mark.parametrize(("text", "rule", "description", "basis"), PARSE_CASES)
def test_description_reads_back_to_the_same_rule(
    text: str, rule: str, description: str, basis: Basis
) -> None:
    # Only for phrase input: an RRULE may say things ("seconds from DTSTART",
    # WKST) that the English text shows but the phrase language cannot.
    assert parse_recurrence(description, NY) == Recurrence(rule, description, basis)


# (input, the words the error must quote as "near", words the reason must contain)
ERROR_CASES: list[tuple[str, str | None, str]] = [
    ("every blue moon", "blue moon", ""),
    ("", None, "empty"),
    ("   ", None, "empty"),
    ("every", None, "how often"),
    ("every month on the 32nd", "32nd", "1st to 31st"),
    ("every year on feb 30", "feb 30", "February has no day 30"),
    ("every year on jan 1 and jul 4", "jan 1 and jul 4", "share their day of the month"),
    ("every day at 25:00", "25:00", "between 00:00 and 23:59"),
    ("every day at 13pm", "13pm", "1 to 12"),
    ("every day at", "at", "expected a time"),
    ("every day at 9am and 5:30pm", "at 9am and 5:30pm", "share their minutes"),
    ("every week on the 15th", "15th", "weekly"),
    ("every month on the 6th monday", "6th monday", "1 to 5"),
    ("every 0 days", "0 days", "at least every 1"),
    ("every day 0 times", "0 times", "at least 1"),
    ("every day until march 1", "until march 1", "with a year"),
    ("every day 10 times until 2027-01-01", "until 2027-01-01", "only one end"),
    ("every day and every week", "week", "two different frequencies"),
    ("every 2 hours at 9am", "at 9am", "daily or longer"),
    ("every day starting tomorrow", "starting tomorrow", ""),
    ("FREQ=DAILY;COUNT=0", "COUNT=0", "at least 1"),
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0", "at least 1"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32", "between 1 and 31"),
    ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS=1", "needs BYDAY"),
    ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "COUNT=3;UNTIL", "not both"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "BYMONTHDAY=30", "never"),
    ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20", "BYMONTHDAY=20", "never"),
    ("FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3", "BYSETPOS=3", "larger"),
    ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY=1MO", "MONTHLY or FREQ=YEARLY"),
    ("FREQ=SECONDLY", "FREQ=SECONDLY", "FREQ must be"),
    ("FREQ=DAILY;BYYEARDAY=3", "BYYEARDAY=3", "not supported"),
    ("FREQ=DAILY;FOO=1", "FOO=1", "unknown"),
    ("FREQ=DAILY;BYDAY=XX", "BYDAY=XX", "weekday codes"),
    ("FREQ=DAILY;UNTIL=2027", "UNTIL=2027", "UNTIL must look like"),
    ("FREQ=DAILY;UNTIL=20270230", "UNTIL=20270230", "not a real date"),
    ("DTSTART:20270101T090000Z RRULE:FREQ=DAILY", "DTSTART:20270101T090000Z RRULE:FREQ=DAILY",
     "only the RRULE value"),
    ("FREQ=DAILY;FREQ=WEEKLY", "FREQ=WEEKLY", "given twice"),
    ("INTERVAL=2", None, "needs FREQ"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "near", "reason"), ERROR_CASES)
def test_parse_errors_name_the_problem(text: str, near: str | None, reason: str) -> None:
    with pytest.raises(RecurrenceError) as caught:
        parse_recurrence(text, NY)
    error = caught.value
    assert error.near == near
    assert reason in (error.reason or "")
    message = str(error)
    assert message.startswith(f'could not understand "{text}"')
    assert 'try e.g. "every 2 weeks on monday"' in message
    assert 'an RRULE like "FREQ=WEEKLY;BYDAY=MO"' in message


def test_error_message_format_matches_the_contract() -> None:
    with pytest.raises(RecurrenceError) as caught:
        parse_recurrence("every blue moon", NY)
    assert str(caught.value) == (
        'could not understand "every blue moon" near "blue moon"; try e.g. '
        '"every 2 weeks on monday", "every month on the last friday at 9am" '
        'or an RRULE like "FREQ=WEEKLY;BYDAY=MO"'
    )
    assert isinstance(caught.value, ValueError)


def test_until_uses_the_task_zone() -> None:
    sydney = parse_recurrence("every day until 2027-03-01", ZoneInfo("Australia/Sydney"))
    assert sydney.rule == "FREQ=DAILY;UNTIL=20270301T125959Z"  # 23:59:59 AEDT (+11)


# (id, rule text, anchor (New York wall clock), pinned rule, pinned description)
PIN_CASES: list[tuple[str, str, str, str, str]] = [
    ("weekly-gets-weekday-and-time", "every 2 weeks", "2027-03-02T15:30",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=15;BYMINUTE=30;BYSECOND=0",
     "every 2 weeks on Tuesday at 15:30"),
    ("monthly-gets-day", "every month", "2027-01-31T09:00",
     "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
     "every month on the 31st at 09:00"),
    ("yearly-gets-date", "every year", "2028-02-29T08:00",
     "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=8;BYMINUTE=0;BYSECOND=0",
     "every year on February 29 at 08:00"),
    ("yearly-with-month-gets-day", "FREQ=YEARLY;BYMONTH=3", "2027-03-14T07:05:09",
     "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14;BYHOUR=7;BYMINUTE=5;BYSECOND=9",
     "every year on March 14 at 07:05:09"),
    ("daily-gets-time", "every 3 days", "2027-03-02T06:45",
     "FREQ=DAILY;INTERVAL=3;BYHOUR=6;BYMINUTE=45;BYSECOND=0", "every 3 days at 06:45"),
    ("named-days-kept", "every weekday", "2027-03-02T06:45",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6;BYMINUTE=45;BYSECOND=0",
     "every weekday at 06:45"),
    ("missing-minute-only", "FREQ=DAILY;BYHOUR=9", "2027-03-02T06:45",
     "FREQ=DAILY;BYHOUR=9;BYMINUTE=45;BYSECOND=0", "every day at 09:45"),
    ("completion-gets-time-only", "every 2 weeks after completion", "2027-03-02T15:30",
     "FREQ=WEEKLY;INTERVAL=2;BYHOUR=15;BYMINUTE=30;BYSECOND=0",
     "every 2 weeks at 15:30 after completion"),
    ("hourly-unchanged", "every 2 hours", "2027-03-02T15:30", "FREQ=HOURLY;INTERVAL=2",
     "every 2 hours"),
    ("count-kept", "every month, 6 times", "2027-03-02T15:30",
     "FREQ=MONTHLY;BYMONTHDAY=2;BYHOUR=15;BYMINUTE=30;BYSECOND=0;COUNT=6",
     "every month on the 2nd at 15:30, 6 times"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "anchor", "rule", "description"),
    [case[1:] for case in PIN_CASES],
    ids=[case[0] for case in PIN_CASES],
)
def test_pin_rule_golden(text: str, anchor: str, rule: str, description: str) -> None:
    recurrence = parse_recurrence(text, NY)
    at = datetime.fromisoformat(anchor).replace(tzinfo=NY)
    pinned = pin_rule(recurrence, at)
    assert (pinned.rule, pinned.text, pinned.basis) == (rule, description, recurrence.basis)
    assert pin_rule(pinned, at) == pinned
    later = datetime(2031, 7, 19, 22, 1, 2, tzinfo=NY)
    assert pin_rule(pinned, later) == pinned  # idempotent from any later instance too


def test_pin_rule_returns_unchanged_recurrence_as_is() -> None:
    recurrence = parse_recurrence("every weekday at 9am", NY)
    assert pin_rule(recurrence, datetime(2027, 3, 2, 9, tzinfo=NY)) is recurrence
