"""Occurrences of a series in a real time zone, on wall-clock time.

Expansion happens on naive local times (so "09:00" stays 09:00 across DST);
each candidate is then placed in the zone. Per RFC 5545 3.3.10 a local time
that does not exist (spring-forward gap) is not an instance and is not
counted; a repeated local time (fall-back) is one instance, the earlier one.
COUNT and UNTIL are applied here, after that filter, never by dateutil.

All comparisons are made on UTC instants: Python compares two datetimes that
share a tzinfo by wall clock, ignoring `fold`, which is wrong in an overlap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from .expansion import naive_candidates, resolve
from .model import Recurrence, RuleParts
from .rules import stored_parts

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
        moment = localize(naive, zone)
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
    counts"). Rules that can never match give [] after a bounded search.
    """
    require_aware(start, "start")
    require_aware(after, "after")
    if count <= 0:
        return []
    parts = stored_parts(recurrence.rule)
    first = start.astimezone(zone).replace(microsecond=0)
    found = iter_instances(parts, local_naive(first, zone), zone, not_before=first, after=after)
    return list(islice(found, count))


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
    slots = sorted(
        time(h, m, s) for h in timed.byhour for m in timed.byminute for s in timed.bysecond
    )
    after_utc = after.astimezone(UTC)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for slot in slots:
            candidate = datetime.combine(day, slot)
            if candidate.replace(tzinfo=zone).astimezone(UTC) > after_utc:
                return timed, candidate
    raise AssertionError("unreachable: tomorrow always has a later slot")  # pragma: no cover


def first_due(recurrence: Recurrence, zone: ZoneInfo, now: datetime) -> datetime | None:
    """First due of a recurring task created without one: the first instance after `now`.

    The search starts at the next time-of-day slot after `now` (rule's
    BYHOUR/BYMINUTE, else 09:00), so "every week" created on a Tuesday
    afternoon starts on Wednesday, not a week later. For day-or-longer rules
    INTERVAL is ignored for this first instance: "every 2 weeks on monday"
    starts next Monday, and the series counts its periods from there (the
    task's due is the anchor). Sub-daily rules count from `now`. None if UNTIL
    has passed.
    """
    require_aware(now, "now")
    parts, start = default_start(stored_parts(recurrence.rule), zone, now)
    if not parts.freq.sub_daily:
        parts = replace(parts, interval=1)
    return next(iter_instances(parts, start, zone, after=now), None)
