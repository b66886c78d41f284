"""The FREQ/INTERVAL grid: numbering FREQ periods and finding the ones a series visits.

dateutil counts INTERVAL from DTSTART's period, so an expansion may only be
restarted at a period on that grid; these helpers find such periods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .model import Freq, RuleParts

# A search that has seen no candidate for this long stops quietly: such a
# rule has no next instance worth showing. The steps keep rules with a long
# INTERVAL going: the dates a yearly grid lands on repeat their weekday and
# leap-year pattern within 28 steps (inside a century).
HORIZON_YEARS = 100
HORIZON_STEPS = 28


def period_index(freq: Freq, wkst: int, moment: datetime) -> int:
    """Number of the FREQ period holding `moment` (consecutive periods, consecutive numbers)."""
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


def period_begin(freq: Freq, wkst: int, index: int) -> datetime:
    """First wall-clock second of period `index` (raises past the end of the calendar)."""
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


def grid_index(parts: RuleParts, start: datetime, moment: datetime, *, ceil: bool = False) -> int:
    """Index of the grid period holding `moment` or the last one before it (`ceil`: first at/after).

    Never before `start`'s own period, the grid's origin.
    """
    first = period_index(parts.freq, parts.wkst, start)
    offset = max(0, period_index(parts.freq, parts.wkst, moment) - first)
    steps = -(-offset // parts.interval) if ceil else offset // parts.interval
    return first + steps * parts.interval


def begin_or_none(parts: RuleParts, index: int) -> datetime | None:
    """Start of period `index`, or None when it is past the end of the calendar."""
    try:
        return period_begin(parts.freq, parts.wkst, index)
    except (ValueError, OverflowError):
        return None


def past_horizon(parts: RuleParts, anchor: datetime, moment: datetime) -> bool:
    """Whether a search at `moment` whose last candidate (or origin) was `anchor` should stop."""
    steps = period_index(parts.freq, parts.wkst, moment) - period_index(
        parts.freq, parts.wkst, anchor
    )
    return moment.year - anchor.year >= HORIZON_YEARS and steps >= HORIZON_STEPS * parts.interval
