"""Field-level diffs of a task change: which fields changed, from what, to what. Pure rules.

Every field of a task a person can see or set is covered, each rendered as one
string (None: no value): text as is, enums by their GraphQL name, instants as
RFC 3339 UTC, the due time in its own zone as RFC 9557
(`2026-03-01T09:00:00+01:00[Europe/Berlin]`), tags, reminders and recurrence
as canonical JSON. Left out on purpose: `id` and `owner_id` (never change),
`version` and `update_time` (change with every event; the entry itself records
that a change happened, and when).

Pure, as `lint-imports` checks: what a pure module may import is listed with its
contract in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from todo_contracts.tasks.v1 import task_pb2
from todo_recurrence import Basis
from todo_recurrence.zones import lookup_zone
from todo_runtime.enum_maps import from_numbers
from todo_runtime.timestamps import from_timestamp
from todo_transparency.canonical import canonical_json
from todo_transparency.entries import FieldChange

Render = Callable[[task_pb2.Task], str | None]
_BASES: Final = from_numbers(Basis, task_pb2.RecurrenceBasis)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time_field(name: str) -> Render:
    def render(task: task_pb2.Task) -> str | None:
        return _instant(from_timestamp(getattr(task, name))) if task.HasField(name) else None

    return render


def _status(task: task_pb2.Task) -> str | None:
    if task.status == task_pb2.TASK_STATUS_UNSPECIFIED:
        return None
    return task_pb2.TaskStatus.Name(task.status).removeprefix("TASK_STATUS_")


def _priority(task: task_pb2.Task) -> str | None:
    if task.priority == task_pb2.PRIORITY_UNSPECIFIED:
        return None
    return task_pb2.Priority.Name(task.priority).removeprefix("PRIORITY_")


def _due(task: task_pb2.Task) -> str | None:
    """The due instant in the task's zone, with the zone: RFC 9557."""
    if not task.HasField("due_time"):
        return None
    due = from_timestamp(task.due_time)
    zone_name = task.time_zone or "UTC"
    zone = lookup_zone(zone_name)
    local = due.astimezone(zone) if zone is not None else due
    return f"{local.isoformat()}[{zone_name}]"


def _tags(task: task_pb2.Task) -> str | None:
    return canonical_json(list(task.tags)).decode() if task.tags else None


def _reminder(reminder: task_pb2.Reminder) -> dict[str, object]:
    if reminder.WhichOneof("when") == "remind_time":
        return {"at": _instant(from_timestamp(reminder.remind_time))}
    return {"minutesBefore": reminder.minutes_before}


def _reminders(task: task_pb2.Task) -> str | None:
    if not task.reminders:
        return None
    return canonical_json([_reminder(reminder) for reminder in task.reminders]).decode()


def _recurrence(task: task_pb2.Task) -> str | None:
    if not task.HasField("recurrence"):
        return None
    recurrence = task.recurrence
    basis = _BASES.get(recurrence.basis, Basis.SCHEDULE)  # UNSPECIFIED means SCHEDULE
    value = {"rule": recurrence.rule, "text": recurrence.text, "basis": basis.name}
    return canonical_json(value).decode()


def _text(name: str) -> Render:
    def render(task: task_pb2.Task) -> str | None:
        value: str = getattr(task, name)
        return value or None

    return render


def _series_index(task: task_pb2.Task) -> str | None:
    return str(task.series_index) if task.series_index else None


# Field name (as in todo.tasks.v1.Task) -> how it renders; diffs list fields in this order.
FIELDS: Final[dict[str, Render]] = {
    "title": _text("title"),
    "description": _text("description"),
    "status": _status,
    "priority": _priority,
    "tags": _tags,
    "due_time": _due,
    "time_zone": _text("time_zone"),
    "recurrence": _recurrence,
    "reminders": _reminders,
    "series_id": _text("series_id"),
    "series_index": _series_index,
    "create_time": _time_field("create_time"),
    "complete_time": _time_field("complete_time"),
    "delete_time": _time_field("delete_time"),
}


def changes(before: task_pb2.Task | None, after: task_pb2.Task) -> tuple[FieldChange, ...]:
    """The fields whose rendering differs between `before` (None: the task is new) and `after`."""
    found = []
    for field, render in FIELDS.items():
        old = render(before) if before is not None else None
        new = render(after)
        if old != new:
            found.append(FieldChange(field, old, new))
    return tuple(found)
