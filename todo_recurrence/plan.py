"""The plan of a new series, shared by the rule preview and task creation.

Both used to chain parse, `first_due`, `pin_rule` and `occurrences` each in
their own way, so the preview could show a first date that creation would not
store. `plan_series` is that chain, once: the preview shows its occurrences
and creation stores its `recurrence` and `first_due`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

from .advance import next_instance, series_after
from .budget import metered
from .model import Basis, CatchUp, Recurrence
from .parse import parse_recurrence
from .pinning import pin_rule
from .rules import stored_parts
from .series import first_due, require_aware


@dataclass(frozen=True)
class SeriesPlan:
    """What creating the recurring task stores, and the dues that follow.

    `recurrence`: the normalized rule, pinned to `first_due` (as parsed when
    there is none, or it is past the year 9999 on the zone's clock).
    `first_due`: the first task's due; None when the rule has no occurrence
    after `now` (UNTIL passed, or the calendar ends first).
    `occurrences`: up to `count` dues, starting with `first_due`.
    """

    recurrence: Recurrence
    first_due: datetime | None
    occurrences: tuple[datetime, ...]


def plan_series(
    text: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    due: datetime | None = None,
    count: int = 0,
    basis: Basis | None = None,
) -> SeriesPlan:
    """Parse `text` (phrase or RRULE, at most `MAX_RULE_TEXT` characters), pin it and list its dues.

    `due`: the first task's due when the caller chose one, else the first
    occurrence after `now` (`first_due`). `basis`: overrides the basis the
    text implies (a stored rule carries its basis separately).

    The occurrences are the series as its tasks will carry it: the first due,
    then each next instance as if every task were completed when due (the
    schedule for SCHEDULE rules, the completion dates for COMPLETION ones),
    ending with COUNT, UNTIL or the calendar. They start at the first due
    even when a given `due` is already past, so the preview shows exactly the
    due that creation stores; callers that want only future ones filter.

    Raises RecurrenceError for unusable text, and RecurrenceTooExpensive
    when the whole plan exceeds one call's budget.
    """
    require_aware(now, "now")
    if due is not None:
        require_aware(due, "due")
    with metered(text.strip()):
        recurrence = parse_recurrence(text, zone)
        if basis is not None:
            recurrence = replace(recurrence, basis=basis)
        start = due if due is not None else first_due(recurrence, zone, now)
        if start is None:
            return SeriesPlan(recurrence, None, ())
        try:
            pinned = pin_rule(recurrence, start.astimezone(zone))
            return SeriesPlan(pinned, start, _dues(pinned, zone, start, count))
        except OverflowError:  # a given due at the very end of the calendar: nothing follows
            return SeriesPlan(recurrence, start, (start,)[:count])


def _dues(
    recurrence: Recurrence, zone: ZoneInfo, due: datetime, count: int
) -> tuple[datetime, ...]:
    """`due` and up to `count - 1` next dues, each task completed when due.

    Schedule-based series restart at every due without changing (that is
    what pinning is for), so their dues are one pass over the series that
    `next_instance` restarts at `due`; completion-based ones are walked.
    """
    if count <= 0:
        return ()
    if recurrence.basis is Basis.COMPLETION:
        return _walk(recurrence, zone, due, count)
    parts = stored_parts(recurrence.rule)
    left = count if parts.count is None else min(count, parts.count)
    return (due, *islice(series_after(replace(parts, count=None), zone, due, due), left - 1))


def _walk(
    recurrence: Recurrence, zone: ZoneInfo, due: datetime, count: int
) -> tuple[datetime, ...]:
    """`due` and the dues `next_instance` gives after it, completing each when due."""
    dues = [due]
    while len(dues) < count:
        step = next_instance(
            recurrence,
            zone,
            previous_due=dues[-1],
            completed_at=dues[-1],
            now=dues[-1],
            catch_up=CatchUp.NEXT_AFTER_DUE,
        )
        if step is None:
            break
        dues.append(step.due)
        recurrence = step.recurrence
    return tuple(dues)
