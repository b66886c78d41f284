"""RRULE text: parse, validate and re-emit in one canonical form.

Canonical text matters because it is what services store and compare: the
same rule must always be spelled the same way (fixed part order, sorted
values, INTERVAL=1 omitted, UNTIL as a UTC instant).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, tzinfo
from typing import Literal

from dateutil.rrule import rrule, weekday

from .checks import check_parts
from .model import DAY_CODES, ByDay, Freq, RecurrenceError, RuleParts, signed_sorted, sorted_days

_PART_ORDER = (
    "FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS",
    "BYHOUR", "BYMINUTE", "BYSECOND", "WKST", "COUNT", "UNTIL",
)  # fmt: skip
DateutilFreq = Literal[0, 1, 2, 3, 4, 5, 6]
DATEUTIL_FREQ: dict[Freq, DateutilFreq] = {
    Freq.YEARLY: 0,
    Freq.MONTHLY: 1,
    Freq.WEEKLY: 2,
    Freq.DAILY: 3,
    Freq.HOURLY: 4,
    Freq.MINUTELY: 5,
}
_UNSUPPORTED = ("BYYEARDAY", "BYWEEKNO", "BYEASTER")
_UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYSETPOS": (1, 366, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
}


def looks_like_rrule(text: str) -> bool:
    """RRULE text has its prefix or NAME=VALUE parts; no English phrase contains "="."""
    return text.upper().startswith("RRULE:") or "=" in text


def parse_rrule(
    text: str, zone: tzinfo, original: str | None = None, *, reject_empty: bool = True
) -> RuleParts:
    """Parse RRULE text (with or without "RRULE:") into validated parts.

    A bare-date or floating-time UNTIL is read in `zone` (a date means the
    end of that local day, inclusive) and stored as UTC.
    """
    shown = original if original is not None else text
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if "DTSTART" in body.upper() or "\n" in body or ":" in body:
        raise RecurrenceError(
            shown, "only the RRULE value is accepted; the series starts at the task's due", body
        )
    raw: dict[str, str] = {}
    for chunk in body.split(";"):
        if not chunk.strip():
            continue
        name, sep, value = chunk.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not value:
            raise RecurrenceError(shown, "expected NAME=VALUE", chunk.strip())
        if name in raw:
            raise RecurrenceError(shown, f"{name} is given twice", chunk.strip())
        raw[name] = value
    parts = _build(raw, zone, shown)
    validate(parts, shown, reject_empty=reject_empty)
    return parts


def validate(parts: RuleParts, shown: str, *, reject_empty: bool = True) -> None:
    """All checks a rule must pass, whichever way it was written."""
    check_parts(parts, shown, reject_empty=reject_empty)
    _check_with_dateutil(parts, shown)


def _build(raw: dict[str, str], zone: tzinfo, shown: str) -> RuleParts:
    for name, value in raw.items():
        if name in _UNSUPPORTED:
            raise RecurrenceError(shown, f"{name} is not supported", f"{name}={value}")
        if name not in _PART_ORDER:
            raise RecurrenceError(shown, "unknown RRULE part", f"{name}={value}")
    if "FREQ" not in raw:
        raise RecurrenceError(shown, "an RRULE needs FREQ", None)
    try:
        freq = Freq(raw["FREQ"])
    except ValueError:
        raise RecurrenceError(
            shown,
            "FREQ must be YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY",
            f"FREQ={raw['FREQ']}",
        ) from None
    parts = RuleParts(freq=freq)
    if "INTERVAL" in raw:
        parts = replace(parts, interval=_positive(raw, "INTERVAL", shown))
    if "COUNT" in raw:
        parts = replace(parts, count=_positive(raw, "COUNT", shown))
    if "UNTIL" in raw:
        parts = replace(parts, until=_until(raw["UNTIL"], zone, shown))
    if "WKST" in raw:
        if raw["WKST"] not in DAY_CODES:
            raise RecurrenceError(shown, "WKST must be a weekday code", f"WKST={raw['WKST']}")
        parts = replace(parts, wkst=DAY_CODES.index(raw["WKST"]))
    if "BYDAY" in raw:
        parts = replace(parts, byday=_byday(raw["BYDAY"], shown))
    return replace(
        parts,
        bymonth=_int_list(raw, "BYMONTH", shown),
        bymonthday=_int_list(raw, "BYMONTHDAY", shown),
        bysetpos=_int_list(raw, "BYSETPOS", shown),
        byhour=_int_list(raw, "BYHOUR", shown),
        byminute=_int_list(raw, "BYMINUTE", shown),
        bysecond=_int_list(raw, "BYSECOND", shown),
    )


def _positive(raw: dict[str, str], name: str, shown: str) -> int:
    value = raw[name]
    if not value.isdigit() or int(value) < 1:
        raise RecurrenceError(
            shown, f"{name} must be a whole number of at least 1", f"{name}={value}"
        )
    return int(value)


def _int_list(raw: dict[str, str], name: str, shown: str) -> tuple[int, ...]:
    if name not in raw:
        return ()
    low, high, signed = _RANGES[name]
    near = f"{name}={raw[name]}"
    values: list[int] = []
    for item in raw[name].split(","):
        if not re.fullmatch(r"[+-]?\d{1,3}", item.strip()):
            raise RecurrenceError(shown, f"{name} takes comma-separated numbers", near)
        value = int(item)
        if not (low <= value <= high or (signed and -high <= value <= -1)):
            span = f"{low} and {high}" + (
                f" (or -{high} to -1 counting from the end)" if signed else ""
            )
            raise RecurrenceError(shown, f"{name} values must be between {span}", near)
        values.append(value)
    return signed_sorted(values) if signed else tuple(sorted(set(values)))


def _byday(value: str, shown: str) -> tuple[ByDay, ...]:
    days: list[ByDay] = []
    for item in value.split(","):
        match = _BYDAY.match(item.strip())
        if match is None:
            raise RecurrenceError(
                shown, 'BYDAY takes weekday codes like "MO" or "-1FR"', f"BYDAY={value}"
            )
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal == 0:
            raise RecurrenceError(shown, "a BYDAY ordinal cannot be 0", f"BYDAY={value}")
        days.append(ByDay(DAY_CODES.index(match.group(2)), ordinal))
    return sorted_days(days)


def _until(value: str, zone: tzinfo, shown: str) -> datetime:
    match = _UNTIL.match(value)
    if match is None:
        raise RecurrenceError(shown, 'UNTIL must look like "20270301T235959Z"', f"UNTIL={value}")
    year, month, day, hour, minute, second, utc = match.groups()
    try:
        if hour is None:
            local = datetime(int(year), int(month), int(day), 23, 59, 59, tzinfo=zone)
            return local.astimezone(UTC)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise RecurrenceError(
            shown, "UNTIL is not a real date and time", f"UNTIL={value}"
        ) from None
    return moment.replace(tzinfo=UTC) if utc else moment.replace(tzinfo=zone).astimezone(UTC)


def _check_with_dateutil(parts: RuleParts, shown: str) -> None:
    """Let dateutil reject anything our own checks missed (it is the expander)."""
    clock = time(parts.byhour[0] if parts.byhour else 0, parts.byminute[0] if parts.byminute else 0)
    try:
        dateutil_rule(parts, datetime.combine(datetime(2000, 1, 3).date(), clock))
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(shown, str(exc), emit_rule(parts)) from None


def dateutil_rule(parts: RuleParts, dtstart: datetime, until: datetime | None = None) -> rrule:
    """The rule as dateutil's expander, without COUNT/UNTIL (applied after the DST filter).

    `until` (naive wall clock, inclusive) only bounds one call's work: the
    rule's own UNTIL is an instant and is applied by `series`.
    """
    return rrule(
        freq=DATEUTIL_FREQ[parts.freq],
        dtstart=dtstart,
        until=until,
        interval=parts.interval,
        wkst=parts.wkst,
        bymonth=parts.bymonth or None,
        bymonthday=parts.bymonthday or None,
        byweekday=to_dateutil_days(parts.byday),
        bysetpos=parts.bysetpos or None,
        byhour=parts.byhour or None,
        byminute=parts.byminute or None,
        bysecond=parts.bysecond or None,
    )


def dateutil_candidates(
    parts: RuleParts, dtstart: datetime, until: datetime | None = None
) -> Iterator[datetime]:
    """`dateutil_rule`'s candidates; none once dateutil rejects the rule or the calendar ends.

    dateutil signals both with ValueError or OverflowError: an INTERVAL that
    never meets BYHOUR/BYMINUTE, or a date past the year 9999.
    """
    try:
        yield from dateutil_rule(parts, dtstart, until)
    except (ValueError, OverflowError):
        return


def to_dateutil_days(days: tuple[ByDay, ...]) -> list[weekday] | None:
    """BYDAY entries as dateutil weekday objects (None when there are none)."""
    return [weekday(day.weekday, day.n) for day in days] or None


def emit_rule(parts: RuleParts) -> str:
    """Canonical RRULE value (no "RRULE:" prefix, no DTSTART)."""
    out = [f"FREQ={parts.freq.value}"]
    if parts.interval != 1:
        out.append(f"INTERVAL={parts.interval}")
    for name, values in (
        ("BYMONTH", parts.bymonth),
        ("BYMONTHDAY", parts.bymonthday),
        ("BYDAY", tuple(day.code() for day in parts.byday)),
        ("BYSETPOS", parts.bysetpos),
        ("BYHOUR", parts.byhour),
        ("BYMINUTE", parts.byminute),
        ("BYSECOND", parts.bysecond),
    ):
        if values:
            out.append(f"{name}={','.join(str(v) for v in values)}")
    if parts.wkst != 0:
        out.append(f"WKST={DAY_CODES[parts.wkst]}")
    if parts.count is not None:
        out.append(f"COUNT={parts.count}")
    if parts.until is not None:
        out.append(f"UNTIL={parts.until.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    return ";".join(out)


@functools.lru_cache(maxsize=1024)
def stored_parts(rule: str) -> RuleParts:
    """Parts of a stored rule; cached because series maths re-reads it often.

    A stored rule that can never match is not an error here: it simply has no
    occurrences (new input is rejected for that by `parse_recurrence`).
    """
    return parse_rrule(rule, UTC, reject_empty=False)
