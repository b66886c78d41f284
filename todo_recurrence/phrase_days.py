"""Day clauses of the phrase reader: weekdays, ordinals, days of month, dates.

These are the clauses that say *which* days a rule falls on; they only
record what was said, leaving frequency inference and validation to the end.
"""

from __future__ import annotations

from .describe import MONTH_NAMES
from .lexicon import COUNT_WORDS, MONTH_WORDS, ORDINAL_WORDS, WEEKDAY_WORDS, ordinal_number, unit_of
from .model import ByDay
from .phrase_base import ReaderBase

LIST_WORDS = frozenset({"and", ",", "&", "or"})
_MAX_DAY = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class DayClauses(ReaderBase):
    """Clauses naming days: "monday and friday", "the last friday", "the 15th", "feb 29"."""

    def _read_one_ordinal(self, k: int) -> tuple[int | None, int]:
        token = self.tok(k)
        if token is None:
            return None, k
        base = ORDINAL_WORDS.get(token.text) or ordinal_number(token)
        if base is None:
            return None, k
        if base > 0 and self.word(k + 1) == "to" and self.word(k + 2) == "last":
            return -base, k + 3
        if base > 0 and self.word(k + 1) == "last":
            return -base, k + 2
        return base, k + 1

    def _read_ordinals(self, j: int) -> tuple[list[int], int]:
        found: list[int] = []
        while True:
            value, k = self._read_one_ordinal(j)
            if value is None:
                return found, j
            found.append(value)
            j = k
            if self.word(j) in ("and", ",") and self._read_one_ordinal(j + 1)[0] is not None:
                j += 1
                continue
            return found, j

    def _read_weekdays(self, j: int) -> tuple[list[int], int, bool]:
        found: list[int] = []
        used_or = False
        while self.word(j) in WEEKDAY_WORDS:
            found.extend(WEEKDAY_WORDS[self.word(j)])
            j += 1
            if self.word(j - 1).startswith("weekend") and self.word(j) in ("day", "days"):
                j += 1
            if (
                self.word(j) == ","
                and self.word(j + 1) in LIST_WORDS
                and self.word(j + 2) in WEEKDAY_WORDS
            ):
                j += 1
            if self.word(j) in LIST_WORDS and self.word(j + 1) in WEEKDAY_WORDS:
                used_or = used_or or self.word(j) == "or"
                j += 1
                continue
            break
        return found, j, used_or

    def clause_ordinal(self, i: int) -> int | None:
        ordinals, j = self._read_ordinals(i)
        if not ordinals:
            return None
        word, state = self.word(j), self.state
        if word in ("day", "days"):
            if any(abs(n) > 31 for n in ordinals):
                raise self.fail("a month has at most 31 days", i, j + 1)
            state.monthdays.update(ordinals)
            k, part = j + 1, "BYMONTHDAY"
        elif word in WEEKDAY_WORDS:
            days, k, used_or = self._read_weekdays(j)
            if used_or or word.startswith("weekday") or word.startswith("weekend"):
                state.days.update(ByDay(d) for d in days)
                state.setpos.update(ordinals)
                part = "BYSETPOS"
            else:
                state.days.update(ByDay(d, n) for d in days for n in ordinals)
                part = "BYDAY"
        else:
            return None
        if self.word(k) == "of" and self.word(k + 1) in MONTH_WORDS:
            months, k = self._read_months(k + 1)
            state.months.update(months)
        state.spans[part] = self.span(i, k)
        return k

    def day_number_at(self, j: int) -> int | None:
        """A day of the month at `j`, unless the number counts something ("10 times", "2 weeks")."""
        following = self.word(j + 1)
        if following in COUNT_WORDS or unit_of(following) is not None:
            return None
        return self.daynum(j)

    def _read_daynums(self, j: int) -> tuple[list[int], int]:
        found: list[int] = []
        while (value := self.day_number_at(j)) is not None:
            found.append(value)
            j += 1
            if self.word(j) in ("and", ",") and self.day_number_at(j + 1) is not None:
                j += 1
        return found, j

    def clause_monthday(self, i: int) -> int | None:
        token, j = self.tok(i), i
        if self.word(i) == "day" and self.day_number_at(i + 1) is not None:
            j = i + 1
        elif token is None or not (
            token.kind == "ordnum"
            or (token.kind == "num" and self.word(i - 1) in ("the", "on", "day"))
            or (token.kind == "num" and self._month_follows(i + 1))
        ):
            return None
        days, k = self._read_daynums(j)
        if not days:
            return None
        if any(d > 31 or d < 1 for d in days):
            raise self.fail("a day of the month must be 1st to 31st (or the last day)", i, k)
        if self.word(k) in ("day", "days"):
            k += 1
        if self.word(k) == "of" and self.word(k + 1) in MONTH_WORDS:
            k += 1
        if self.word(k) in MONTH_WORDS:
            months, k = self._read_months(k)
            self._add_dates({(m, d) for m in months for d in days}, i, k)
            return k
        self.state.monthdays.update(days)
        self.state.spans["BYMONTHDAY"] = self.span(i, k)
        return k

    def _month_follows(self, j: int) -> bool:
        return self.word(j) in MONTH_WORDS or (
            self.word(j) == "of" and self.word(j + 1) in MONTH_WORDS
        )

    def _read_months(self, j: int) -> tuple[list[int], int]:
        found: list[int] = []
        while self.word(j) in MONTH_WORDS:
            found.append(MONTH_WORDS[self.word(j)])
            j += 1
            if self.word(j) in LIST_WORDS and self.word(j + 1) in MONTH_WORDS:
                j += 1
        return found, j

    def clause_month(self, i: int) -> int | None:
        if self.word(i) not in MONTH_WORDS:
            return None
        months, k = self._read_months(i)
        days, end = self._read_daynums(k)
        if not days:
            self.state.months.update(months)
            self.state.spans["BYMONTH"] = self.span(i, k)
            return k
        dates = {(m, d) for m in months for d in days}
        while self.word(end) in LIST_WORDS and self.word(end + 1) in MONTH_WORDS:
            months, k = self._read_months(end + 1)
            days, after = self._read_daynums(k)
            if not days:
                break  # "jan 1 and march": the bare month is a clause of its own
            dates |= {(m, d) for m in months for d in days}
            end = after
        self._add_dates(dates, i, end)
        return end

    def _add_dates(self, dates: set[tuple[int, int]], i: int, j: int) -> None:
        for month, day in sorted(dates):
            if day > _MAX_DAY[month]:
                raise self.fail(f"{MONTH_NAMES[month]} has no day {day}", i, j)
        self.state.dates.update(dates)
        self.state.spans["BYMONTHDAY"] = self.span(i, j)

    def clause_weekdays(self, i: int) -> int | None:
        days, k, _ = self._read_weekdays(i)
        if not days:
            return None
        self.state.days.update(ByDay(d) for d in days)
        self.state.spans.setdefault("BYDAY", self.span(i, k))
        return k
