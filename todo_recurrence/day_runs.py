"""Expansion of day-grid rules (DAILY, HOURLY, MINUTELY), one run of allowed days at a time.

dateutil passes over a day that BYMONTH/BYMONTHDAY/BYDAY reject without
yielding, and only looks at its `until` when it yields, so one call for a
rarely allowed day ("every minute of a Monday that is February 29") walks
decades without returning. For these frequencies the day parts only ever
keep or drop whole days (they take no ordinals, and BYSETPOS works inside
one day, hour or minute), so the days are filtered here on a cheap walk
over dates, and dateutil expands each run of allowed days from the rule
without its day parts: that rule yields at least once a day, so the run's
`until` ends each call promptly and the budget is checked between calls.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import MAXYEAR, date, datetime, time, timedelta

from .budget import Meter
from .model import Freq, RuleParts
from .periods import begin_or_none, grid_index, past_horizon
from .rules import dateutil_candidates

PER_DAY = {Freq.DAILY: 1, Freq.HOURLY: 24, Freq.MINUTELY: 24 * 60}  # FREQ periods in a day
# Allowed days per dateutil call: at most about 10,000 periods of work each.
_RUN_DAYS = {Freq.DAILY: 366, Freq.HOURLY: 31, Freq.MINUTELY: 7}
_DAY_END = time(23, 59, 59)
_SKIP_BATCH = 64


def day_filter(parts: RuleParts) -> Callable[[date], bool]:
    """Whether BYMONTH, BYMONTHDAY (negative: from the month's end) and BYDAY keep a day."""
    weekdays = frozenset(day.weekday for day in parts.byday)

    def allowed(day: date) -> bool:
        if parts.bymonth and day.month not in parts.bymonth:
            return False
        if weekdays and day.weekday() not in weekdays:
            return False
        if not parts.bymonthday:
            return True
        length = monthrange(day.year, day.month)[1]
        return day.day in parts.bymonthday or day.day - length - 1 in parts.bymonthday

    return allowed


def _next_month(parts: RuleParts, day: date) -> date | None:
    """First day of the next month BYMONTH allows (None: the calendar ends first)."""
    year, month = day.year, day.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if year > MAXYEAR:
            return None
        if not parts.bymonth or month in parts.bymonth:
            return date(year, month, 1)


def _following(parts: RuleParts, day: date) -> date | None:
    """The next day that may be allowed, jumping over months and days BYMONTH/BYMONTHDAY reject."""
    if parts.bymonth and day.month not in parts.bymonth:
        return _next_month(parts, day)
    if parts.bymonthday:
        length = monthrange(day.year, day.month)[1]
        days = {n if n > 0 else length + n + 1 for n in parts.bymonthday if -length <= n <= length}
        later = [n for n in days if n > day.day]
        return day.replace(day=min(later)) if later else _next_month(parts, day)
    return None if day == date.max else day + timedelta(days=1)


def _next_allowed(
    parts: RuleParts, allowed: Callable[[date], bool], day: date, anchor: datetime, meter: Meter
) -> date | None:
    """First allowed day after `day`; None at the calendar's end or past the search horizon.

    This is where rare rules spend their time, so it is a tight loop that
    settles with the budget every `_SKIP_BATCH` days.
    """
    skipped = 0
    following = _following(parts, day)
    while following is not None and not allowed(following):
        skipped += 1
        if skipped == _SKIP_BATCH:
            meter.spend(skipped)  # days or months looked at, however many periods they hold
            if past_horizon(parts, anchor, datetime.combine(following, time())):
                return None
            skipped = 0
        following = _following(parts, following)
    meter.spend(skipped + 1)
    return following


def day_candidates(
    parts: RuleParts, start: datetime, lo: datetime, meter: Meter
) -> Iterator[datetime]:
    """Candidates of a DAILY/HOURLY/MINUTELY series from around `lo` on (see `naive_candidates`)."""
    allowed = day_filter(parts)
    bare = replace(parts, bymonth=(), bymonthday=(), byday=())
    # Without day parts every day is allowed: a run is as long as a call may take.
    every_day = bare == parts
    run_days, per_day = _RUN_DAYS[parts.freq], PER_DAY[parts.freq]
    anchor = max(lo, start)
    index = grid_index(parts, start, anchor)
    while (begin := begin_or_none(parts, index)) is not None:
        if past_horizon(parts, anchor, begin):
            return
        day = end = begin.date()
        if not allowed(day):
            following = _next_allowed(parts, allowed, day, anchor, meter)
            if following is None:
                return
            # The grid's next period may fall on a later day: look at that one.
            index = grid_index(parts, start, datetime.combine(following, time()), ceil=True)
            continue
        if every_day:
            end = day + timedelta(days=min(run_days - 1, (date.max - day).days))
        while (end - day).days + 1 < run_days and end < date.max:
            if not allowed(end + timedelta(days=1)):
                break
            end += timedelta(days=1)
        meter.spend(max(1, ((end - day).days + 1) * per_day // parts.interval))
        for moment in dateutil_candidates(bare, begin, datetime.combine(end, _DAY_END)):
            meter.candidate()
            if moment >= start:
                anchor = moment
                yield moment
        if end == date.max:
            return
        index = grid_index(
            parts, start, datetime.combine(end + timedelta(days=1), time()), ceil=True
        )
