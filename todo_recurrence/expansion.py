"""Naive wall-clock expansion of a rule with dateutil, made bounded and restartable.

dateutil's iterator is used as-is for the calendar work, but wrapped because:

* it searches until year 9999 when a rule never matches (seconds of CPU for a
  DAILY rule), so each search runs in a window that is mapped into the last
  400-year Gregorian cycle (the calendar repeats exactly every 400 years), where
  dateutil's own end-of-calendar stop bounds it; windows continue only while
  the gap since the last hit is under `HORIZON_YEARS`;
* it derives missing BY-parts from DTSTART and applies BYSETPOS to a truncated
  first week, so every expansion starts at a FREQ period boundary with all
  defaults made explicit (`resolve`), and DTSTART is applied afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

from .checks import max_set_size, month_can_match
from .model import ByDay, Freq, RuleParts
from .rules import dateutil_rule

CYCLE_YEARS = 400
HORIZON_YEARS = 100
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


def _period_index(freq: Freq, wkst: int, moment: datetime) -> int:
    day = moment.toordinal()
    if freq is Freq.YEARLY:
        return moment.year
    if freq is Freq.MONTHLY:
        return moment.year * 12 + moment.month - 1
    if freq is Freq.WEEKLY:
        return (day - (moment.weekday() - wkst) % 7) // 7
    if freq is Freq.DAILY:
        return day
    if freq is Freq.HOURLY:
        return day * 24 + moment.hour
    return (day * 24 + moment.hour) * 60 + moment.minute


def _period_begin(freq: Freq, wkst: int, index: int) -> datetime:
    if freq is Freq.YEARLY:
        return datetime(index, 1, 1)
    if freq is Freq.MONTHLY:
        return datetime(index // 12, index % 12 + 1, 1)
    if freq is Freq.WEEKLY:
        return datetime.combine(date.fromordinal(index * 7 + (wkst + 1) % 7), datetime.min.time())
    if freq is Freq.DAILY:
        return datetime.combine(date.fromordinal(index), datetime.min.time())
    if freq is Freq.HOURLY:
        return datetime.combine(date.fromordinal(index // 24), datetime.min.time()).replace(
            hour=index % 24
        )
    days, minutes = divmod(index, 24 * 60)
    return datetime.combine(date.fromordinal(days), datetime.min.time()) + timedelta(
        minutes=minutes
    )


def aligned_begin(parts: RuleParts, start: datetime, lo: datetime) -> datetime:
    """Start of the last FREQ period on `start`'s INTERVAL grid that begins at or before `lo`."""
    first = _period_index(parts.freq, parts.wkst, start)
    steps = max(0, (_period_index(parts.freq, parts.wkst, lo) - first) // parts.interval)
    return _period_begin(parts.freq, parts.wkst, first + steps * parts.interval)


def can_ever_match(parts: RuleParts, start: datetime) -> bool:
    """Cheap proof of emptiness for the common never-matching rules (saves a bounded search)."""
    months = set(parts.bymonth or range(1, 13))
    if parts.freq is Freq.MONTHLY:
        months &= {(start.month - 1 + k * parts.interval) % 12 + 1 for k in range(12)}
    if not any(month_can_match(parts, month) for month in months):
        return False
    if parts.bysetpos and min(abs(p) for p in parts.bysetpos) > max_set_size(parts):
        return False
    if parts.freq is Freq.DAILY and parts.byday:
        reachable = {(start.weekday() + k * parts.interval) % 7 for k in range(7)}
        return bool(reachable & {d.weekday for d in parts.byday})
    return True


def _shift(moment: datetime, cycles: int) -> datetime:
    return moment.replace(year=moment.year + cycles * CYCLE_YEARS)


def _window(parts: RuleParts, begin: datetime, cycles: int) -> Iterator[datetime]:
    """dateutil candidates from `begin`, computed `cycles` 400-year cycles later, shifted back."""
    try:
        source = dateutil_rule(parts, _shift(begin, cycles))
        for moment in source:
            if moment >= _LAST_SAFE:
                return
            yield _shift(moment, -cycles)
    except (ValueError, OverflowError):
        # dateutil signals "no candidates possible" and end-of-calendar this way.
        return


def naive_candidates(parts: RuleParts, start: datetime, lo: datetime) -> Iterator[datetime]:
    """Wall-clock candidates of the series starting at `start`, from around `lo` on, ascending.

    `parts` must already be resolved against `start`. Candidates before `start`
    are dropped; some before `lo` may be yielded (callers filter by instant).
    """
    if not can_ever_match(parts, start):
        return
    lo = origin = max(lo, start)
    last: datetime | None = None
    while True:
        begin = aligned_begin(parts, start, lo)
        cycles = (9600 - (lo.year - lo.year % CYCLE_YEARS)) // CYCLE_YEARS
        if lo.year % CYCLE_YEARS == CYCLE_YEARS - 1:
            cycles -= 1  # lo is in the last year of its cycle: keep a full window ahead of it
        while begin.year + cycles * CYCLE_YEARS < 1:
            cycles += 1
        for moment in _window(parts, begin, cycles):
            if moment < start or (last is not None and moment <= last):
                continue
            last = moment
            yield moment
        end = _shift(_LAST_SAFE, -cycles)
        if end.year - (last or origin).year >= HORIZON_YEARS:
            return
        lo = end
