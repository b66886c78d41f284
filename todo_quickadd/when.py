"""Dates and times of day in a line: "tomorrow", "next friday", "in 3 days", "on 12 March",
"9am", "at 17:30". Every reader returns what it found and the index after it, or None.

Nothing here reads a clock: `today` and `now` are the caller's, already in the line's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

from .language import DAY, HOUR, MINUTE, MONTH, WEEK, YEAR, Language
from .tokens import Token

_NUMBER_SUFFIX = re.compile(r"^(\d{1,4})([^\W\d_]+)$")
_MAX_AMOUNT = 10_000  # "in 99999 days" is a title, not a date


def wall(day: date, clock: time, zone: tzinfo) -> datetime:
    """`clock` on `day` in `zone`: the earlier of a repeated hour, a time in a gap moved on by it."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC).astimezone(zone)


@dataclass(frozen=True)
class When:
    """A date ("tomorrow") or an instant ("in 2 hours"): exactly one is set."""

    day: date | None = None
    instant: datetime | None = None


class WhenReader:
    """Reads dates and times at a position of `tokens`, in `language`."""

    def __init__(self, tokens: list[Token], language: Language, now: datetime) -> None:
        self.tokens = tokens
        self.lang = language
        self.now = now
        self.today = now.date()

    def word(self, i: int) -> str:
        return self.tokens[i].text if 0 <= i < len(self.tokens) else ""

    def kind(self, i: int) -> str:
        return self.tokens[i].kind if 0 <= i < len(self.tokens) else ""

    def number(self, i: int) -> int | None:
        """A cardinal: digits or a number word."""
        word = self.word(i)
        if word.isdigit() and word.isascii() and len(word) <= 5:
            return int(word)
        return self.lang.numbers.get(word)

    def amount(self, i: int) -> tuple[int, str, int] | None:
        """(number, unit, next index) of "3 days", "an hour", "30m"."""
        glued = _NUMBER_SUFFIX.match(self.word(i))
        if glued is not None and glued.group(2) in self.lang.compact_units:
            return int(glued.group(1)), self.lang.compact_units[glued.group(2)], i + 1
        number = self.number(i)
        unit = self.lang.units.get(self.word(i + 1))
        if number is None or unit is None:
            return None
        return number, unit, i + 2

    # Times of day.

    def time_at(self, i: int) -> tuple[time, int] | None:
        """A time with or without its prefix: "9am", "at 9", "at 17:30", "noon"."""
        if self.word(i) in self.lang.time_prefixes:
            found = self._clock(i + 1, bare_hour=True)
            if found is not None:
                return found
        return self._clock(i, bare_hour=False)

    def _clock(self, i: int, *, bare_hour: bool) -> tuple[time, int] | None:
        word, lang = self.word(i), self.lang
        if word in lang.named_times:
            return lang.named_times[word], i + 1
        hour: int | None = None
        minute = 0
        end = i + 1
        suffix: str | None = None
        if self.kind(i) == "clock":
            hour, minute = (int(part) for part in word.split(":"))
        elif (glued := _NUMBER_SUFFIX.match(word)) is not None and glued.group(2) in lang.meridiems:
            hour, suffix = int(glued.group(1)), glued.group(2)
        elif word.isdigit() and word.isascii() and len(word) <= 2:
            hour = int(word)
        if hour is None:
            return None
        if suffix is None and self.word(end) in lang.meridiems:
            suffix, end = self.word(end), end + 1
        if suffix is None and self.kind(i) != "clock" and not bare_hour:
            return None  # a bare "5" is a number, not five o'clock
        if suffix is not None:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if lang.meridiems[suffix] else 0)
        if hour > 23 or minute > 59:
            return None
        return time(hour, minute), end

    # Dates.

    def date_at(self, i: int) -> tuple[When, int] | None:
        """A date, an instant ("in 2 hours") or None; a date prefix ("on") is taken with it."""
        lang = self.lang
        if self.word(i) in lang.date_prefixes:
            found = self._date(i + 1, prefixed=True)
            if found is not None:
                return found
        if self.word(i) in lang.in_words:
            return self._in(i + 1)
        return self._date(i, prefixed=False)

    def _date(self, i: int, *, prefixed: bool) -> tuple[When, int] | None:
        word, lang = self.word(i), self.lang
        if word in lang.needs_prefix and not prefixed:
            return None
        if word in lang.relative_days:
            return When(day=self.today + timedelta(days=lang.relative_days[word])), i + 1
        if word in lang.weekdays:
            return When(day=self._weekday(lang.weekdays[word], today_counts=False)), i + 1
        if word in lang.next_words or word in lang.this_words:
            return self._next(i)
        if self.kind(i) == "iso":
            return self._iso(i)
        return self._month_day(i)

    def _weekday(self, weekday: int, *, today_counts: bool) -> date:
        ahead = (weekday - self.today.weekday()) % 7
        if ahead == 0 and not today_counts:
            ahead = 7
        return self.today + timedelta(days=ahead)

    def _next(self, i: int) -> tuple[When, int] | None:
        following, lang = self.word(i + 1), self.lang
        if following in lang.weekdays:
            this = self.word(i) in lang.this_words
            return When(day=self._weekday(lang.weekdays[following], today_counts=this)), i + 2
        unit = lang.units.get(following)
        if self.word(i) not in lang.next_words or unit is None:
            return None
        starts = {
            DAY: self.today + timedelta(days=1),
            WEEK: self._weekday(0, today_counts=False),
            MONTH: (self.today + relativedelta(months=1)).replace(day=1),
            YEAR: date(self.today.year + 1, 1, 1) if self.today.year < 9999 else None,
        }
        day = starts.get(unit)
        return (When(day=day), i + 2) if day is not None else None

    def _in(self, i: int) -> tuple[When, int] | None:
        found = self.amount(i)
        if found is None:
            return None
        count, unit, end = found
        if count > _MAX_AMOUNT:
            return None
        try:
            if unit in (MINUTE, HOUR):
                step = timedelta(minutes=count) if unit == MINUTE else timedelta(hours=count)
                instant = (self.now.astimezone(UTC) + step).astimezone(self.now.tzinfo)
                return When(instant=instant), end
            steps = {
                DAY: relativedelta(days=count),
                WEEK: relativedelta(weeks=count),
                MONTH: relativedelta(months=count),
                YEAR: relativedelta(years=count),
            }
            return When(day=self.today + steps[unit]), end
        except (OverflowError, ValueError):
            return None

    def _iso(self, i: int) -> tuple[When, int] | None:
        try:
            year, month, day = (int(part) for part in self.word(i).split("-"))
            return When(day=date(year, month, day)), i + 1
        except ValueError:
            return None

    def _day_number(self, i: int) -> int | None:
        word = self.word(i)
        glued = _NUMBER_SUFFIX.match(word)
        if glued is not None and glued.group(2) in self.lang.ordinal_suffixes:
            value = int(glued.group(1))
        elif word.isdigit() and word.isascii() and len(word) <= 2:
            value = int(word)
        else:
            return None
        return value if 1 <= value <= 31 else None

    def _month_day(self, i: int) -> tuple[When, int] | None:
        """ "12 March", "12th of march", "march 12", "mar 12th 2027"."""
        months = self.lang.months
        if self.word(i) in months and (day := self._day_number(i + 1)) is not None:
            return self._dated(months[self.word(i)], day, i + 2)
        day = self._day_number(i)
        if day is None:
            return None
        j = i + 2 if self.word(i + 1) == "of" else i + 1
        if self.word(j) not in months:
            return None
        return self._dated(months[self.word(j)], day, j + 1)

    def _dated(self, month: int, day: int, j: int) -> tuple[When, int] | None:
        k = j + 1 if self.word(j) == "," else j
        year = self.word(k)
        if year.isdigit() and year.isascii() and len(year) == 4:
            try:
                return When(day=date(int(year), month, day)), k + 1
            except ValueError:
                return None
        for ahead in range(9):  # the next such day: Feb 29 waits for a leap year
            try:
                found = date(self.today.year + ahead, month, day)
            except ValueError:
                continue
            if found >= self.today:
                return When(day=found), j
        return None
