"""What subscriptions push: task changes with their resume cursor, and fired reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import strawberry

from gateway import ids
from gateway.types.scalars import from_timestamp, optional_timestamp
from gateway.types.task import ChangeKind, Task
from todo_contracts.events.v1.reminder_events_pb2 import ReminderFired
from todo_contracts.events.v1.task_events_pb2 import TaskUpdate as TaskUpdatePb
from todo_contracts.tasks.v1 import task_pb2

_KIND_FROM_PB: Final = {
    task_pb2.CHANGE_KIND_CREATED: ChangeKind.CREATED,
    task_pb2.CHANGE_KIND_UPDATED: ChangeKind.UPDATED,
    task_pb2.CHANGE_KIND_COMPLETED: ChangeKind.COMPLETED,
    task_pb2.CHANGE_KIND_REOPENED: ChangeKind.REOPENED,
    task_pb2.CHANGE_KIND_DELETED: ChangeKind.DELETED,
}


@strawberry.type(description="One change to one of your tasks, in the order they happened.")
class TaskUpdate:
    cursor: str = strawberry.field(
        description="Resume cursor: pass it as taskUpdates(since:) to get exactly the changes "
        "after this one (signed, opaque, yours only)."
    )
    kind: ChangeKind = strawberry.field(description="What happened to the task.")
    task: Task = strawberry.field(
        description="The task after the change (for DELETED: as it was when deleted)."
    )

    @classmethod
    def from_pb(cls, message: TaskUpdatePb, cursor: str) -> TaskUpdate:
        return cls(cursor=cursor, kind=_KIND_FROM_PB[message.kind], task=Task.from_pb(message.task))


@strawberry.type(description="A reminder of one of your tasks fired.")
class ReminderNotice:
    notification_id: strawberry.ID = strawberry.field(
        description="The notification it created (as Notification.id): mark it read with it."
    )
    task: Task = strawberry.field(description="The task when the reminder fired.")
    due_at: datetime | None = strawberry.field(description="The task's due time then, if any.")
    fired_at: datetime = strawberry.field(description="When the reminder fired.")

    @classmethod
    def from_pb(cls, message: ReminderFired) -> ReminderNotice:
        return cls(
            notification_id=ids.encode(ids.NOTIFICATION, message.notification_id),
            task=Task.from_pb(message.task),
            due_at=optional_timestamp(message, "due_time"),
            fired_at=from_timestamp(message.fire_time),
        )
