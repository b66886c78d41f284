"""English description of a rule, generated from its canonical parts.

Text is always derived from the rule (never kept from user input), so two
equal rules read the same and the text changes exactly when meaning does.
Descriptions of rules that came from phrases read back to the same rule.
"""

from __future__ import annotations

from datetime import tzinfo

from .model import WEEKDAYS, WEEKEND, Basis, ByDay, Freq, RuleParts

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("", "January", "February", "March", "April", "May", "June", "July",
               "August", "September", "October", "November", "December")  # fmt: skip
_UNITS = {
    Freq.YEARLY: "year", Freq.MONTHLY: "month", Freq.WEEKLY: "week",
    Freq.DAILY: "day", Freq.HOURLY: "hour", Freq.MINUTELY: "minute",
}  # fmt: skip
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


def numbered(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st..."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ordinal_word(n: int) -> str:
    """first..fifth, last, "2nd to last", "10th"."""
    if n in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[n]
    return numbered(n) if n > 0 else f"{numbered(-n)} to last"


def join(items: list[str], conjunction: str = "and") -> str:
    """a / a and b / a, b and c."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _monthday(day: int) -> str:
    if day > 0:
        return numbered(day)
    return "last day" if day == -1 else f"{numbered(-day)} to last day"


def _plain_weekly(parts: RuleParts) -> bool:
    return (
        parts.freq is Freq.WEEKLY
        and parts.interval == 1
        and bool(parts.byday)
        and not parts.bysetpos
        and all(d.n is None for d in parts.byday)
    )


def _head(parts: RuleParts) -> str:
    if _plain_weekly(parts):
        days = tuple(d.weekday for d in parts.byday)
        if days == WEEKDAYS:
            return "every weekday"
        return "every " + join([DAY_NAMES[d] for d in days])
    unit = _UNITS[parts.freq]
    return f"every {unit}" if parts.interval == 1 else f"every {parts.interval} {unit}s"


def _day_set(days: tuple[ByDay, ...]) -> str:
    weekdays = tuple(d.weekday for d in days)
    if weekdays == WEEKDAYS:
        return "weekday"
    if weekdays == WEEKEND:
        return "weekend day"
    return join([DAY_NAMES[d] for d in weekdays], "or")


def _days(parts: RuleParts) -> list[str]:
    out: list[str] = []
    single_date = len(parts.bymonth) == 1 and len(parts.bymonthday) == 1 and parts.bymonthday[0] > 0
    if parts.freq is Freq.YEARLY and single_date and not parts.byday:
        return [f"on {MONTH_NAMES[parts.bymonth[0]]} {parts.bymonthday[0]}"]
    if parts.bymonth:
        out.append("in " + join([MONTH_NAMES[m] for m in parts.bymonth]))
    if parts.bymonthday:
        out.append("on the " + join([_monthday(d) for d in parts.bymonthday]))
    if parts.byday and parts.bysetpos:
        positions = join([ordinal_word(p) for p in parts.bysetpos])
        out.append(f"on the {positions} {_day_set(parts.byday)}")
    elif parts.byday and not _plain_weekly(parts):
        items = [
            DAY_NAMES[d.weekday]
            if d.n is None
            else f"the {ordinal_word(d.n)} {DAY_NAMES[d.weekday]}"
            for d in parts.byday
        ]
        if parts.freq is Freq.WEEKLY and tuple(d.weekday for d in parts.byday) == WEEKDAYS:
            items = ["weekdays"]
        out.append("on " + join(items))
    return out


def _clock(hour: int, minute: int, second: int, with_seconds: bool) -> str:
    return f"{hour:02d}:{minute:02d}:{second:02d}" if with_seconds else f"{hour:02d}:{minute:02d}"


def _times(parts: RuleParts) -> list[str]:
    if parts.byhour and not parts.freq.sub_daily:
        seconds = parts.bysecond or (0,)
        with_seconds = any(seconds)
        clocks = [
            _clock(h, m, s, with_seconds)
            for h in parts.byhour
            for m in parts.byminute or (0,)
            for s in seconds
        ]
        return ["at " + join(clocks)]
    out: list[str] = []
    if parts.byhour:
        out.append("in hours " + join([str(h) for h in parts.byhour]))
    if parts.byminute:
        out.append("at minute " + join([str(m) for m in parts.byminute]))
    if parts.bysecond:
        out.append("at second " + join([str(s) for s in parts.bysecond]))
    return out


def _until(parts: RuleParts, zone: tzinfo | None) -> str:
    if parts.until is None:
        raise ValueError("the rule has no UNTIL")
    local = parts.until.astimezone(zone) if zone is not None else parts.until
    day = local.date().isoformat()
    if (local.hour, local.minute, local.second) == (23, 59, 59):
        return day
    clock = _clock(local.hour, local.minute, local.second, local.second != 0)
    return f"{day} {clock}" + ("" if zone is not None else " UTC")


def describe(parts: RuleParts, basis: Basis, zone: tzinfo | None) -> str:
    """E.g. "every 2 weeks on Monday and Thursday at 09:00 after completion, 10 times".

    `zone` is the task's zone, used to show UNTIL as a local date.
    """
    text = " ".join([_head(parts), *_days(parts), *_times(parts)])
    if parts.wkst != 0:
        text += f" (weeks start on {DAY_NAMES[parts.wkst]})"
    if basis is Basis.COMPLETION:
        text += " after completion"
    if parts.count is not None:
        text += f", {parts.count} time" + ("s" if parts.count != 1 else "")
    if parts.until is not None:
        text += ", until " + _until(parts, zone)
    return text
