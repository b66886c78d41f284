"""The scheduler and the schedule against real PostgreSQL: bursts, replicas, order of events."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from svc_notify.firing import Scheduler
from svc_notify.service import SCHEMA
from svc_notify.task_changes import apply_task_event
from tests.support.infra import eventually
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import request_context
from todo_runtime.cloudevents import event_headers, read_headers
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.timestamps import timestamp
from todo_runtime.unit_of_work import transactional


def received(event: task_events_pb2.TaskEvent) -> ReceivedEvent:
    headers = event_headers(
        event_id=event.event_id,
        source="/test",
        type="todo.task.updated",
        subject=event.task.id,
        time=datetime.now(UTC),
        message_name=event.DESCRIPTOR.full_name,
    )
    return ReceivedEvent(
        "task-events", 0, 0, b"k", event.SerializeToString(), read_headers(headers)
    )


def change(
    task_id: str, sequence: int, due: datetime, *, kind: int = task_pb2.CHANGE_KIND_UPDATED
) -> task_events_pb2.TaskEvent:
    task = task_pb2.Task(
        id=task_id,
        owner_id="alice",
        title=f"v{sequence}",
        status=task_pb2.TASK_STATUS_OPEN,
        due_time=timestamp(due),
        reminders=[task_pb2.Reminder(id="before-0", minutes_before=0)],
    )
    return task_events_pb2.TaskEvent(
        event_id=str(uuid.uuid4()),
        kind=kind,  # type: ignore[arg-type]
        user_id="alice",
        task=task,
        sequence=sequence,
        event_time=timestamp(datetime.now(UTC)),
    )


async def test_an_older_event_never_undoes_a_newer_one(pool: asyncpg.Pool[Any]) -> None:
    apply = transactional(pool, "svc_notify", apply_task_event)
    task_id = str(uuid.uuid4())
    later = datetime.now(UTC) + timedelta(hours=3)
    earlier = datetime.now(UTC) + timedelta(hours=1)
    newest = change(task_id, 7, later)
    stale = change(task_id, 5, earlier)
    await apply(received(newest))
    await apply(received(stale))  # redelivered out of order: ignored
    await apply(received(newest))  # redelivered again: the inbox skips it
    deleted = change(task_id, 8, later, kind=task_pb2.CHANGE_KIND_DELETED)
    rows = await pool.fetch(
        "SELECT fire_at, state FROM reminders WHERE task_id = $1", uuid.UUID(task_id)
    )
    assert [(r["fire_at"], r["state"]) for r in rows] == [(later, "scheduled")]
    await apply(received(deleted))
    await apply(received(change(task_id, 6, earlier)))  # older than the delete
    assert (
        await pool.fetchval("SELECT count(*) FROM reminders WHERE task_id = $1", uuid.UUID(task_id))
        == 0
    )
    assert (
        await pool.fetchval("SELECT open FROM task_states WHERE task_id = $1", uuid.UUID(task_id))
        is False
    )


async def test_changes_of_one_task_applied_at_once_leave_the_newest(
    pool: asyncpg.Pool[Any],
) -> None:
    """Twelve changes of a new task, each in its own transaction and all at once, in a shuffled
    order: whichever commits first, the task ends with the newest change's one reminder."""
    apply = transactional(pool, "svc_notify", apply_task_event)
    task_id = str(uuid.uuid4())
    start = datetime.now(UTC) + timedelta(hours=1)
    changes = [change(task_id, n, start + timedelta(minutes=n)) for n in range(1, 13)]
    order = [5, 11, 0, 7, 3, 9, 1, 10, 4, 8, 2, 6]  # the newest (11) second: the rest must wait

    await asyncio.gather(*(apply(received(changes[n])) for n in order))

    rows = await pool.fetch(
        "SELECT fire_at FROM reminders WHERE task_id = $1 AND state = 'scheduled'",
        uuid.UUID(task_id),
    )
    assert [r["fire_at"] for r in rows] == [start + timedelta(minutes=12)]
    state = await pool.fetchrow(
        "SELECT sequence, snapshot FROM task_states WHERE task_id = $1", uuid.UUID(task_id)
    )
    assert state is not None
    assert state["sequence"] == 12
    assert task_pb2.Task.FromString(state["snapshot"]).title == "v12"


async def seed_burst(pool: asyncpg.Pool[Any], count: int, at: datetime) -> None:
    """`count` open tasks of 50 users, each with one reminder due at `at`."""
    task_ids = [uuid.uuid4() for _ in range(count)]
    owners = [f"user-{i % 50}" for i in range(count)]
    snapshots = [
        task_pb2.Task(id=str(t), owner_id=o, title=f"task {i}").SerializeToString()
        for i, (t, o) in enumerate(zip(task_ids, owners, strict=True))
    ]
    await pool.execute(
        """INSERT INTO task_states (task_id, owner_id, sequence, open, snapshot)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::boolean[], $5::bytea[])""",
        task_ids,
        owners,
        [1] * count,
        [True] * count,
        snapshots,
    )
    await pool.execute(
        """INSERT INTO reminders (owner_id, task_id, reminder_id, fire_at)
           SELECT o, t, 'before-0', $3 FROM unnest($1::text[], $2::uuid[]) AS s (o, t)""",
        owners,
        task_ids,
        at,
    )


async def test_two_replicas_fire_a_burst_of_1000_exactly_once(
    pool: asyncpg.Pool[Any], database_url: str
) -> None:
    other_pool = await create_pool(DatabaseConfig(database_url, 1, 8), SCHEMA)
    due = datetime.now(UTC) + timedelta(seconds=2)
    await seed_burst(pool, 1000, due)
    replicas = [
        asyncio.create_task(Scheduler(p, SCHEMA, timedelta(minutes=5), batch=200).run())
        for p in (pool, other_pool)
    ]
    try:

        async def all_settled() -> bool:
            left = await pool.fetchval("SELECT count(*) FROM reminders WHERE state = 'scheduled'")
            return bool(left == 0)

        await eventually(all_settled, 60)
        stats = await pool.fetchrow(
            """SELECT count(*) FILTER (WHERE state = 'fired') AS fired,
                      count(*) FILTER (WHERE state = 'missed') AS missed,
                      count(DISTINCT notification_id) AS notifications,
                      min(settled_at - fire_at) AS earliest,
                      percentile_cont(0.99) WITHIN GROUP (
                          ORDER BY extract(epoch FROM settled_at - fire_at)) AS p99
               FROM reminders"""
        )
        assert stats is not None
        print(f"burst of 1000 on two replicas: p99 {stats['p99'] * 1000:.0f} ms late")
        assert (stats["fired"], stats["missed"], stats["notifications"]) == (1000, 0, 1000)
        assert stats["earliest"] >= timedelta(0)  # never early
        assert await pool.fetchval("SELECT count(*) FROM notifications") == 1000
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = 'reminders'") == 1000
    finally:
        for replica in replicas:
            replica.cancel()
        await asyncio.gather(*replicas, return_exceptions=True)
        await other_pool.close()


async def test_a_fired_reminder_carries_the_id_of_the_request_that_scheduled_it(
    pool: asyncpg.Pool[Any],
) -> None:
    apply = transactional(pool, "svc_notify", apply_task_event)
    due = datetime.now(UTC) + timedelta(milliseconds=500)  # reminders in the past never fire
    scheduled = replace(
        received(change(str(uuid.uuid4()), 1, due)), propagation=(("x-request-id", "req-7"),)
    )
    with scheduled.handling():  # as the consumer applies it
        await apply(scheduled)
    assert request_context.correlation_id() is None  # the firing runs for no request
    scheduler = Scheduler(pool, SCHEMA, grace=timedelta(minutes=5))

    async def fired() -> bool:
        return await scheduler.fire_due() == 1

    await eventually(fired)
    headers = json.loads(
        await pool.fetchval("SELECT headers::text FROM outbox WHERE topic = 'reminders'")
    )
    assert ["x-request-id", "req-7"] in headers


async def test_a_reminder_outlives_a_later_change_that_arrives_before_it_fired(
    pool: asyncpg.Pool[Any],
) -> None:
    """svc_notify lagged (found by the fault suite with a paused broker): it learns of a task and
    of a rename made after the reminder's time together. The reminder fires, late, not never."""
    apply = transactional(pool, "svc_notify", apply_task_event)
    task_id = str(uuid.uuid4())
    due = datetime.now(UTC) + timedelta(milliseconds=300)
    renamed = change(task_id, 2, due)
    renamed.event_time.CopyFrom(timestamp(due + timedelta(seconds=1)))
    await apply(received(change(task_id, 1, due)))
    await apply(received(renamed))
    scheduler = Scheduler(pool, SCHEMA, grace=timedelta(minutes=5))

    async def fired() -> bool:
        return await scheduler.fire_due() == 1

    await eventually(fired)
    states = await pool.fetch("SELECT state FROM reminders WHERE task_id = $1", uuid.UUID(task_id))
    assert [r["state"] for r in states] == ["fired"]
