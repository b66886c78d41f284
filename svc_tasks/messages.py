"""Conversions between `todo.tasks.v1` messages, domain values and database rows: no rules.

A request's values become domain values here (refused only when they cannot be converted, an
instant out of range); whether they are acceptable is for the domain to say.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Final

from svc_tasks.domain.fields import Reminder
from svc_tasks.domain.lifecycle import UPDATABLE, TaskInput, TaskState
from svc_tasks.domain.recurrence import BASES, BASIS_NUMBERS, RecurrenceValue, RequestedRecurrence
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import validation
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


def task_from_row(row: Mapping[str, Any]) -> task_pb2.Task:
    task = task_pb2.Task(
        id=str(row["id"]),
        owner_id=row["owner_id"],
        title=row["title"],
        description=row["description"],
        status=row["status"],
        priority=row["priority"],
        tags=row["tags"],
        time_zone=row["time_zone"],
        series_id=str(row["series_id"]) if row["series_id"] else "",
        series_index=row["series_index"] or 0,
        version=row["version"],
        create_time=timestamp(row["created_at"]),
        update_time=timestamp(row["updated_at"]),
    )
    if row["due_at"] is not None:
        task.due_time.CopyFrom(timestamp(row["due_at"]))
    if row["completed_at"] is not None:
        task.complete_time.CopyFrom(timestamp(row["completed_at"]))
    if row["recurrence_rule"] is not None:
        task.recurrence.CopyFrom(
            task_pb2.Recurrence(
                rule=row["recurrence_rule"],
                text=row["recurrence_text"],
                basis=row["recurrence_basis"],
                final=row["recurrence_final"],
            )
        )
    for reminder in reminders_from_json(row["reminders"]):
        message = task.reminders.add(id=reminder.id)
        if reminder.minutes_before is not None:
            message.minutes_before = reminder.minutes_before
        elif reminder.at is not None:
            message.remind_time.CopyFrom(timestamp(reminder.at))
    return task
