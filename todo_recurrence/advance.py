"""What comes after a completed instance: the next due and the rule it carries.

A stored task's COUNT is the number of instances left *including* that task,
so each step hands the new task COUNT minus the instances it used up (one,
or more when catch-up skips past ones); COUNT=1 means the series is over.
A series also ends when its next instance would be past the end of the
calendar (year 9999, in the zone or in UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from .budget import metered
from .describe import describe
from .model import Basis, CatchUp, Freq, NextInstance, Recurrence, RuleParts
from .rules import emit_rule, stored_parts
from .series import iter_instances, local_naive, require_aware


def _step(freq: Freq, interval: int) -> relativedelta:
    """INTERVAL units of FREQ; months and years clamp to the month's end (Jan 31 -> Feb 28)."""
    if freq is Freq.YEARLY:
        return relativedelta(years=interval)
    if freq is Freq.MONTHLY:
        return relativedelta(months=interval)
    if freq is Freq.WEEKLY:
        return relativedelta(weeks=interval)
    if freq is Freq.DAILY:
        return relativedelta(days=interval)
    if freq is Freq.HOURLY:
        return relativedelta(hours=interval)
    return relativedelta(minutes=interval)


_Moment = TypeVar("_Moment", date, datetime)


def _later(moment: _Moment, step: relativedelta) -> _Moment | None:
    """`moment + step`, or None when that is past the end of the calendar."""
    try:
        return moment + step
    except (ValueError, OverflowError):  # relativedelta says "year 10000 is out of range"
        return None


def series_after(
    parts: RuleParts, zone: ZoneInfo, anchor: datetime, after: datetime
) -> Iterator[datetime]:
    """Instances strictly after `after` of the series restarted at `anchor` (no drift: pinned)."""
    first = anchor.astimezone(zone).replace(microsecond=0)
    return iter_instances(parts, local_naive(first, zone), zone, not_before=first, after=after)


def _after_schedule(
    parts: RuleParts, zone: ZoneInfo, anchor: datetime, now: datetime, catch_up: CatchUp
) -> tuple[datetime, int] | None:
    """(next due, instances consumed), skipping past instances when catching up."""
    open_parts = replace(parts, count=None)
    limit = parts.count - 1 if parts.count is not None else None
    now_utc = now.astimezone(UTC)
    stream = series_after(open_parts, zone, anchor, anchor)
    first = next(stream, None)
    if first is None:
        return None
    if catch_up is CatchUp.NEXT_AFTER_DUE or first.astimezone(UTC) >= now_utc:
        return first, 1
    if limit is None:
        # Nothing to count: jump straight to now instead of walking the past.
        due = next(series_after(open_parts, zone, anchor, now), None)
        return (due, 1) if due is not None else None
    for consumed, moment in enumerate(stream, start=2):
        if consumed > limit:
            return None
        if moment.astimezone(UTC) > now_utc:
            return moment, consumed
    return None


def _after_completion(
    parts: RuleParts, zone: ZoneInfo, previous_due: datetime | None, completed_at: datetime
) -> datetime | None:
    """The due INTERVAL units after completion, at the task's time of day.

    Rules that name days ("every monday", "on the 15th") instead skip
    INTERVAL-1 periods and take the first allowed day after the completion
    day (and after the previous due, so an early completion never repeats it).
    """
    rolled = replace(parts, interval=1, count=None)
    if parts.freq.sub_daily:
        shifted = _later(completed_at.astimezone(UTC), _step(parts.freq, parts.interval))
        if shifted is None:
            return None
        target = shifted.astimezone(zone).replace(microsecond=0)
        found = iter_instances(rolled, local_naive(target, zone), zone, not_before=target)
        return next(found, None)
    reference = local_naive(previous_due if previous_due is not None else completed_at, zone)
    rolled = replace(
        rolled,
        byhour=parts.byhour or (reference.hour,),
        byminute=parts.byminute or (reference.minute,),
        bysecond=parts.bysecond or (reference.second,),
    )
    done_day = local_naive(completed_at, zone).date()
    after = completed_at
    if parts.has_day_filter:
        target_day = _later(done_day, _step(parts.freq, parts.interval - 1) + relativedelta(days=1))
        if previous_due is not None and previous_due.astimezone(UTC) > completed_at.astimezone(UTC):
            after = previous_due
    else:
        target_day = _later(done_day, _step(parts.freq, parts.interval))
        rolled = replace(rolled, freq=Freq.DAILY)
    if target_day is None:
        return None
    start = datetime.combine(target_day, time())
    return next(iter_instances(rolled, start, zone, after=after), None)


def next_instance(
    recurrence: Recurrence,
    zone: ZoneInfo,
    *,
    previous_due: datetime | None,
    completed_at: datetime,
    now: datetime,
    catch_up: CatchUp = CatchUp.NEXT_AFTER_NOW,
) -> NextInstance | None:
    """The instance that follows completing one, or None when the series has ended.

    SCHEDULE: the first instance strictly after `previous_due` (or, with no
    due, after `completed_at` with the series restarted there); if that is
    before `now` and `catch_up` is NEXT_AFTER_NOW, the first one strictly
    after `now`, with every skipped instance taken off COUNT.
    COMPLETION: the local date of `completed_at` advanced by INTERVAL units of
    FREQ (clamped to month ends), at the rule's time of day, else
    `previous_due`'s, else `completed_at`'s; rules naming days take the first
    allowed day after INTERVAL-1 periods; sub-daily rules add INTERVAL to
    `completed_at`.
    Catch-up does not apply: a completion-based due is never in the past.
    Raises RecurrenceTooExpensive when the search exceeds the budget.
    """
    require_aware(completed_at, "completed_at")
    require_aware(now, "now")
    if previous_due is not None:
        require_aware(previous_due, "previous_due")
    parts = stored_parts(recurrence.rule)
    if parts.count == 1:
        return None
    with metered(recurrence.rule):
        try:
            if recurrence.basis is Basis.COMPLETION:
                due = _after_completion(parts, zone, previous_due, completed_at)
                found = (due, 1) if due is not None else None
            else:
                anchor = previous_due if previous_due is not None else completed_at
                found = _after_schedule(parts, zone, anchor, now, catch_up)
        except OverflowError:  # an input is at the very end of the calendar
            return None
    if found is None:
        return None
    due, consumed = found
    if parts.count is None:
        return NextInstance(due=due, recurrence=recurrence)
    left = replace(parts, count=parts.count - consumed)
    rule = Recurrence(emit_rule(left), describe(left, recurrence.basis, zone), recurrence.basis)
    return NextInstance(due=due, recurrence=rule)
