"""The line reader: each token starts a clause (tag, priority, reminder, recurrence, date,
time) or stays in the title. A field named twice keeps its first value; the second's words
stay in the title, so nothing a user typed is silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from todo_recurrence import Recurrence, RecurrenceError

from .language import DAY, HOUR, MINUTE, WEEK, Language
from .model import Field, Priority, Span
from .tokens import Token, tokenize
from .when import When, WhenReader

# The longest recurrence phrase tried, in tokens ("every 2 weeks on monday and thursday at
# 9am until 2027-03-01" has 13): each start word costs at most this many grammar calls.
MAX_PHRASE_TOKENS = 24
MAX_REMIND_MINUTES = 525_600  # a year, as a task's reminder allows
_MINUTES = {MINUTE: 1, HOUR: 60, DAY: 1440, WEEK: 10080}


@dataclass(frozen=True)
class RemindAt:
    """ "remind at 8am" / "remind tomorrow": completed once the due is known."""

    day: date | None
    clock: time | None


@dataclass
class Found:
    """What the clauses found, before the due and the recurrence are put together."""

    when: When | None = None
    clock: time | None = None
    phrase: Recurrence | None = None
    tags: list[str] = field(default_factory=list)
    priority: Priority | None = None
    minutes_before: list[int] = field(default_factory=list)
    remind_at: list[RemindAt] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    title: list[int] = field(default_factory=list)  # indices of the tokens left to the title


class LineReader(WhenReader):
    """Reads one line's tokens left to right."""

    def __init__(self, line: str, zone: ZoneInfo, now: datetime, language: Language) -> None:
        super().__init__(tokenize(line), language, now.astimezone(zone))
        self.line = line
        self.zone = zone
        self.found = Found()
        self._starts = {t.text for t in self.tokens} & language.recurrence_starts

    def read(self) -> Found:
        clauses: tuple[Callable[[int], int | None], ...] = (
            self._tag, self._priority, self._reminder, self._recurrence, self._due_date,
            self._due_time,
        )  # fmt: skip
        i = 0
        while i < len(self.tokens):
            for clause in clauses:
                end = clause(i)
                if end is not None:
                    i = end
                    break
            else:
                self.found.title.append(i)
                i += 1
        return self.found

    def _mark(self, i: int, j: int, kind: Field) -> int:
        self.found.spans.append(Span(self.tokens[i].start, self.tokens[j - 1].end, kind))
        return j

    def _tag(self, i: int) -> int | None:
        token = self.tokens[i]
        if token.kind != "tag":
            return None
        name = self.line[token.start + 1 : token.end].rstrip("-")
        if name.casefold() not in {tag.casefold() for tag in self.found.tags}:
            self.found.tags.append(name)
        return self._mark(i, i + 1, Field.TAG)

    def _priority(self, i: int) -> int | None:
        value = self.lang.priorities.get(self.word(i))
        if value is None or self.found.priority is not None:
            return None
        self.found.priority = value
        return self._mark(i, i + 1, Field.PRIORITY)

    def _stops_phrase(self, token: Token) -> bool:
        """Tokens that start a clause of another field end a recurrence phrase before them."""
        lang = self.lang
        return (
            token.kind in ("tag", "bang")
            or token.text in lang.priorities
            or token.text in lang.remind_words
        )

    def _recurrence(self, i: int) -> int | None:
        grammar = self.lang.recurrence
        if grammar is None or self.found.phrase is not None:
            return None
        word = self.word(i)
        if word not in self._starts and (self._starts or word not in self.lang.recurrence_adverbs):
            return None
        last = i + 1
        while last < min(len(self.tokens), i + MAX_PHRASE_TOKENS) and not self._stops_phrase(
            self.tokens[last]
        ):
            last += 1
        for end in range(last, i, -1):  # the longest phrase the grammar accepts
            if end - 1 > i and self.word(end - 1) in self.lang.recurrence_trailing:
                continue
            phrase = self.line[self.tokens[i].start : self.tokens[end - 1].end]
            try:
                self.found.phrase = grammar(phrase, self.zone)
            except RecurrenceError:
                continue
            return self._mark(i, end, Field.RECURRENCE)
        return None

    def _due_date(self, i: int) -> int | None:
        found = self.date_at(i)
        if found is None or self.found.when is not None:
            return None
        when, end = found
        if when.instant is not None and self.found.clock is not None:
            return None  # "5pm ... in 2 hours": one due only
        self.found.when = when
        return self._mark(i, end, Field.DUE)

    def _due_time(self, i: int) -> int | None:
        found = self.time_at(i)
        when = self.found.when
        if found is None or self.found.clock is not None:
            return None
        if when is not None and when.instant is not None:
            return None
        self.found.clock, end = found
        return self._mark(i, end, Field.DUE)

    def _reminder(self, i: int) -> int | None:
        lang = self.lang
        if self.word(i) not in lang.remind_words:
            return None
        j = i + 1
        while self.word(j) in lang.remind_fillers:
            j += 1
        amount = self.amount(j)
        if amount is not None and self.word(amount[2]) in lang.before_words:
            count, unit, end = amount
            minutes = count * _MINUTES.get(unit, 0)
            if not 0 < minutes <= MAX_REMIND_MINUTES:
                return None
            self.found.minutes_before.append(minutes)
            return self._mark(i, end + 1, Field.REMINDER)
        day: date | None = None
        clock: time | None = None
        end = j
        if (dated := self.date_at(end)) is not None and dated[0].day is not None:
            day, end = dated[0].day, dated[1]
        if (timed := self.time_at(end)) is not None:
            clock, end = timed
        if day is None and (dated := self.date_at(end)) is not None and dated[0].day is not None:
            day, end = dated[0].day, dated[1]
        if end == j:
            return None
        self.found.remind_at.append(RemindAt(day, clock))
        return self._mark(i, end, Field.REMINDER)
