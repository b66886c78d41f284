"""English recurrence phrases ("every 2 weeks on monday at 9am") to rule parts.

The phrase is read as a sequence of independent clauses (frequency, days,
time, end, basis) in any order, with filler words ("and", "on", "the",
"every") skipped. Words no clause accepts are quoted back verbatim, so users
see exactly what was not understood. The result is validated by the same
checks as RRULE input, with errors pointing at the user's words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from .lexicon import FILLERS
from .model import Basis, Freq, RecurrenceError, RuleParts, signed_sorted, sorted_days
from .phrase_base import PhraseState
from .phrase_terms import TermClauses
from .rules import validate


class PhraseReader(TermClauses):
    """Runs the clauses left to right over the tokens of one phrase."""

    def read(self) -> PhraseState:
        """Consume every token or raise, naming the first run of words nothing accepted."""
        i = 0
        while i < len(self.tokens):
            if self.word(i) in FILLERS:
                i += 1
                continue
            j = self._any_clause(i)
            if j is None:
                k = i + 1
                while k < len(self.tokens) and self.word(k) not in FILLERS and not self._probe(k):
                    k += 1
                raise self.fail(None, i, k)
            i = j
        return self.state

    def _clauses(self) -> tuple[Callable[[int], int | None], ...]:
        # Order matters only where clauses could share a first word: counts
        # ("10 times") before frequencies ("10 days"), ordinal weekdays
        # ("2nd tuesday") before days of month ("2nd").
        return (
            self.clause_completion, self.clause_until, self.clause_count, self.clause_time,
            self.clause_frequency, self.clause_ordinal, self.clause_monthday, self.clause_month,
            self.clause_weekdays,
        )  # fmt: skip

    def _any_clause(self, i: int) -> int | None:
        for clause in self._clauses():
            j = clause(i)
            if j is not None:
                return j
        return None

    def _probe(self, i: int) -> bool:
        """Whether some clause starts at `i` (only sizes an error's "near" text)."""
        try:
            return self._any_clause(i) is not None
        except RecurrenceError:
            return True


def _infer_freq(state: PhraseState, months: set[int], monthdays: set[int]) -> Freq | None:
    """Frequency implied by the days named, for phrases like "the 2nd tuesday of march"."""
    ordinal = any(day.n is not None for day in state.days) or bool(state.setpos)
    if months and (monthdays or ordinal):
        return Freq.YEARLY
    if monthdays or ordinal:
        return Freq.MONTHLY
    if state.days:
        return Freq.WEEKLY
    return Freq.YEARLY if months else None


def _clock_parts(
    state: PhraseState, freq: Freq, shown: str
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    near = state.spans.get("BYHOUR")
    if state.minutes:
        if state.times:
            raise RecurrenceError(shown, "give either times of day or minutes, not both", near)
        return (), tuple(sorted(state.minutes)), ()
    if not state.times:
        return (), (), ()
    if freq.sub_daily:
        raise RecurrenceError(shown, "a time of day needs a daily or longer repeat", near)
    hours = {t[0] for t in state.times}
    minutes = {t[1] for t in state.times}
    seconds = {t[2] for t in state.times}
    if len(hours) * len(minutes) * len(seconds) != len(state.times):
        raise RecurrenceError(
            shown, "several times of day must share their minutes (e.g. 9am and 5pm)", near
        )
    return tuple(sorted(hours)), tuple(sorted(minutes)), tuple(sorted(seconds))


def _to_parts(state: PhraseState, shown: str) -> RuleParts:
    months, monthdays = set(state.months), set(state.monthdays)
    if state.dates:
        date_months = {m for m, _ in state.dates}
        date_days = {d for _, d in state.dates}
        if len(date_months) * len(date_days) != len(state.dates) or months or monthdays:
            raise RecurrenceError(
                shown,
                "one rule can only hold dates that share their day of the month",
                state.spans.get("BYMONTHDAY"),
            )
        months, monthdays = date_months, date_days
    freq = state.freq or _infer_freq(state, months, monthdays)
    if freq is None:
        raise RecurrenceError(
            shown, 'say how often it repeats, e.g. "every day" or "every 2 weeks"'
        )
    byhour, byminute, bysecond = _clock_parts(state, freq, shown)
    return RuleParts(
        freq=freq,
        interval=state.interval,
        bymonth=tuple(sorted(months)),
        bymonthday=signed_sorted(monthdays),
        byday=sorted_days(state.days),
        bysetpos=signed_sorted(state.setpos),
        byhour=byhour,
        byminute=byminute,
        bysecond=bysecond,
        count=state.count,
        until=state.until,
    )


def parse_phrase(text: str, zone: tzinfo, shown: str) -> tuple[RuleParts, Basis]:
    """Rule parts and basis of an English phrase; errors quote `shown`."""
    state = PhraseReader(text, zone, shown).read()
    parts = _to_parts(state, shown)
    try:
        validate(parts, shown)
    except RecurrenceError as exc:
        part = (exc.near or "").split("=")[0]
        raise RecurrenceError(shown, exc.reason, state.spans.get(part)) from None
    return parts, state.basis
