"""Pure recurrence engine: parse, describe, pin and expand recurring-task rules.

No I/O and no clock reads: every "now" is a parameter. Rules are RFC 5545
RRULE values expanded on wall-clock time in the task's zone (see `series`).
"""

from __future__ import annotations

from .advance import next_instance
from .model import Basis, CatchUp, NextInstance, Recurrence, RecurrenceError
from .parse import parse_recurrence
from .pinning import pin_rule
from .series import first_due, occurrences

__all__ = [
    "Basis",
    "CatchUp",
    "NextInstance",
    "Recurrence",
    "RecurrenceError",
    "first_due",
    "next_instance",
    "occurrences",
    "parse_recurrence",
    "pin_rule",
]
