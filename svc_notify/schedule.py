"""Which reminders a task wants, and when: pure rules, no I/O.

A task's reminders are live while it is open and not deleted. A relative
reminder fires `minutes_before` its due time (it needs one); an absolute one
at its instant. Reminders whose time is not after the change that set them
are not scheduled: the change itself made them past (created with a time
already gone, or reopened after it), so there is nothing to fire late. A
reminder scheduled by an earlier change stays scheduled while the task still
has it (`current`), even when a later change (a new title) comes after its
time: svc_notify may learn of both before it fires (it lagged), and the
reminder then fires late, or is missed by the grace rule, but is never lost.

Pure, as `lint-imports` checks: what a pure module may import is listed with its
contract in pyproject.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.timestamps import from_timestamp

SNOOZE_PREFIX = "snooze:"


@dataclass(frozen=True)
class Wanted:
    """One reminder of a task and the instant it should fire."""

    reminder_id: str
    fire_at: datetime


def is_open(event: task_events_pb2.TaskEvent) -> bool:
    """Whether the task after this change still wants its reminders."""
    return (
        event.kind != task_pb2.CHANGE_KIND_DELETED
        and event.task.status == task_pb2.TASK_STATUS_OPEN
    )


def wanted(event: task_events_pb2.TaskEvent) -> list[Wanted]:
    """The reminders to schedule after this change, all later than the change itself."""
    changed_at = from_timestamp(event.event_time)
    return [w for w in current(event) if w.fire_at > changed_at]


def current(event: task_events_pb2.TaskEvent) -> list[Wanted]:
    """Every reminder the task has after this change, whenever it fires."""
    if not is_open(event):
        return []
    task = event.task
    due = from_timestamp(task.due_time) if task.HasField("due_time") else None
    found: list[Wanted] = []
    for reminder in task.reminders:
        kind = reminder.WhichOneof("when")
        if kind == "minutes_before" and due is not None:
            fire_at = due - timedelta(minutes=reminder.minutes_before)
        elif kind == "remind_time":
            fire_at = from_timestamp(reminder.remind_time)
        else:
            continue
        found.append(Wanted(reminder.id, fire_at))
    return found


def snooze_reminder_id(notification_id: str) -> str:
    """The schedule entry of a snoozed notification: one per notification, so snoozing again moves it."""
    return f"{SNOOZE_PREFIX}{notification_id}"
