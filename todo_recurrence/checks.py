"""Cross-part validation of a rule, independent of how it was written.

Both the RRULE parser and the phrase parser end here, so "impossible" means
the same thing for both: a rule that can never produce a date is rejected
with a reason instead of silently never firing.
"""

from __future__ import annotations

from .model import ByDay, Freq, RecurrenceError, RuleParts

_MONTH_LENGTHS = {2: (28, 29), 4: (30,), 6: (30,), 9: (30,), 11: (30,)}
_ORDINAL_FREQS = (Freq.MONTHLY, Freq.YEARLY)


def month_lengths(month: int) -> tuple[int, ...]:
    """Every length `month` can have (February depends on the year)."""
    return _MONTH_LENGTHS.get(month, (31,))


def _days_in(monthdays: tuple[int, ...], length: int) -> set[int]:
    return {d if d > 0 else length + d + 1 for d in monthdays if -length <= d <= length}


def _ordinal_days(day: ByDay, length: int) -> set[int]:
    """Day numbers on which the n-th (or n-th from last) weekday can fall."""
    if day.n is None:
        raise ValueError(f"{day} is not a numbered weekday")
    if day.n > 0:
        return set(range(7 * day.n - 6, 7 * day.n + 1)) & set(range(1, length + 1))
    last = length + 7 * (day.n + 1)
    return set(range(last - 6, last + 1)) & set(range(1, length + 1))


def month_can_match(parts: RuleParts, month: int) -> bool:
    """Whether some year's `month` has a day allowed by BYMONTHDAY and BYDAY."""
    in_month = parts.freq is Freq.MONTHLY or (parts.freq is Freq.YEARLY and bool(parts.bymonth))
    ordinals = [d for d in parts.byday if d.n is not None] if in_month else []
    plain = any(d.n is None for d in parts.byday)
    for length in month_lengths(month):
        days = _days_in(parts.bymonthday, length) if parts.bymonthday else set(range(1, length + 1))
        if not days:
            continue
        if not ordinals or plain:
            return True
        if any(days & _ordinal_days(day, length) for day in ordinals):
            return True
    return False


def max_set_size(parts: RuleParts) -> int:
    """Upper bound of candidates in one FREQ period, which is what BYSETPOS indexes."""
    if parts.freq is Freq.MINUTELY:
        times = max(1, len(parts.bysecond))
    elif parts.freq is Freq.HOURLY:
        times = max(1, len(parts.byminute)) * max(1, len(parts.bysecond))
    else:
        times = (
            max(1, len(parts.byhour)) * max(1, len(parts.byminute)) * max(1, len(parts.bysecond))
        )
    months = len(parts.bymonth) or 12
    if parts.freq in (Freq.DAILY, Freq.HOURLY, Freq.MINUTELY):
        days = 1
    elif parts.freq is Freq.WEEKLY:
        days = len({d.weekday for d in parts.byday}) or 1
    elif parts.freq is Freq.MONTHLY:
        days = sum(5 if d.n is None else 1 for d in parts.byday) or 31
        days = min(days, len(parts.bymonthday) or 31, 31)
    else:
        per_plain = 5 * months if parts.bymonth else 53
        per_ordinal = months if parts.bymonth else 1
        days = sum(per_plain if d.n is None else per_ordinal for d in parts.byday) or 366
        days = min(days, (len(parts.bymonthday) * months) or 366, 366)
    return days * times


def check_parts(parts: RuleParts, shown: str, *, reject_empty: bool = True) -> None:
    """Reject contradictory rules, and (if `reject_empty`) never-matching ones, naming the part."""
    byday = _show("BYDAY", parts)
    ordinals = [d for d in parts.byday if d.n is not None]
    if ordinals and parts.freq not in _ORDINAL_FREQS:
        raise RecurrenceError(
            shown, 'numbered weekdays like "-1FR" need FREQ=MONTHLY or FREQ=YEARLY', byday
        )
    limit = 53 if parts.freq is Freq.YEARLY and not parts.bymonth else 5
    if any(abs(d.n) > limit for d in ordinals if d.n is not None):
        raise RecurrenceError(
            shown, f"a weekday can only be numbered 1 to {limit} or -1 to -{limit}", byday
        )
    if parts.bymonthday and parts.freq is Freq.WEEKLY:
        raise RecurrenceError(
            shown, "days of the month cannot be used with a weekly rule", _show("BYMONTHDAY", parts)
        )
    if parts.bysetpos and not parts.byday:
        raise RecurrenceError(
            shown, "BYSETPOS picks among BYDAY days, so it needs BYDAY", _show("BYSETPOS", parts)
        )
    if parts.count is not None and parts.until is not None:
        raise RecurrenceError(
            shown,
            "give either a number of times (COUNT) or an end (UNTIL), not both",
            f"COUNT={parts.count};UNTIL",
        )
    if reject_empty:
        _check_not_empty(parts, shown)


def _check_not_empty(parts: RuleParts, shown: str) -> None:
    months = parts.bymonth or tuple(range(1, 13))
    if not any(month_can_match(parts, month) for month in months):
        raise RecurrenceError(
            shown, "no month has such a day, so it would never happen", _day_near(parts)
        )
    if parts.bysetpos and min(abs(p) for p in parts.bysetpos) > max_set_size(parts):
        raise RecurrenceError(
            shown,
            "BYSETPOS is larger than the number of candidates in each period",
            _show("BYSETPOS", parts),
        )


def _day_near(parts: RuleParts) -> str:
    return _show("BYMONTHDAY" if parts.bymonthday else "BYDAY", parts)


def _show(name: str, parts: RuleParts) -> str:
    """The rule part as written in RRULE text, for error messages."""
    if name == "BYDAY":
        return "BYDAY=" + ",".join(d.code() for d in parts.byday)
    values: tuple[int, ...] = getattr(parts, name.lower())
    return f"{name}=" + ",".join(str(v) for v in values)
