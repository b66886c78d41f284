"""Naive wall-clock expansion of a rule with dateutil, made bounded and restartable.

dateutil's iterator is used as-is for the calendar work, but wrapped because:

* it does not return between two matches however many periods that takes,
  up to the year 9999 when a rule never matches. Each call is bounded:
  DAILY/HOURLY/MINUTELY rules are expanded one run of allowed days at a time
  (`day_runs`); WEEKLY/MONTHLY/YEARLY ones in windows mapped into the last
  400-year Gregorian cycle (the calendar repeats exactly every 400 years),
  where dateutil's own end-of-calendar stop bounds each call to at most 400
  years of weeks or longer periods. Between calls and at every candidate the
  running call's `budget.Meter` is charged and checked. A search that has
  seen nothing for `HORIZON_YEARS` (and `HORIZON_STEPS` INTERVAL steps)
  stops quietly;
* it derives missing BY-parts from DTSTART and applies BYSETPOS to a truncated
  first week, so every expansion starts at a FREQ period boundary with all
  defaults made explicit (`resolve`), and DTSTART is applied afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from math import gcd

from .budget import Meter, active_meter
from .checks import max_set_size, month_can_match
from .day_runs import PER_DAY, day_candidates
from .model import ByDay, Freq, RuleParts
from .periods import grid_index, past_horizon, period_begin, period_index
from .rules import dateutil_candidates, emit_rule

CYCLE_YEARS = 400
_LAST_SAFE = datetime(9999, 12, 1)  # dateutil may step past 9999-12-31 and raise in the last week


def resolve(
    parts: RuleParts, start: datetime, *, days: bool = True, times: bool = True
) -> RuleParts:
    """Spell out the BY-parts dateutil would take from `start` (same conditions as dateutil)."""
    out = parts
    if days and not (parts.bymonthday or parts.byday):
        if parts.freq is Freq.YEARLY:
            out = replace(out, bymonth=parts.bymonth or (start.month,), bymonthday=(start.day,))
        elif parts.freq is Freq.MONTHLY:
            out = replace(out, bymonthday=(start.day,))
        elif parts.freq is Freq.WEEKLY:
            out = replace(out, byday=(ByDay(start.weekday()),))
    if times:
        if parts.freq is Freq.MINUTELY:
            out = replace(out, bysecond=parts.bysecond or (start.second,))
        elif parts.freq is Freq.HOURLY:
            out = replace(out, byminute=parts.byminute or (start.minute,))
            out = replace(out, bysecond=parts.bysecond or (start.second,))
        else:
            out = replace(
                out,
                byhour=parts.byhour or (start.hour,),
                byminute=parts.byminute or (start.minute,),
                bysecond=parts.bysecond or (start.second,),
            )
    return out


def _weekday_reachable(parts: RuleParts, start: datetime) -> bool:
    """Whether the INTERVAL grid of a daily or sub-daily rule ever lands on a BYDAY weekday.

    The grid visits exactly the periods of the week congruent to `start`'s
    modulo gcd(INTERVAL, periods per week); the week's periods are counted
    from Monday 00:00 (ordinal 1 is a Monday).
    """
    per_day = PER_DAY[parts.freq]
    step = gcd(parts.interval, 7 * per_day)
    residue = (period_index(parts.freq, 0, start) - per_day) % step
    for day in parts.byday:
        first = day.weekday * per_day
        if first + (residue - first) % step < first + per_day:
            return True
    return False


def can_ever_match(parts: RuleParts, start: datetime) -> bool:
    """Cheap proof of emptiness for the common never-matching rules (saves a bounded search)."""
    months = set(parts.bymonth or range(1, 13))
    if parts.freq is Freq.MONTHLY:
        months &= {(start.month - 1 + k * parts.interval) % 12 + 1 for k in range(12)}
    if not any(month_can_match(parts, month) for month in months):
        return False
    if parts.bysetpos and min(abs(p) for p in parts.bysetpos) > max_set_size(parts):
        return False
    if parts.freq in PER_DAY and parts.byday:
        return _weekday_reachable(parts, start)
    return True


def _shift(moment: datetime, cycles: int) -> datetime:
    return moment.replace(year=moment.year + cycles * CYCLE_YEARS)


def _window(parts: RuleParts, begin: datetime, cycles: int) -> Iterator[datetime]:
    """dateutil candidates from `begin`, computed `cycles` 400-year cycles later, shifted back."""
    for moment in dateutil_candidates(parts, _shift(begin, cycles)):
        if moment >= _LAST_SAFE:
            return
        try:
            yield _shift(moment, -cycles)
        except ValueError:  # computed a cycle early, so the real date is past the year 9999
            return


def _windows(parts: RuleParts, start: datetime, lo: datetime, meter: Meter) -> Iterator[datetime]:
    """Candidates of a WEEKLY/MONTHLY/YEARLY series from around `lo` on, one window per call."""
    lo = anchor = max(lo, start)
    last: datetime | None = None
    while True:
        begin = period_begin(parts.freq, parts.wkst, grid_index(parts, start, lo))
        cycles = (9600 - (lo.year - lo.year % CYCLE_YEARS)) // CYCLE_YEARS
        if lo.year % CYCLE_YEARS == CYCLE_YEARS - 1:
            cycles -= 1  # lo is in the last year of its cycle: keep a full window ahead of it
        while begin.year + cycles * CYCLE_YEARS < 1:
            cycles += 1
        # The window ends where its shifted copy reaches _LAST_SAFE; computed a
        # cycle early (cycles < 0) it runs to the real end of the calendar.
        end = _shift(_LAST_SAFE, -cycles) if cycles >= 0 else None
        periods = period_index(parts.freq, parts.wkst, end or _LAST_SAFE) - period_index(
            parts.freq, parts.wkst, begin
        )
        meter.spend(max(1, periods // parts.interval))
        for moment in _window(parts, begin, cycles):
            meter.candidate()
            if moment < start or (last is not None and moment <= last):
                continue
            last = anchor = moment
            yield moment
        if end is None or past_horizon(parts, anchor, end):
            return
        lo = end


def naive_candidates(parts: RuleParts, start: datetime, lo: datetime) -> Iterator[datetime]:
    """Wall-clock candidates of the series starting at `start`, from around `lo` on, ascending.

    `parts` must already be resolved against `start`. Candidates before `start`
    are dropped; some before `lo` may be yielded (callers filter by instant).
    Raises RecurrenceTooExpensive when the running call's budget runs out.
    """
    if not can_ever_match(parts, start):
        return
    meter = active_meter(lambda: emit_rule(parts))
    if parts.freq in PER_DAY:
        yield from day_candidates(parts, start, lo, meter)
    else:
        yield from _windows(parts, start, lo, meter)
