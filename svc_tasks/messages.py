"""Conversions between `todo.tasks.v1` messages, domain values and database rows: no rules.

A request's values become domain values here (refused only when they cannot be converted, an
instant out of range); whether they are acceptable is for the domain to say.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Final

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from svc_tasks.domain.fields import Reminder
from svc_tasks.domain.lifecycle import UPDATABLE, TaskInput, TaskState
from svc_tasks.domain.recurrence import BASES, BASIS_NUMBERS, RecurrenceValue, RequestedRecurrence
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import validation
from todo_runtime.errors import InvalidArgument
from todo_runtime.timestamps import from_timestamp, timestamp

# What a task's row is read with (`state_from_row`, `task_from_row`): every column but the
# search document, a tsvector as long as the text, which PostgreSQL would send and asyncpg
# decode for every row of a page while no reader looks at it.
TASK_COLUMNS: Final = (
    "id, owner_id, title, description, status, priority, tags, due_at, time_zone, "
    "recurrence_rule, recurrence_text, recurrence_basis, recurrence_final, reminders, "
    "series_id, series_index, version, created_at, updated_at, completed_at"
)


def bound_lists(task: task_pb2.Task) -> None:
    """Refuses a task's lists when too long, before anything else of the request is read (a
    recurrence expanded, a row locked)."""
    validation.bounded(task.tags, "task.tags", validation.TAGS_MAX)
    validation.bounded(task.reminders, "task.reminders", validation.REMINDERS_MAX)


def input_from_pb(task: task_pb2.Task, paths: AbstractSet[str] = UPDATABLE) -> TaskInput:
    """The settable fields of `task`. Only those in `paths` are converted (converting can refuse
    a value): an update ignores the fields its mask does not name."""
    due_at = None
    if "due_time" in paths and task.HasField("due_time"):
        due_at = validation.instant_from_pb(task.due_time, "task.due_time")
    recurrence = None
    if "recurrence" in paths and task.HasField("recurrence"):
        requested = task.recurrence
        recurrence = RequestedRecurrence(requested.rule, requested.text, requested.basis)
    return TaskInput(
        title=task.title,
        description=task.description,
        priority=task.priority,
        tags=list(task.tags),
        due_at=due_at,
        time_zone=task.time_zone,
        recurrence=recurrence,
        reminders=reminders_from_pb(task.reminders) if "reminders" in paths else [],
    )


def reminders_to_json(reminders: Sequence[Reminder]) -> list[dict[str, Any]]:
    return [
        {"minutes_before": r.minutes_before}
        if r.minutes_before is not None
        else {"at": r.at.isoformat() if r.at else None}
        for r in reminders
    ]


def reminders_from_json(values: list[dict[str, Any]]) -> list[Reminder]:
    return [
        Reminder(minutes_before=v["minutes_before"])
        if "minutes_before" in v
        else Reminder(at=datetime.fromisoformat(v["at"]))
        for v in values
    ]


def reminders_from_pb(
    values: Iterable[task_pb2.Reminder], field: str = "task.reminders"
) -> list[Reminder]:
    result = []
    for index, value in enumerate(values):
        kind = value.WhichOneof("when")
        if kind == "minutes_before":
            result.append(Reminder(minutes_before=value.minutes_before))
        elif kind == "remind_time":
            at = validation.instant_from_pb(value.remind_time, f"{field}[{index}].remind_time")
            result.append(Reminder(at=at))
        else:
            result.append(Reminder())
    return result


def state_from_row(row: Mapping[str, Any]) -> TaskState:
    recurrence = None
    if row["recurrence_rule"] is not None:
        recurrence = RecurrenceValue(
            rule=row["recurrence_rule"],
            text=row["recurrence_text"],
            basis=BASES[row["recurrence_basis"]],
            final=row["recurrence_final"],
        )
    return TaskState(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        priority=row["priority"],
        tags=tuple(row["tags"]),
        due_at=row["due_at"],
        time_zone=row["time_zone"],
        recurrence=recurrence,
        reminders=tuple(reminders_from_json(row["reminders"])),
        series_id=row["series_id"],
        series_index=row["series_index"],
        status=row["status"],
        completed_at=row["completed_at"],
        version=row["version"],
    )


def state_from_pb(task: task_pb2.Task) -> TaskState:
    """A task as the change log keeps it (a snapshot), as the rules read it."""
    recurrence = None
    if task.HasField("recurrence"):
        value = task.recurrence
        recurrence = RecurrenceValue(
            rule=value.rule, text=value.text, basis=BASES[value.basis], final=value.final
        )
    reminders = [
        Reminder(minutes_before=r.minutes_before)
        if r.WhichOneof("when") == "minutes_before"
        else Reminder(at=from_timestamp(r.remind_time))
        for r in task.reminders
    ]
    return TaskState(
        id=uuid.UUID(task.id),
        title=task.title,
        description=task.description,
        priority=task.priority,
        tags=tuple(task.tags),
        due_at=from_timestamp(task.due_time) if task.HasField("due_time") else None,
        time_zone=task.time_zone,
        recurrence=recurrence,
        reminders=tuple(reminders),
        series_id=uuid.UUID(task.series_id) if task.series_id else None,
        series_index=task.series_index or None,
        status=task.status,
        completed_at=from_timestamp(task.complete_time) if task.HasField("complete_time") else None,
        version=task.version,
    )


def columns(task: TaskState) -> dict[str, Any]:
    """The `tasks` columns that hold `task` (the inverse of `state_from_row`)."""
    recurrence = task.recurrence
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "priority": task.priority,
        "tags": list(task.tags),
        "due_at": task.due_at,
        "time_zone": task.time_zone,
        "recurrence_rule": recurrence.rule if recurrence else None,
        "recurrence_text": recurrence.text if recurrence else None,
        "recurrence_basis": BASIS_NUMBERS[recurrence.basis] if recurrence else None,
        "recurrence_final": recurrence.final if recurrence else False,
        "reminders": reminders_to_json(task.reminders),
        "series_id": task.series_id,
        "series_index": task.series_index,
        "status": task.status,
        "completed_at": task.completed_at,
        "version": task.version,
    }


def _optional_instant(column: str) -> Callable[[Mapping[str, Any]], Timestamp | None]:
    def read(row: Mapping[str, Any]) -> Timestamp | None:
        value = row[column]
        return None if value is None else timestamp(value)

    return read


def _recurrence(row: Mapping[str, Any]) -> task_pb2.Recurrence | None:
    if row["recurrence_rule"] is None:
        return None
    return task_pb2.Recurrence(
        rule=row["recurrence_rule"],
        text=row["recurrence_text"],
        basis=row["recurrence_basis"],
        final=row["recurrence_final"],
    )


def _reminders(row: Mapping[str, Any]) -> list[task_pb2.Reminder] | None:
    if not row["reminders"]:
        return None
    return [
        task_pb2.Reminder(id=reminder.id, minutes_before=reminder.minutes_before)
        if reminder.minutes_before is not None
        else task_pb2.Reminder(id=reminder.id, remind_time=timestamp(reminder.at))
        if reminder.at is not None
        else task_pb2.Reminder(id=reminder.id)
        for reminder in reminders_from_json(row["reminders"])
    ]


# Each field of a Task, by its name in the message: the columns it is read from, and how (None:
# left unset).
_FROM_ROW: Final[dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], Any]]]] = {
    "id": (("id",), lambda row: str(row["id"])),
    "owner_id": (("owner_id",), lambda row: row["owner_id"]),
    "title": (("title",), lambda row: row["title"]),
    "description": (("description",), lambda row: row["description"]),
    "status": (("status",), lambda row: row["status"]),
    "priority": (("priority",), lambda row: row["priority"]),
    "tags": (("tags",), lambda row: row["tags"]),
    "due_time": (("due_at",), _optional_instant("due_at")),
    "time_zone": (("time_zone",), lambda row: row["time_zone"]),
    "recurrence": (
        ("recurrence_rule", "recurrence_text", "recurrence_basis", "recurrence_final"),
        _recurrence,
    ),
    "reminders": (("reminders",), _reminders),
    "series_id": (
        ("series_id",),
        lambda row: str(row["series_id"]) if row["series_id"] else None,
    ),
    "series_index": (("series_index",), lambda row: row["series_index"]),
    "version": (("version",), lambda row: row["version"]),
    "create_time": (("created_at",), lambda row: timestamp(row["created_at"])),
    "update_time": (("updated_at",), lambda row: timestamp(row["updated_at"])),
    "complete_time": (("completed_at",), _optional_instant("completed_at")),
}
# What a read mask may name: every field of a Task (a row never has a delete_time).
TASK_FIELDS: Final = frozenset(task_pb2.Task.DESCRIPTOR.fields_by_name)


def read_mask(mask: FieldMask) -> frozenset[str]:
    """The fields a ListTasks `read_mask` names; every field when it names none."""
    if not mask.paths:
        return TASK_FIELDS
    validation.bounded(mask.paths, "read_mask.paths", len(TASK_FIELDS))
    named = frozenset(mask.paths)
    unknown = named - TASK_FIELDS
    if unknown:
        raise InvalidArgument("read_mask", f"Task has no field {', '.join(sorted(unknown))}")
    return named


def task_from_row(row: Mapping[str, Any], fields: AbstractSet[str] = TASK_FIELDS) -> task_pb2.Task:
    """The task message of a row, only `fields` set: a page converts what its reader asked for."""
    values = {}
    for name, (_, read) in _FROM_ROW.items():
        if name in fields:
            value = read(row)
            if value is not None:
                values[name] = value
    return task_pb2.Task(**values)


@functools.lru_cache(maxsize=256)  # bounded: a caller may ask for any of 2**18 masks
def columns_of(fields: frozenset[str]) -> str:
    """The columns (of `TASK_COLUMNS`, in its order) that `task_from_row` reads for `fields`, the
    id always: a page selects what its read mask needs, no more."""
    needed = {"id"}.union(*(_FROM_ROW[name][0] for name in fields if name in _FROM_ROW))
    return ", ".join(column for column in TASK_COLUMNS.split(", ") if column in needed)
