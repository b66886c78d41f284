"""Non-day clauses of the phrase reader: frequency, time of day, end, basis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from .lexicon import (
    ADVERBS,
    COMPLETION_FILLERS,
    COMPLETION_WORDS,
    COUNT_WORDS,
    MONTH_WORDS,
    UNIT_WORDS,
    UNTIL_WORDS,
    WEEKDAY_WORDS,
    Token,
    clock_of,
    number_of,
    unit_of,
)
from .model import Basis, Freq
from .phrase_days import LIST_WORDS, DayClauses


class TermClauses(DayClauses):
    """Clauses for how often ("every 2 weeks"), when ("at 9am") and how long ("10 times")."""

    def clause_completion(self, i: int) -> int | None:
        if self.word(i) not in ("after", "from", "since"):
            return None
        j = i + 1
        while self.word(j) in COMPLETION_FILLERS:
            j += 1
        if self.word(j) not in COMPLETION_WORDS:
            return None
        j += 1
        if self.word(j) == "it":
            j += 1
        self.state.basis = Basis.COMPLETION
        return j

    def clause_until(self, i: int) -> int | None:
        if self.word(i) in UNTIL_WORDS:
            j = i + 1
        elif self.word(i) in ("ending", "ends", "end") and self.word(i + 1) in ("on", "by"):
            j = i + 2
        else:
            return None
        if self.word(j) == "the":
            j += 1
        found = self._read_date(j)
        if found is None:
            raise self.fail(
                'expected a date with a year, like "2027-03-01" or "march 1 2027"', i, j + 3
            )
        day, k = found
        clock = time(23, 59, 59)
        token = self.tok(k)
        if token is not None and token.kind in ("clock", "ampm"):
            hms = self._clock(token, k, bare_hour=False)
            clock, k = time(*hms), k + 1
        if self.state.until is not None or self.state.count is not None:
            raise self.fail("give only one end: a number of times or an until date", i, k)
        local = datetime.combine(day, clock).replace(tzinfo=self.zone)
        self.state.until = local.astimezone(UTC)
        self.state.spans["UNTIL"] = self.span(i, k)
        return k

    def _read_date(self, j: int) -> tuple[date, int] | None:
        token = self.tok(j)
        if token is None:
            return None
        if token.kind == "iso":
            year, month, day = (int(x) for x in token.text.split("-"))
            return self._date(year, month, day, j, j + 1), j + 1
        found = self._month_day(j)
        if found is None:
            return None
        month, day, k = found
        if self.word(k) == ",":
            k += 1
        year_token = self.tok(k)
        if year_token is None or year_token.kind != "num" or len(year_token.text) != 4:
            return None
        return self._date(int(year_token.text), month, day, j, k + 1), k + 1

    def _month_day(self, j: int) -> tuple[int, int, int] | None:
        """(month, day, next index) of "march 1" / "1st of march" / "1 march"."""
        first, second = self.daynum(j), self.daynum(j + 1)
        if self.word(j) in MONTH_WORDS and second is not None:
            return MONTH_WORDS[self.word(j)], second, j + 2
        if first is None:
            return None
        k = j + 2 if self.word(j + 1) == "of" else j + 1
        if self.word(k) not in MONTH_WORDS:
            return None
        return MONTH_WORDS[self.word(k)], first, k + 1

    def _date(self, year: int, month: int, day: int, i: int, j: int) -> date:
        try:
            return date(year, month, day)
        except ValueError:
            raise self.fail("that is not a real date", i, j) from None

    def clause_count(self, i: int) -> int | None:
        j = i + 1 if self.word(i) == "for" else i
        token = self.tok(j)
        if token is None:
            return None
        if token.kind == "times":
            value, end = int(token.text.strip("x")), j + 1
        else:
            number = number_of(token) if token.text != "other" else None
            if number is None or self.word(j + 1) not in COUNT_WORDS:
                return None
            value, end = number, j + 2
        if value < 1:
            raise self.fail("the number of times must be at least 1", i, end)
        if self.state.count is not None or self.state.until is not None:
            raise self.fail("give only one end: a number of times or an until date", i, end)
        self.state.count = value
        self.state.spans["COUNT"] = self.span(i, end)
        return end

    def _clock(self, token: Token, i: int, *, bare_hour: bool) -> tuple[int, int, int]:
        try:
            value = clock_of(token, bare_hour=bare_hour)
        except ValueError as exc:
            raise self.fail(str(exc), i, i + 1) from None
        if value is None:
            raise self.fail("expected a time of day", i, i + 1)
        return value

    def _is_clock(self, i: int, *, bare_hour: bool) -> bool:
        token = self.tok(i)
        if token is None or self.word(i + 1) in COUNT_WORDS or unit_of(self.word(i + 1)):
            return False
        try:
            return clock_of(token, bare_hour=bare_hour) is not None
        except ValueError:
            return True

    def clause_time(self, i: int) -> int | None:
        bare = self.word(i) == "at"
        if bare and self.word(i + 1) in ("minute", "minutes"):
            return self._minutes(i)
        j = i + 1 if bare else i
        if not self._is_clock(j, bare_hour=bare):
            if bare:
                raise self.fail(
                    'expected a time like "9am", "9:30 pm", "17:30" or "noon"', i, i + 2
                )
            return None
        while True:
            token = self.tok(j)
            if token is None:  # _is_clock checked this position holds a token
                raise self.fail("expected a time", j, j + 1)
            self.state.times.add(self._clock(token, j, bare_hour=bare))
            j += 1
            if self.word(j) in LIST_WORDS and self._is_clock(j + 1, bare_hour=bare):
                j += 1
                continue
            break
        self.state.spans["BYHOUR"] = self.span(i, j)
        return j

    def _minutes(self, i: int) -> int:
        j = i + 2
        while (token := self.tok(j)) is not None and token.kind == "num":
            if int(token.text) > 59:
                raise self.fail("minutes must be 0 to 59", j, j + 1)
            self.state.minutes.add(int(token.text))
            j += 2 if self.word(j + 1) in LIST_WORDS else 1
        if j == i + 2:
            raise self.fail("expected minute numbers", i, i + 3)
        self.state.spans["BYMINUTE"] = self.span(i, j)
        return j

    def _set_freq(self, freq: Freq, interval: int, i: int, j: int) -> int:
        state = self.state
        if interval < 1:
            raise self.fail("it must repeat at least every 1 unit", i, j)
        if state.freq is None:
            state.freq, state.interval = freq, interval
        elif state.freq is not freq or interval not in (1, state.interval):
            raise self.fail("it says two different frequencies", i, j)
        return j

    def clause_frequency(self, i: int) -> int | None:
        word = self.word(i)
        if word in ADVERBS:
            return self._set_freq(*ADVERBS[word], i, i + 1)
        token = self.tok(i)
        number = number_of(token) if token is not None else None
        if number is not None:
            unit = unit_of(self.word(i + 1))
            if unit is not None:
                return self._set_freq(unit, number, i, i + 2)
            if word == "other" and self.word(i + 1) in WEEKDAY_WORDS:
                return self._set_freq(Freq.WEEKLY, 2, i, i + 1)
            return None
        if word in UNIT_WORDS and not (word == "day" and self.day_number_at(i + 1) is not None):
            return self._set_freq(UNIT_WORDS[word], 1, i, i + 1)
        return None  # "day 15" is a day of the month, not "every day"
