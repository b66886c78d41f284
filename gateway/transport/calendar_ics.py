"""Tasks as an RFC 5545 calendar: one VTODO (or VEVENT) per task with a due time.

Pure: the same tasks always give the same bytes (no clock is read: DTSTAMP is the task's last
change, as RFC 5545 asks of a calendar published without METHOD), so a hash of the body is an
ETag that changes exactly when a task in the feed does.

Per task: UID `<task id>@todo` (stable across edits), SEQUENCE the task's version less one (0 for
a new task, as RFC 5545 starts it), DTSTART (and DUE for a VTODO) on the task's wall clock with
its TZID (UTC as `Z`), an RRULE for a schedule-based recurrence (its stored rule is RFC 5545; a
completion-based one has no fixed dates, so it has none), a VALARM per reminder (relative to the
due time, or at an instant), PRIORITY 1..9, CATEGORIES from tags. The calendar carries one
VTIMEZONE per zone used, built by icalendar from the bundled zone data.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Final

from icalendar import Alarm, Calendar, Component, Event, Timezone, Todo, vDuration, vRecur

from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence.zones import lookup_zone

PRODID: Final = "-//todo//calendar feed 1.0//EN"
# How often a client should poll (RFC 7986 REFRESH-INTERVAL; X-PUBLISHED-TTL for Outlook).
REFRESH: Final = timedelta(minutes=15)
# RFC 5545 PRIORITY: 1 is the highest, 9 the lowest; NONE is left out (0 = undefined).
PRIORITIES: Final = {
    task_pb2.PRIORITY_URGENT: 1,
    task_pb2.PRIORITY_HIGH: 3,
    task_pb2.PRIORITY_MEDIUM: 5,
    task_pb2.PRIORITY_LOW: 9,
}
# How far around the feed's due times each VTIMEZONE spells out its transitions.
_ZONE_YEARS_BEFORE: Final = 1
_ZONE_YEARS_AFTER: Final = 10
_END: Final = b"END:VCALENDAR\r\n"


class ComponentCache:
    """Each task's rendered component by (task id, version, kind), the `maxsize` used last:
    a version changes with every change of the task, so an entry is never stale, and a feed
    polled again renders only what changed since."""

    def __init__(self, maxsize: int = 20_000) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()  # feeds render on worker threads

    def get(self, task: task_pb2.Task, kind: str, due: datetime) -> bytes:
        key = (task.id, task.version, kind)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        rendered: bytes = _component(task, kind, due).to_ical()
        with self._lock:
            self._entries[key] = rendered
            if len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
        return rendered


def etag(tasks: Iterable[task_pb2.Task], kind: str, name: str) -> str:
    """A strong ETag of what `render` makes of the same arguments, without rendering: the body is
    a function of the tasks' ids and versions (in order), the kind, the name and this module."""
    digest = hashlib.sha256(f"{PRODID}\n{kind}\n{name}\n".encode())
    for task in tasks:
        digest.update(f"{task.id}:{task.version}\n".encode())
    return f'"{digest.hexdigest()[:40]}"'


def render(
    tasks: Iterable[task_pb2.Task], kind: str, name: str = "", cache: ComponentCache | None = None
) -> bytes:
    """The calendar of `tasks` (those without a due time are left out) as VTODOs or VEVENTs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name or "Tasks")
    calendar.add("x-wr-calname", name or "Tasks")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    cache = cache or ComponentCache()
    components: list[bytes] = []
    zones: dict[str, list[int]] = {}
    for task in tasks:
        if not task.HasField("due_time"):
            continue
        zone = _zone(task.time_zone)
        due = task.due_time.ToDatetime(tzinfo=UTC).astimezone(zone)
        components.append(cache.get(task, kind, due))
        if zone is not UTC:
            zones.setdefault(task.time_zone, []).append(due.year)
    for zone_name in sorted(zones):
        years = zones[zone_name]
        calendar.add_component(_vtimezone(zone_name, min(years), max(years)))
    # The components, each rendered by icalendar on its own (and kept), go where the calendar
    # ends: after the VTIMEZONEs they refer to.
    head: bytes = calendar.to_ical()
    assert head.endswith(_END)
    return b"".join((head[: -len(_END)], *components, _END))


def _zone(name: str) -> tzinfo:
    """The task's zone; UTC for "UTC" (written with `Z`, no VTIMEZONE) or an unknown name."""
    if name in {"", "UTC"}:
        return UTC
    return lookup_zone(name) or UTC


@lru_cache(maxsize=256)
def _vtimezone(name: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of zone `name`, with its transitions around the years given. Shared by
    every feed that asks for the same: to_ical only reads it."""
    zone = lookup_zone(name)
    assert zone is not None  # _zone let only known names through
    return Timezone.from_tzinfo(
        zone,
        tzid=name,
        first_date=date(max(1, first_year - _ZONE_YEARS_BEFORE), 1, 1),
        last_date=date(min(9999, last_year + _ZONE_YEARS_AFTER), 1, 1),
    )


def _component(task: task_pb2.Task, kind: str, due: datetime) -> Component:
    component: Component = Todo() if kind == "VTODO" else Event()
    changed = task.update_time.ToDatetime(tzinfo=UTC)
    component.add("uid", f"{task.id}@todo")
    component.add("dtstamp", changed)
    component.add("created", task.create_time.ToDatetime(tzinfo=UTC))
    component.add("last-modified", changed)
    component.add("sequence", max(0, task.version - 1))
    component.add("summary", task.title)
    if task.description:
        component.add("description", task.description)
    component.add("dtstart", due)
    if kind == "VTODO":
        component.add("due", due)
        component.add("status", "NEEDS-ACTION")
    else:
        component.add("transp", "TRANSPARENT")  # a task does not make its owner busy
    if task.priority in PRIORITIES:
        component.add("priority", PRIORITIES[task.priority])
    if task.tags:
        component.add("categories", list(task.tags))
    if (
        task.HasField("recurrence")
        and task.recurrence.basis != task_pb2.RECURRENCE_BASIS_COMPLETION
    ):
        component.add("rrule", vRecur.from_ical(task.recurrence.rule))
    for alarm in _alarms(task.title, task.reminders):
        component.add_component(alarm)
    return component


def _alarms(title: str, reminders: Sequence[task_pb2.Reminder]) -> list[Alarm]:
    alarms = []
    for reminder in reminders:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title)
        if reminder.HasField("remind_time"):
            at = reminder.remind_time.ToDatetime(tzinfo=UTC)
            alarm.add("trigger", at, parameters={"VALUE": "DATE-TIME"})
        else:
            # DTSTART is the due time too, so the default (relative to the start) is the due time.
            alarm.add("trigger", -timedelta(minutes=reminder.minutes_before))
        alarms.append(alarm)
    return alarms
