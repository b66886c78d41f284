"""Fires due reminders: on time, never early, once, with any number of replicas.

The scheduler sleeps until the next reminder's time (PostgreSQL's clock, the
one every replica shares) and is woken early by NOTIFY when a reminder is
scheduled; it has no polling interval. It claims due reminders with
`FOR UPDATE SKIP LOCKED`, so replicas split a burst instead of firing it
twice, and for each one, in one transaction: marks it fired, writes the
notification, the `reminders` event (outbox) and a webhook delivery per
enabled endpoint. A reminder whose time passed more than the grace window
ago (svc_notify was down) is marked missed instead of firing late. Each
settled batch is counted once committed: fired, late (more than `LATE_AFTER`
after its time) and missed.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from svc_notify.payloads import reminder_payload
from todo_contracts.events.v1 import reminder_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import metrics, topics
from todo_runtime.db import Connection
from todo_runtime.due_work import run_due_work
from todo_runtime.outbox import OutgoingEvent, enqueue
from todo_runtime.timestamps import timestamp

log = logging.getLogger(__name__)

SOURCE: Final = "/svc_notify"
LATE_AFTER: Final = timedelta(seconds=1)  # the target: docs/architecture.md#domain-rules
_CLAIM: Final = """
SELECT r.id, r.owner_id, r.task_id, r.reminder_id, r.fire_at, r.correlation_id, r.trace_context,
       s.snapshot, clock_timestamp() AS now
FROM reminders r JOIN task_states s USING (task_id)
WHERE r.state = 'scheduled' AND r.fire_at <= clock_timestamp()
ORDER BY r.fire_at
LIMIT $1
FOR UPDATE OF r SKIP LOCKED"""
_NEXT: Final = """
SELECT extract(epoch FROM min(fire_at) - clock_timestamp())
FROM reminders WHERE state = 'scheduled'"""


@dataclass(frozen=True)
class Fired:
    """What one firing produced, for the batch statements."""

    reminder_row: int
    notification_id: uuid.UUID
    event: reminder_events_pb2.ReminderFired
    task: task_pb2.Task
    delay: timedelta  # from its time to its firing (PostgreSQL's clock)
    correlation_id: str | None  # of the request that scheduled it
    trace_context: dict[str, str] | None  # of the event that scheduled it (tracing.trace_context)


class Scheduler:
    """Fires the reminders of one schema; run one per replica.

    `grace`: how late a reminder may still fire (after an outage); older ones
    are recorded as missed. `batch`: reminders claimed per transaction.
    """

    def __init__(
        self, pool: asyncpg.Pool[Any], schema: str, grace: timedelta, batch: int = 500
    ) -> None:
        self._pool = pool
        self._channel = f"{schema}_reminders"
        self._grace = grace
        self._batch = batch

    async def run(self) -> None:
        """Fires until cancelled."""
        await run_due_work(self._pool, self._channel, self._work, name="scheduler")

    async def _work(self) -> float | None:
        """Fires everything due; returns seconds until the next reminder."""
        while await self.fire_due() == self._batch:
            pass
        delay = await self._pool.fetchval(_NEXT)
        return None if delay is None else float(delay)

    async def fire_due(self) -> int:
        """Settles up to one batch of due reminders in one transaction; returns how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, self._batch)
            if not rows:
                return 0
            missed = [row["id"] for row in rows if row["fire_at"] < row["now"] - self._grace]
            fired = [_fire(row) for row in rows if row["fire_at"] >= row["now"] - self._grace]
            now = rows[0]["now"]
            if missed:
                await conn.execute(
                    """UPDATE reminders SET state = 'missed', settled_at = $2
                       WHERE id = ANY($1::bigint[])""",
                    missed,
                    now,
                )
                log.warning("%d reminders missed (due more than %s ago)", len(missed), self._grace)
            if fired:
                await _record(conn, fired, now)
        _count(fired, len(missed))
        return len(rows)


def _fire(row: asyncpg.Record) -> Fired:
    task = task_pb2.Task.FromString(row["snapshot"])
    notification_id = uuid.uuid4()
    event = reminder_events_pb2.ReminderFired(
        event_id=str(uuid.uuid4()),
        notification_id=str(notification_id),
        user_id=row["owner_id"],
        task_id=str(row["task_id"]),
        reminder_id=row["reminder_id"],
        scheduled_time=timestamp(row["fire_at"]),
        fire_time=timestamp(row["now"]),
        task=task,
    )
    if task.HasField("due_time"):
        event.due_time.CopyFrom(task.due_time)
    return Fired(
        row["id"],
        notification_id,
        event,
        task,
        row["now"] - row["fire_at"],
        row["correlation_id"],
        row["trace_context"],
    )


def _count(fired: list[Fired], missed: int) -> None:
    """Counts a committed batch."""
    metrics.REMINDERS_MISSED.inc(missed)
    metrics.REMINDERS_FIRED.inc(len(fired))
    metrics.REMINDERS_LATE.inc(sum(f.delay > LATE_AFTER for f in fired))
    for f in fired:
        metrics.REMINDER_DELAY.observe(f.delay.total_seconds())


async def _record(conn: Connection, fired: list[Fired], now: datetime) -> None:
    """Notifications, reminder states, events and webhook deliveries of a batch, set-wise."""
    await conn.execute(
        """INSERT INTO notifications (id, owner_id, task_id, reminder_id, title, due_at,
                                      scheduled_at, fired_at)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[],
                                $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])""",
        [f.notification_id for f in fired],
        [f.event.user_id for f in fired],
        [uuid.UUID(f.event.task_id) for f in fired],
        [f.event.reminder_id for f in fired],
        [f.task.title for f in fired],
        [
            f.event.due_time.ToDatetime(tzinfo=UTC) if f.event.HasField("due_time") else None
            for f in fired
        ],
        [f.event.scheduled_time.ToDatetime(tzinfo=UTC) for f in fired],
        [now for _ in fired],
    )
    await conn.execute(
        """UPDATE reminders SET state = 'fired', settled_at = $3, notification_id = fired.nid
           FROM unnest($1::bigint[], $2::uuid[]) AS fired (id, nid) WHERE reminders.id = fired.id""",
        [f.reminder_row for f in fired],
        [f.notification_id for f in fired],
        now,
    )
    await enqueue(
        conn,
        [
            OutgoingEvent(
                topic=topics.REMINDERS,
                key=f.event.user_id,
                message=f.event,
                event_id=f.event.event_id,
                source=SOURCE,
                type="todo.reminder.fired",
                subject=f.event.task_id,
                time=now,
                correlation_id=f.correlation_id,
            )
            for f in fired
        ],
    )
    await conn.execute(
        """INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, message_id, event_id, payload,
                                        trace_context)
           SELECT gen_random_uuid(), e.id, e.owner_id, 'msg_' || md5(e.id::text || ev.event_id),
                  ev.event_id, ev.payload::jsonb, ev.trace_context::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                AS ev (owner_id, event_id, payload, trace_context)
           JOIN webhook_endpoints e ON e.owner_id = ev.owner_id AND e.enabled
           ON CONFLICT (endpoint_id, event_id) DO NOTHING""",
        [f.event.user_id for f in fired],
        [f.event.event_id for f in fired],
        [json.dumps(reminder_payload(f.event)) for f in fired],
        [None if f.trace_context is None else json.dumps(f.trace_context) for f in fired],
    )
