"""Occurrences of a series in a real time zone, on wall-clock time.

Expansion happens on naive local times (so "09:00" stays 09:00 across DST);
each candidate is then placed in the zone. Per RFC 5545 3.3.10 a local time
that does not exist (spring-forward gap) is not an instance and is not
counted; a repeated local time (fall-back) is one instance, the earlier one.
COUNT and UNTIL are applied here, after that filter, never by dateutil.

All comparisons are made on UTC instants: Python compares two datetimes that
share a tzinfo by wall clock, ignoring `fold`, which is wrong in an overlap.

A series ends at the end of the calendar: an instance whose instant is past
what a datetime can hold in UTC does not exist, and an OverflowError while
placing the inputs means every later instant is out of range too, so the
public functions answer "none" rather than raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, product
from zoneinfo import ZoneInfo

from .budget import active_meter, metered
from .expansion import naive_candidates, resolve
from .model import Recurrence, RuleParts
from .rules import emit_rule, stored_parts

DEFAULT_TIME = time(9, 0)


def require_aware(moment: datetime, name: str) -> None:
    """Naive datetimes are programming errors here: the engine never guesses a zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


def localize(naive: datetime, zone: ZoneInfo) -> datetime | None:
    """`naive` placed in `zone`; None when that wall-clock time does not exist there."""
    placed = naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    if placed.replace(tzinfo=None, fold=0) != naive.replace(fold=0):
        return None
    return placed


def local_naive(moment: datetime, zone: ZoneInfo) -> datetime:
    """Wall clock of `moment` in `zone`, seconds precision (RRULEs have no fractions)."""
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0, fold=0)


def iter_instances(
    parts: RuleParts,
    start: datetime,
    zone: ZoneInfo,
    *,
    not_before: datetime | None = None,
    after: datetime | None = None,
) -> Iterator[datetime]:
    """Instances (aware, in `zone`) of the series whose DTSTART wall clock is `start`.

    COUNT counts from `start` (start itself counts only if it matches the rule,
    as in dateutil); with no COUNT the search jumps straight to `after`.
    Instances earlier than `not_before` are dropped and not counted.
    """
    resolved = resolve(parts, start)
    floor = not_before.astimezone(UTC) if not_before is not None else None
    after_utc = after.astimezone(UTC) if after is not None else None
    lo = start
    if parts.count is None and after is not None:
        lo = max(start, local_naive(after, zone) - timedelta(days=1))
    produced = 0
    for naive in naive_candidates(resolved, start, lo):
        try:
            moment = localize(naive, zone)
        except OverflowError:
            return  # its instant is past the last one UTC can hold: the series ends
        if moment is None:
            continue
        instant = moment.astimezone(UTC)
        if floor is not None and instant < floor:
            continue
        if parts.until is not None and instant > parts.until:
            return
        produced += 1
        if parts.count is not None and produced > parts.count:
            return
        if after_utc is None or instant > after_utc:
            yield moment


def occurrences(
    recurrence: Recurrence, start: datetime, zone: ZoneInfo, *, after: datetime, count: int
) -> list[datetime]:
    """Up to `count` instances strictly after `after` of the series with DTSTART `start`.

    COUNT counts from `start`, which is itself the first instance only if it
    matches the rule (dateutil semantics, not RFC 5545's "DTSTART always
    counts"). Rules that can never match give [] after a bounded search; the
    list is short when the series ends (COUNT, UNTIL, or the year 9999).
    Raises RecurrenceTooExpensive when the search exceeds the budget.
    """
    require_aware(start, "start")
    require_aware(after, "after")
    if count <= 0:
        return []
    parts = stored_parts(recurrence.rule)
    with metered(recurrence.rule):
        try:
            first = start.astimezone(zone).replace(microsecond=0)
            found = iter_instances(
                parts, local_naive(first, zone), zone, not_before=first, after=after
            )
            return list(islice(found, count))
        except OverflowError:  # `start` or `after` is past the end of the calendar
            return []


def default_start(parts: RuleParts, zone: ZoneInfo, after: datetime) -> tuple[RuleParts, datetime]:
    """Series start for a task that has no due yet: the next wall-clock slot after `after`.

    Day-or-longer rules without a time of day get 09:00; sub-daily rules start
    at `after`'s minute. The returned parts carry the chosen time explicitly.
    """
    local = local_naive(after, zone)
    if parts.freq.sub_daily:
        return parts, local.replace(second=0)
    timed = replace(
        parts,
        byhour=parts.byhour or (DEFAULT_TIME.hour,),
        byminute=parts.byminute or (DEFAULT_TIME.minute,),
        bysecond=parts.bysecond or (DEFAULT_TIME.second,),
    )
    meter = active_meter(lambda: emit_rule(parts))  # a day can hold 86,400 slots
    after_utc = after.astimezone(UTC)
    today = local.date()
    for day in [today] if today == date.max else [today, today + timedelta(days=1)]:
        # The BY-tuples are sorted, so their product is in wall-clock order.
        for clock in product(timed.byhour, timed.byminute, timed.bysecond):
            meter.check()
            candidate = datetime.combine(day, time(*clock))
            if candidate.replace(tzinfo=zone).astimezone(UTC) > after_utc:
                return timed, candidate
    raise OverflowError("no slot left before the end of the calendar")


def first_due(recurrence: Recurrence, zone: ZoneInfo, now: datetime) -> datetime | None:
    """First due of a recurring task created without one: the first instance after `now`.

    The search starts at the next time-of-day slot after `now` (rule's
    BYHOUR/BYMINUTE, else 09:00), so "every week" created on a Tuesday
    afternoon starts on Wednesday, not a week later. For day-or-longer rules
    INTERVAL is ignored for this first instance: "every 2 weeks on monday"
    starts next Monday, and the series counts its periods from there (the
    task's due is the anchor). Sub-daily rules count from `now`. None if UNTIL
    has passed or the calendar ends first. Raises RecurrenceTooExpensive when
    the search exceeds the budget.
    """
    require_aware(now, "now")
    parts = stored_parts(recurrence.rule)
    with metered(recurrence.rule):
        try:
            parts, start = default_start(parts, zone, now)
            if not parts.freq.sub_daily:
                parts = replace(parts, interval=1)
            return next(iter_instances(parts, start, zone, after=now), None)
        except OverflowError:  # `now` is at the very end of the calendar
            return None
