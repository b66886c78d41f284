"""Pure recurrence engine: parse, describe, pin and expand recurring-task rules.

No I/O and no clock reads: every "now" is a parameter. Rules are RFC 5545
RRULE values expanded on wall-clock time in the task's zone (see `series`).
Every expansion runs under a `Budget` (see `budget`): the one clock read (the
thread's CPU time) bounds the work, it never decides a date.
"""

from __future__ import annotations

from .advance import next_instance
from .budget import DEFAULT_BUDGET, Budget, spending
from .model import (
    Basis,
    CatchUp,
    NextInstance,
    Recurrence,
    RecurrenceError,
    RecurrenceTooExpensive,
)
from .parse import MAX_RULE_TEXT, parse_recurrence
from .pinning import pin_rule
from .plan import SeriesPlan, plan_series
from .series import first_due, occurrences

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_RULE_TEXT",
    "Basis",
    "Budget",
    "CatchUp",
    "NextInstance",
    "Recurrence",
    "RecurrenceError",
    "RecurrenceTooExpensive",
    "SeriesPlan",
    "first_due",
    "next_instance",
    "occurrences",
    "parse_recurrence",
    "pin_rule",
    "plan_series",
    "spending",
]
