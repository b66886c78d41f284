"""The golden table of quick-add lines: each line with the fields it must give.

Fixed "now"s: Saturday 2026-03-28 12:00 in Europe/Berlin (clocks go forward at 02:00 the next
day) and Saturday 2026-10-31 12:00 in America/New_York (clocks go back at 02:00 the next day).
Due times are written with their UTC offset, so a DST mistake shows. Shared with the benchmark
(`bench/quick_add.py`), which times parsing these lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from todo_quickadd import Priority

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # Saturday, the day before DST
FALL_NOW = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)  # Saturday, the day before DST ends


@dataclass(frozen=True)
class Row:
    """A line and what it must give; None / () mean "nothing of that field"."""

    line: str
    title: str
    due: str | None = None  # ISO with offset: "2026-03-29T09:00+02:00"
    rule: str | None = None  # the rule quick add sends to createTask
    tags: tuple[str, ...] = ()
    priority: Priority | None = None
    minutes: tuple[int, ...] = ()
    remind_at: tuple[str, ...] = ()
    zone: ZoneInfo = BERLIN
    now: datetime = NOW


# Due phrases on their own (Berlin, NOW): each is tried after and before a title.
DUES: list[tuple[str, str]] = [
    ("today", "2026-03-28T09:00+01:00"),
    ("today 18:00", "2026-03-28T18:00+01:00"),
    ("tomorrow", "2026-03-29T09:00+02:00"),
    ("tmrw", "2026-03-29T09:00+02:00"),
    ("tomorrow 5pm", "2026-03-29T17:00+02:00"),
    ("tomorrow at 9am", "2026-03-29T09:00+02:00"),
    ("tomorrow 2:30am", "2026-03-29T03:30+02:00"),  # in the DST gap: moved on by the gap
    ("tomorrow at 1:30am", "2026-03-29T01:30+01:00"),
    ("5pm tomorrow", "2026-03-29T17:00+02:00"),
    ("9am", "2026-03-29T09:00+02:00"),  # past today: tomorrow
    ("5pm", "2026-03-28T17:00+01:00"),
    ("at 17:30", "2026-03-28T17:30+01:00"),
    ("at 9", "2026-03-29T09:00+02:00"),
    ("at 21", "2026-03-28T21:00+01:00"),
    ("9:45pm", "2026-03-28T21:45+01:00"),
    ("11 pm", "2026-03-28T23:00+01:00"),
    ("noon", "2026-03-29T12:00+02:00"),  # exactly now: tomorrow
    ("midnight", "2026-03-29T00:00+01:00"),
    ("monday", "2026-03-30T09:00+02:00"),
    ("on friday", "2026-04-03T09:00+02:00"),
    ("friday 4pm", "2026-04-03T16:00+02:00"),
    ("saturday", "2026-04-04T09:00+02:00"),  # today is Saturday: the next one
    ("this saturday", "2026-03-28T09:00+01:00"),
    ("next saturday", "2026-04-04T09:00+02:00"),
    ("next friday", "2026-04-03T09:00+02:00"),
    ("on sun", "2026-03-29T09:00+02:00"),
    ("next wed at 8am", "2026-04-01T08:00+02:00"),
    ("next week", "2026-03-30T09:00+02:00"),
    ("next month", "2026-04-01T09:00+02:00"),
    ("next year", "2027-01-01T09:00+01:00"),
    ("in 3 days", "2026-03-31T09:00+02:00"),
    ("in 2 weeks", "2026-04-11T09:00+02:00"),
    ("in a month", "2026-04-28T09:00+02:00"),
    ("in one year", "2027-03-28T09:00+02:00"),  # DST starts that day in 2027
    ("in 2 hours", "2026-03-28T14:00+01:00"),
    ("in 30 minutes", "2026-03-28T12:30+01:00"),
    ("in 14 hours", "2026-03-29T03:00+02:00"),  # across the DST change: 14 real hours
    ("in 3d", "2026-03-31T09:00+02:00"),
    ("in 3 days at 6pm", "2026-03-31T18:00+02:00"),
    ("on 12 March", "2027-03-12T09:00+01:00"),  # past this year: next year's
    ("March 30", "2026-03-30T09:00+02:00"),
    ("30th of march", "2026-03-30T09:00+02:00"),
    ("march 28", "2026-03-28T09:00+01:00"),  # today counts
    ("feb 29", "2028-02-29T09:00+01:00"),  # waits for a leap year
    ("dec 25th", "2026-12-25T09:00+01:00"),
    ("12 march 2027 at 10am", "2027-03-12T10:00+01:00"),
    ("on 2026-04-15", "2026-04-15T09:00+02:00"),
    ("by 2026-10-25 23:30", "2026-10-25T23:30+01:00"),  # after the October change
    ("due july 4", "2026-07-04T09:00+02:00"),
]
DUE_ROWS = [Row(f"Call mom {phrase}", "Call mom", due) for phrase, due in DUES] + [
    Row(f"{phrase} call mom", "call mom", due) for phrase, due in DUES
]

PRIORITY_ROWS = [
    Row("Fix the sink !high", "Fix the sink", priority=Priority.HIGH),
    Row("Fix the sink !HIGH", "Fix the sink", priority=Priority.HIGH),
    Row("!urgent Fix the sink", "Fix the sink", priority=Priority.URGENT),
    Row("Fix the sink !low", "Fix the sink", priority=Priority.LOW),
    Row("Fix the sink !medium", "Fix the sink", priority=Priority.MEDIUM),
    Row("Fix the sink !normal", "Fix the sink", priority=Priority.MEDIUM),
    Row("Fix the sink p1", "Fix the sink", priority=Priority.URGENT),
    Row("Fix the sink p2", "Fix the sink", priority=Priority.HIGH),
    Row("Fix the sink P3", "Fix the sink", priority=Priority.MEDIUM),
    Row("Fix the sink p4", "Fix the sink", priority=Priority.LOW),
    Row("Fix the sink p1 p4", "Fix the sink p4", priority=Priority.URGENT),  # first one wins
    Row("Fix the sink p5", "Fix the sink p5"),
    Row("Buy an mp3 player", "Buy an mp3 player"),
    Row("Say hi!", "Say hi!"),
    Row("Fix !soon", "Fix !soon"),
]

TAG_ROWS = [
    Row("Buy milk #errands", "Buy milk", tags=("errands",)),
    Row("#home Clean the garage", "Clean the garage", tags=("home",)),
    Row("Buy milk #errands #home", "Buy milk", tags=("errands", "home")),
    Row("Buy milk #Errands #errands", "Buy milk", tags=("Errands",)),
    Row("Call #work-team about #Q3", "Call about", tags=("work-team", "Q3")),
    Row("Fix bug #123", "Fix bug #123"),
    Row("Ask café #küche", "Ask café", tags=("küche",)),
    Row("Use C# today", "Use C#", "2026-03-28T09:00+01:00"),
    Row("# heading", "# heading"),
    Row("#a #b #c", "", tags=("a", "b", "c")),
]

REMINDER_ROWS = [
    Row(
        "Dentist tomorrow 10am remind 30 min before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(30,),
    ),
    Row(
        "Dentist tomorrow 10am remind me 1 hour before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(60,),
    ),
    Row(
        "Dentist tomorrow 10am remind 1 day before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(1440,),
    ),
    Row(
        "Dentist tomorrow 10am remind 2h before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(120,),
    ),
    Row(
        "Dentist tomorrow 10am remind a week before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(10080,),
    ),
    Row(
        "Dentist tomorrow 10am remind 1 day before remind 15 min before",
        "Dentist",
        "2026-03-29T10:00+02:00",
        minutes=(1440, 15),
    ),
    Row(
        "Dentist tomorrow 10am remind at 8am",
        "Dentist",
        "2026-03-29T10:00+02:00",
        remind_at=("2026-03-29T08:00+02:00",),
    ),
    Row(
        "Dentist friday remind me at 7:30",
        "Dentist",
        "2026-04-03T09:00+02:00",
        remind_at=("2026-04-03T07:30+02:00",),
    ),
    Row(
        "Dentist friday remind thursday at 6pm",
        "Dentist",
        "2026-04-03T09:00+02:00",
        remind_at=("2026-04-02T18:00+02:00",),
    ),
    Row("Water plants remind at 8pm", "Water plants", remind_at=("2026-03-28T20:00+01:00",)),
    Row("Water plants remind at 8am", "Water plants", remind_at=("2026-03-29T08:00+02:00",)),
    Row("Water plants remind tomorrow", "Water plants", remind_at=("2026-03-29T09:00+02:00",)),
    Row("remind me", "remind me"),
    Row("Remind Bob about lunch", "Remind Bob about lunch"),
    Row("Dentist remind 2 months before", "Dentist remind 2 months before"),
]

RECURRENCE_ROWS = [
    Row(
        "Standup every weekday at 9am",
        "Standup",
        "2026-03-30T09:00+02:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "every day at 9am Stretch",
        "Stretch",
        "2026-03-29T09:00+02:00",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Stretch every day at 2:30am", "Stretch", None, "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0"
    ),
    Row(
        "Pay rent every month on the 1st at 9am",
        "Pay rent",
        "2026-04-01T09:00+02:00",
        "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Team lunch every 2 weeks on friday at noon",
        "Team lunch",
        None,
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;BYHOUR=12;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Backup every monday and thursday at 18:00",
        "Backup",
        "2026-03-30T18:00+02:00",
        "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=18;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "every monday standup 9am",
        "standup",
        "2026-03-30T09:00+02:00",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    ),
    Row("Review every month on the last friday", "Review", None, "FREQ=MONTHLY;BYDAY=-1FR"),
    Row(
        "Water plants every 3 days after completion",
        "Water plants",
        None,
        "FREQ=DAILY;INTERVAL=3 after completion",
    ),
    Row("Taxes every year on april 30", "Taxes", None, "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=30"),
    Row("Weekly review", "review", None, "FREQ=WEEKLY"),
    Row(
        "Daily standup 9am",
        "standup",
        "2026-03-29T09:00+02:00",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Weekly review every friday at 4pm",
        "Weekly review",
        "2026-04-03T16:00+02:00",
        "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Meds every day at 8am and 8pm",
        "Meds",
        "2026-03-28T20:00+01:00",
        "FREQ=DAILY;BYHOUR=8,20;BYMINUTE=0;BYSECOND=0",
    ),
    Row(
        "Gym every tuesday until 2026-06-30",
        "Gym",
        "2026-03-31T09:00+02:00",
        "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260630T215959Z",
    ),
    Row("Every day I dream", "I dream", None, "FREQ=DAILY"),
    Row("every day every week", "every week", None, "FREQ=DAILY"),
    Row("Read every evening", "Read every evening"),
    Row("every", "every"),
    Row(
        "Pay every 2 weeks on friday starting next friday",
        "Pay starting",
        "2026-04-03T09:00+02:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
    ),
]

# The examples of issue #27 and Todoist's help, and lines whose words stay in the title.
EXAMPLE_ROWS = [
    Row(
        "Pay rent every month on the 1st at 9am #home !high remind 1 day before",
        "Pay rent",
        "2026-04-01T09:00+02:00",
        "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        tags=("home",),
        priority=Priority.HIGH,
        minutes=(1440,),
    ),
    Row(
        "Submit report tomorrow 5pm p1 #work",
        "Submit report",
        "2026-03-29T17:00+02:00",
        tags=("work",),
        priority=Priority.URGENT,
    ),
    Row(
        "Call Alex next friday at 10:30 #calls",
        "Call Alex",
        "2026-04-03T10:30+02:00",
        tags=("calls",),
    ),
    Row(
        "Book flights in 3 days !medium",
        "Book flights",
        "2026-03-31T09:00+02:00",
        priority=Priority.MEDIUM,
    ),
    Row("Renew passport on 12 March", "Renew passport", "2027-03-12T09:00+01:00"),
    Row("Go out in the sun", "Go out in the sun"),
    Row("Meet at the station", "Meet at the station"),
    Row("Sat down with Wed team", "Sat down with Wed team"),
    Row("Buy 3 apples", "Buy 3 apples"),
    Row("Read chapter 12", "Read chapter 12"),
    Row("May the force be with you", "May the force be with you"),
    Row("Plan next steps", "Plan next steps"),
    Row("Call mom, tomorrow", "Call mom", "2026-03-29T09:00+02:00"),
    Row("Call mom - today 6pm", "Call mom", "2026-03-28T18:00+01:00"),
    Row("Call mom tomorrow and friday", "Call mom and friday", "2026-03-29T09:00+02:00"),
    Row("Call mom 5pm and 6pm", "Call mom and 6pm", "2026-03-28T17:00+01:00"),
    Row("", ""),
    Row("   ", ""),
    Row("tomorrow", "", "2026-03-29T09:00+02:00"),
    Row("Pay 25:00 fee", "Pay 25:00 fee"),
    Row("Pay on 31 feb", "Pay on 31 feb"),
]

FALL_ROWS = [
    Row("Call mom tomorrow 9am", "Call mom", "2026-11-01T09:00-05:00", zone=NEW_YORK, now=FALL_NOW),
    Row(
        "Call mom tomorrow 1:30am",
        "Call mom",
        "2026-11-01T01:30-04:00",
        zone=NEW_YORK,
        now=FALL_NOW,
    ),  # the earlier
    Row("Call mom in 24 hours", "Call mom", "2026-11-01T11:00-05:00", zone=NEW_YORK, now=FALL_NOW),
    Row("Call mom in 1 day", "Call mom", "2026-11-01T09:00-05:00", zone=NEW_YORK, now=FALL_NOW),
    Row("Call mom next week", "Call mom", "2026-11-02T09:00-05:00", zone=NEW_YORK, now=FALL_NOW),
    Row("Call mom 11am", "Call mom", "2026-11-01T11:00-05:00", zone=NEW_YORK, now=FALL_NOW),
    Row("Call mom 1pm", "Call mom", "2026-10-31T13:00-04:00", zone=NEW_YORK, now=FALL_NOW),
    Row(
        "Standup every weekday at 9am",
        "Standup",
        "2026-11-02T09:00-05:00",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        zone=NEW_YORK,
        now=FALL_NOW,
    ),
    Row(
        "Call mom tomorrow 9am", "Call mom", "2026-03-29T09:00+05:30", zone=ZoneInfo("Asia/Kolkata")
    ),
    Row(
        "Call mom tomorrow 9am",
        "Call mom",
        "2026-03-29T09:00+11:00",
        zone=ZoneInfo("Australia/Sydney"),
    ),
    Row("Call mom in 2 hours", "Call mom", "2026-03-28T13:00+00:00", zone=ZoneInfo("UTC")),
    Row("Call mom tomorrow 9am", "Call mom", "2026-03-29T09:00+00:00", zone=ZoneInfo("UTC")),
]

ROWS: list[Row] = [
    *DUE_ROWS, *PRIORITY_ROWS, *TAG_ROWS, *REMINDER_ROWS, *RECURRENCE_ROWS, *EXAMPLE_ROWS,
    *FALL_ROWS,
]  # fmt: skip
