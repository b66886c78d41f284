"""Pinning: bake a series' first due into its rule so restarts never drift.

A rule like "every month" takes its day from DTSTART. Services restart a
series at each new instance (DTSTART = previous due), so anything implied by
DTSTART must be written into the rule once, from the first due, or a series
started on the 31st would drift to the 28th after February.
"""

from __future__ import annotations

from datetime import datetime

from .describe import describe
from .expansion import resolve
from .model import Basis, Recurrence
from .rules import emit_rule, stored_parts
from .series import require_aware


def pin_rule(recurrence: Recurrence, anchor: datetime) -> Recurrence:
    """`recurrence` with the BY-parts implied by `anchor` (the series' first due) made explicit.

    Schedule-based rules get their day (WEEKLY: BYDAY, MONTHLY: BYMONTHDAY,
    YEARLY: BYMONTH+BYMONTHDAY, only when the rule names no days) and, for
    daily-or-longer rules, their time of day (BYHOUR/BYMINUTE/BYSECOND, each
    only if missing). Completion-based rules get only the time of day: their
    days come from the completion date. Idempotent; unchanged rules are
    returned as-is, otherwise the text is regenerated.
    """
    require_aware(anchor, "anchor")
    parts = stored_parts(recurrence.rule)
    wall = anchor.replace(tzinfo=None, microsecond=0)
    pinned = resolve(
        parts,
        wall,
        days=recurrence.basis is Basis.SCHEDULE,
        times=not parts.freq.sub_daily,
    )
    if pinned == parts:
        return recurrence
    return Recurrence(
        rule=emit_rule(pinned),
        text=describe(pinned, recurrence.basis, anchor.tzinfo),
        basis=recurrence.basis,
    )
