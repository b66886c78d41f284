"""Consumes `task-events` and `reminders`: one pending entry per event, exactly once.

Runs in the runtime's unit of work (inbox claim, one transaction per event).
The entry waits in `pending_entries` until the sequencer gives it its place in
the log; the event id is unique there and in the log, so a redelivery after
the inbox forgot the event (a replay from the beginning) still adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from svc_audit.diff import changes
from todo_contracts.events.v1 import reminder_events_pb2, task_events_pb2
from todo_runtime import topics
from todo_runtime.db import Connection
from todo_runtime.errors import InvalidArgument
from todo_runtime.failures import PermanentError
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.validation import instant_from_pb, text_problem, user_id_problem
from todo_transparency.entries import FieldChange

REMINDER_ACTOR: Final = "system:svc_notify"
MAX_TEXT: Final = 200  # type and actor: short identifiers, never user text
_INSERT: Final = """
    INSERT INTO pending_entries (event_id, type, task_id, owner_id, actor, at, changes)
    SELECT $1, $2, $3, $4, $5, $6, $7::jsonb
    WHERE NOT EXISTS (SELECT 1 FROM entries WHERE event_id = $1)
    ON CONFLICT (event_id) DO NOTHING"""


def _task_id(value: str, event_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise PermanentError(f"event {event_id} names no task id") from None


def _instant(value: Timestamp, event_id: str) -> datetime:
    try:
        return instant_from_pb(value, "time")
    except InvalidArgument as error:
        raise PermanentError(f"event {event_id}: {error.message}") from None


def _identifier(value: str, what: str, event_id: str) -> str:
    problem = text_problem(value) or (None if 0 < len(value) <= MAX_TEXT else "empty or too long")
    if problem is not None:
        raise PermanentError(f"event {event_id}: {what} {problem}")
    return value


async def _pend(
    conn: Connection,
    received: ReceivedEvent,
    *,
    task_id: uuid.UUID,
    owner: str,
    actor: str,
    at: datetime,
    diff: tuple[FieldChange, ...],
) -> None:
    event_id = received.headers.id
    problem = user_id_problem(owner)
    if problem is not None:
        raise PermanentError(f"event {event_id}: owner: {problem}")
    await conn.execute(
        _INSERT,
        event_id,
        _identifier(received.headers.type, "type", event_id),
        task_id,
        owner,
        _identifier(actor, "actor", event_id),
        at,
        [{"field": c.field, "before": c.before, "after": c.after} for c in diff],
    )


async def record_task_event(received: ReceivedEvent, conn: Connection) -> None:
    event = received.parse(task_events_pb2.TaskEvent)
    previous = event.previous_task if event.HasField("previous_task") else None
    await _pend(
        conn,
        received,
        task_id=_task_id(event.task.id, received.headers.id),
        owner=event.user_id,
        actor=event.actor or event.user_id,
        at=_instant(event.event_time, received.headers.id),
        diff=changes(previous, event.task),
    )


async def record_reminder(received: ReceivedEvent, conn: Connection) -> None:
    event = received.parse(reminder_events_pb2.ReminderFired)
    await _pend(
        conn,
        received,
        task_id=_task_id(event.task_id, received.headers.id),
        owner=event.user_id,
        actor=REMINDER_ACTOR,
        at=_instant(event.fire_time, received.headers.id),
        diff=(),
    )


async def record(received: ReceivedEvent, conn: Connection) -> None:
    """The handler for both topics."""
    if received.topic == topics.REMINDERS:
        await record_reminder(received, conn)
    else:
        await record_task_event(received, conn)
