"""The outbox events one task change produces: a TaskEvent and a TaskUpdate. Both carry the
owner's change sequence, which the statement that writes them allocates and sets
(`todo_runtime.outbox.sequenced_insert`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import topics
from todo_runtime.outbox import OutgoingEvent
from todo_runtime.timestamps import timestamp

SOURCE = "/svc_tasks"


def _kind_name(kind: task_pb2.ChangeKind) -> str:
    """The CloudEvents type's last word for a change kind ("completed"), from the contract."""
    return task_pb2.ChangeKind.Name(kind).removeprefix("CHANGE_KIND_").lower()


def update_event_id(event_id: uuid.UUID) -> uuid.UUID:
    """The task-updates record's id: derived, so it is as stable as the change's own id."""
    return uuid.uuid5(event_id, "task-updates")


def change_events(
    *,
    kind: task_pb2.ChangeKind,
    event_id: uuid.UUID,
    actor: str,
    at: datetime,
    task: task_pb2.Task,
    previous: task_pb2.Task | None,
) -> list[OutgoingEvent]:
    name = _kind_name(kind)
    event = task_events_pb2.TaskEvent(
        event_id=str(event_id),
        kind=kind,
        user_id=task.owner_id,
        actor=actor,
        event_time=timestamp(at),
        task=task,
    )
    if previous is not None:
        event.previous_task.CopyFrom(previous)
    update_id = update_event_id(event_id)
    update = task_events_pb2.TaskUpdate(
        event_id=str(update_id),
        kind=kind,
        user_id=task.owner_id,
        task=task,
        change_time=timestamp(at),
    )
    return [
        OutgoingEvent(
            topic=topics.TASK_EVENTS,
            key=task.owner_id,
            message=event,
            event_id=str(event_id),
            source=SOURCE,
            type=f"todo.task.{name}",
            subject=task.id,
            time=at,
            sequence_field="sequence",
        ),
        OutgoingEvent(
            topic=topics.TASK_UPDATES,
            key=task.owner_id,
            message=update,
            event_id=str(update_id),
            source=SOURCE,
            type=f"todo.task_update.{name}",
            subject=task.id,
            time=at,
            sequence_field="sequence",
        ),
    ]
