"""Consumes `task-events`: keeps each open task's reminders scheduled, in the task's change order.

Runs in the runtime's unit of work (inbox claim, one transaction). Events can
arrive twice or out of order after a redelivery or a broker that forgot; each
carries the owner's change sequence, and a task applies only changes newer
than the last one it applied, so an old event never undoes a newer one (a
delete does not bump `version`, but it does take a sequence number).
"""

from __future__ import annotations

import uuid

from svc_notify import schedule
from todo_contracts.events.v1 import task_events_pb2
from todo_runtime import metrics, request_context, tracing
from todo_runtime.after_commit import after_commit
from todo_runtime.db import Connection
from todo_runtime.failures import PermanentError
from todo_runtime.received_event import ReceivedEvent


async def apply_task_event(received: ReceivedEvent, conn: Connection) -> None:
    event = received.parse(task_events_pb2.TaskEvent)
    try:
        task_id = uuid.UUID(event.task.id)
    except ValueError:
        raise PermanentError(f"event {event.event_id} names no task id") from None
    is_open = schedule.is_open(event)
    # One statement takes the task's place and decides whether this change is newer than the
    # last one applied. It waits for another transaction writing the same task (the row's lock,
    # or the key's if the row is new) and keeps the lock until commit: one writer per task.
    newer = await conn.fetchval(
        """INSERT INTO task_states (task_id, owner_id, sequence, open, snapshot)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (task_id) DO UPDATE
               SET sequence = EXCLUDED.sequence, open = EXCLUDED.open, snapshot = EXCLUDED.snapshot
               WHERE task_states.sequence < EXCLUDED.sequence
           RETURNING true""",
        task_id,
        event.user_id,
        event.sequence,
        is_open,
        event.task.SerializeToString(),
    )
    if newer is None:
        return  # this change, or a newer one, is already in effect
    if not is_open:  # completed or deleted: nothing of it fires any more, snoozes included
        await conn.execute(
            "DELETE FROM reminders WHERE task_id = $1 AND state = 'scheduled'", task_id
        )
        return
    current = schedule.current(event)  # what stays scheduled, even past (see `schedule`)
    await conn.execute(
        """DELETE FROM reminders
           WHERE task_id = $1 AND state = 'scheduled' AND reminder_id NOT LIKE $2 || '%'
             AND (reminder_id, fire_at) NOT IN (
                 SELECT * FROM unnest($3::text[], $4::timestamptz[]))""",
        task_id,
        schedule.SNOOZE_PREFIX,
        [w.reminder_id for w in current],
        [w.fire_at for w in current],
    )
    wanted = schedule.wanted(event)
    if not wanted:
        return
    status = await conn.execute(
        """INSERT INTO reminders (owner_id, task_id, reminder_id, fire_at, correlation_id,
                                 trace_context)
           SELECT $1, $2, reminder_id, fire_at, $5, $6
           FROM unnest($3::text[], $4::timestamptz[]) AS wanted (reminder_id, fire_at)
           ORDER BY fire_at
           ON CONFLICT (task_id, reminder_id, fire_at) DO NOTHING""",
        event.user_id,
        task_id,
        [w.reminder_id for w in wanted],
        [w.fire_at for w in wanted],
        request_context.correlation_id(),  # the firing carries it on
        tracing.trace_context(),  # and its webhook deliveries continue this trace
    )
    added = int(status.split()[-1])  # "INSERT 0 <rows>": those not scheduled already
    if added:
        after_commit(lambda: metrics.REMINDERS_SCHEDULED.inc(added))
