"""Conversions between database rows, domain values and `todo.tasks.v1` messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from svc_tasks.domain import Reminder
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import validation
from todo_runtime.timestamps import timestamp


def reminders_to_json(reminders: list[Reminder]) -> list[dict[str, Any]]:
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


def reminders_from_pb(values: Any, field: str = "task.reminders") -> list[Reminder]:
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
