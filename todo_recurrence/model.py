"""Value types shared by every part of the recurrence engine.

The public types (`Recurrence`, `NextInstance`, `Basis`, `CatchUp`,
`RecurrenceError`) are what other services store and exchange; `RuleParts`
is the engine's internal, already-validated view of an RRULE so that the
parser, describer and expander never re-interpret text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

EXAMPLES = (
    '"every 2 weeks on monday", "every month on the last friday at 9am" '
    'or an RRULE like "FREQ=WEEKLY;BYDAY=MO"'
)


class RecurrenceError(ValueError):
    """Raised for recurrence text we cannot accept.

    The message always names the offending part and shows accepted examples,
    because it is shown to end users verbatim.
    """

    lead: ClassVar[str] = "could not understand"

    def __init__(self, text: str, reason: str | None = None, near: str | None = None) -> None:
        self.text = text
        self.reason = reason
        self.near = near
        message = f'{self.lead} "{text}"'
        if near is not None:
            message += f' near "{near}"'
        if reason:
            message += f": {reason}"
        super().__init__(f"{message}; try e.g. {EXAMPLES}")


class RecurrenceTooExpensive(RecurrenceError):
    """Raised when a valid rule needs more work than the call's budget allows (see `budget`).

    A RecurrenceError so every caller that already turns those into "invalid
    argument" keeps working; a subclass so callers can tell "too costly" from
    "malformed" when they want to.
    """

    lead: ClassVar[str] = "gave up on"


class Basis(enum.Enum):
    """What the next instance is measured from."""

    SCHEDULE = "SCHEDULE"
    COMPLETION = "COMPLETION"


class CatchUp(enum.Enum):
    """What a schedule-based series does when its next instance is already past."""

    NEXT_AFTER_NOW = "NEXT_AFTER_NOW"
    NEXT_AFTER_DUE = "NEXT_AFTER_DUE"


@dataclass(frozen=True)
class Recurrence:
    """A validated rule: canonical RRULE value, English text and basis."""

    rule: str
    text: str
    basis: Basis


@dataclass(frozen=True)
class NextInstance:
    """The due date and (COUNT-adjusted) rule of the instance that follows a completion."""

    due: datetime
    recurrence: Recurrence


class Freq(enum.Enum):
    """RRULE frequencies the engine accepts (SECONDLY is too fine for tasks)."""

    YEARLY = "YEARLY"
    MONTHLY = "MONTHLY"
    WEEKLY = "WEEKLY"
    DAILY = "DAILY"
    HOURLY = "HOURLY"
    MINUTELY = "MINUTELY"

    @property
    def sub_daily(self) -> bool:
        """Sub-daily rules have no "time of day" to pin or to keep."""
        return self in (Freq.HOURLY, Freq.MINUTELY)


DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS = (0, 1, 2, 3, 4)
WEEKEND = (5, 6)


@dataclass(frozen=True, order=True)
class ByDay:
    """One BYDAY entry: weekday 0=Monday..6=Sunday, optional ordinal (-1 = last)."""

    weekday: int
    n: int | None = None

    def code(self) -> str:
        """RFC 5545 form, e.g. "MO", "2TU", "-1FR"."""
        prefix = "" if self.n is None else str(self.n)
        return prefix + DAY_CODES[self.weekday]


@dataclass(frozen=True)
class RuleParts:
    """An RRULE broken into typed parts; tuples are kept sorted and unique."""

    freq: Freq
    interval: int = 1
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[ByDay, ...] = ()
    bysetpos: tuple[int, ...] = ()
    byhour: tuple[int, ...] = ()
    byminute: tuple[int, ...] = ()
    bysecond: tuple[int, ...] = ()
    wkst: int = 0
    count: int | None = None
    until: datetime | None = None  # aware, UTC

    @property
    def has_day_filter(self) -> bool:
        """True when the rule itself says which days it falls on."""
        return bool(self.bymonth or self.bymonthday or self.byday)


def signed_sorted(values: tuple[int, ...] | list[int] | set[int]) -> tuple[int, ...]:
    """Positive values ascending, then negative ones ascending: 1,15,-2,-1."""
    unique = set(values)
    return tuple(sorted(v for v in unique if v > 0)) + tuple(sorted(v for v in unique if v < 0))


def sorted_days(days: tuple[ByDay, ...] | list[ByDay] | set[ByDay]) -> tuple[ByDay, ...]:
    """Canonical BYDAY order: by weekday, plain before ordinals, then by ordinal."""

    def key(day: ByDay) -> tuple[int, int, int]:
        if day.n is None:
            return (day.weekday, 0, 0)
        return (day.weekday, 1 if day.n > 0 else 2, day.n)

    return tuple(sorted(set(days), key=key))
