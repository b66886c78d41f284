"""English: the first quick-add language ("Pay rent every month on the 1st at 9am #home !high").

Its recurrence phrases are `todo_recurrence`'s own grammar, so a line's "every ..." part means
exactly what the recurrence field of a task means.
"""

from __future__ import annotations

from datetime import time

from todo_recurrence import parse_recurrence

from .language import DAY, HOUR, MINUTE, MONTH, WEEK, YEAR, Language, register
from .model import Priority


def _names(groups: tuple[tuple[str, ...], ...], start: int) -> dict[str, int]:
    return {name: index for index, names in enumerate(groups, start) for name in names}


_WEEKDAYS = _names((
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
    ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
    ("sunday", "sun"),
), 0)  # fmt: skip
_MONTHS = _names((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
), 1)  # fmt: skip
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_UNITS = {
    "minute": MINUTE, "minutes": MINUTE, "min": MINUTE, "mins": MINUTE,
    "hour": HOUR, "hours": HOUR, "hr": HOUR, "hrs": HOUR,
    "day": DAY, "days": DAY, "week": WEEK, "weeks": WEEK, "wk": WEEK, "wks": WEEK,
    "month": MONTH, "months": MONTH, "year": YEAR, "years": YEAR,
}  # fmt: skip
_PRIORITIES = {
    "!low": Priority.LOW, "!medium": Priority.MEDIUM, "!normal": Priority.MEDIUM,
    "!med": Priority.MEDIUM, "!high": Priority.HIGH, "!urgent": Priority.URGENT,
    # Todoist's: p1 is the most urgent.
    "p1": Priority.URGENT, "p2": Priority.HIGH, "p3": Priority.MEDIUM, "p4": Priority.LOW,
}  # fmt: skip
_ADVERBS = frozenset({
    "daily", "weekly", "monthly", "yearly", "annually", "biweekly", "fortnightly", "quarterly",
    "hourly",
})  # fmt: skip
_TRAILING = frozenset({
    "and", "on", "the", "of", "in", "a", "at", "every", "each", "for", "from", "after", "until",
    "till", ",", "&", "-", ";", ".",
})  # fmt: skip

ENGLISH = Language(
    code="en",
    relative_days={"today": 0, "tod": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1},
    weekdays=_WEEKDAYS,
    months=_MONTHS,
    numbers=_NUMBERS,
    units=_UNITS,
    compact_units={"m": MINUTE, "min": MINUTE, "h": HOUR, "d": DAY, "w": WEEK},
    next_words=frozenset({"next"}),
    this_words=frozenset({"this", "coming"}),
    in_words=frozenset({"in"}),
    # Short words that are also ordinary words ("in the sun", "sat down"): a day only after
    # a date prefix or next/this ("on sun", "next sat").
    needs_prefix=frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun", "tod"}),
    date_prefixes=frozenset({"on", "by", "due"}),
    time_prefixes=frozenset({"at", "@", "by"}),
    ordinal_suffixes=frozenset({"st", "nd", "rd", "th"}),
    meridiems={"am": False, "pm": True},
    named_times={"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)},
    priorities=_PRIORITIES,
    remind_words=frozenset({"remind", "reminder", "alert"}),
    remind_fillers=frozenset({"me", "us"}),
    before_words=frozenset({"before", "early", "earlier", "prior"}),
    recurrence_starts=frozenset({"every", "each"}),
    recurrence_adverbs=_ADVERBS,
    recurrence_trailing=_TRAILING,
    recurrence=parse_recurrence,
)
register(ENGLISH)
