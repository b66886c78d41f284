"""Entries from the broker: one per event, whatever the broker redelivers or replays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg

from tests.svc_audit.conftest import (
    Publisher,
    RunningAudit,
    StartAudit,
    new_task,
    new_user,
    reminder_record,
    signed,
    task_event,
    task_record,
    verify,
)
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.timestamps import timestamp

DUE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _changes(entry: pb.AuditEntry) -> list[tuple[str, str | None, str | None]]:
    return [
        (
            change.field,
            change.before if change.HasField("before") else None,
            change.after if change.HasField("after") else None,
        )
        for change in entry.changes
    ]


def _next(task: task_pb2.Task) -> task_pb2.Task:
    later = task_pb2.Task()
    later.CopyFrom(task)
    later.version += 1
    return later


async def test_each_event_becomes_an_entry_with_its_diff(
    audit: RunningAudit, publish: Publisher
) -> None:
    user = new_user()
    created = new_task(user)
    updated = _next(created)
    updated.title = "Water the ferns"
    updated.priority = task_pb2.PRIORITY_HIGH
    updated.tags.extend(["home"])
    updated.due_time.CopyFrom(timestamp(DUE))
    updated.time_zone = "Europe/Berlin"
    updated.reminders.add(id="r1", minutes_before=10)
    updated.recurrence.rule = "FREQ=WEEKLY"
    updated.recurrence.text = "every week"
    updated.recurrence.basis = task_pb2.RECURRENCE_BASIS_COMPLETION
    completed = _next(updated)
    completed.status = task_pb2.TASK_STATUS_COMPLETED
    completed.complete_time.CopyFrom(timestamp(DUE))
    deleted = _next(completed)
    deleted.delete_time.CopyFrom(timestamp(DUE))
    events = [
        task_event(created, task_pb2.CHANGE_KIND_CREATED),
        task_event(updated, previous=created, actor="user-helper"),
        task_event(completed, task_pb2.CHANGE_KIND_COMPLETED, previous=updated),
        task_event(deleted, task_pb2.CHANGE_KIND_DELETED, previous=completed),
    ]
    await publish.send([task_record(event) for event in events])
    # Two topics have no order between them: the reminder goes out once the task's four are in.
    await signed(audit, user, 4)
    await publish.send([reminder_record(user, created.id)])

    entries = await signed(audit, user, 5)
    assert [entry.event_id for entry in entries[:4]] == [event.event_id for event in events]
    assert [entry.type for entry in entries] == [
        "todo.task.created",
        "todo.task.updated",
        "todo.task.completed",
        "todo.task.deleted",
        "todo.reminder.fired",
    ]
    assert [entry.actor for entry in entries] == [
        user,
        "user-helper",
        user,
        user,
        "system:svc_notify",
    ]
    assert {entry.task_id for entry in entries} == {created.id}
    assert [entry.owner_sequence for entry in entries] == [1, 2, 3, 4, 5]
    assert _changes(entries[1]) == [
        ("title", "Water the plants", "Water the ferns"),
        ("priority", "NONE", "HIGH"),
        ("tags", None, '["home"]'),
        ("due_time", None, "2026-03-01T09:00:00+01:00[Europe/Berlin]"),
        ("time_zone", "UTC", "Europe/Berlin"),
        ("recurrence", None, '{"basis":"COMPLETION","rule":"FREQ=WEEKLY","text":"every week"}'),
        ("reminders", None, '[{"minutesBefore":10}]'),
    ]
    assert _changes(entries[2]) == [
        ("status", "OPEN", "COMPLETED"),
        ("complete_time", None, "2026-03-01T08:00:00Z"),
    ]
    assert _changes(entries[3]) == [("delete_time", None, "2026-03-01T08:00:00Z")]
    assert _changes(entries[4]) == []
    held = await verify(audit, user)
    assert held.entries == 5


async def test_a_redelivered_event_gives_one_entry(audit: RunningAudit, publish: Publisher) -> None:
    user = new_user()
    event = task_event(new_task(user), task_pb2.CHANGE_KIND_CREATED)
    await publish.send([task_record(event)])
    await publish.send([task_record(event), task_record(event)])
    marker = task_event(new_task(user, "after the duplicates"), task_pb2.CHANGE_KIND_CREATED)
    await publish.send([task_record(marker)])

    entries = await signed(audit, user, 2)  # the marker is behind the duplicates in the topic
    assert [entry.event_id for entry in entries] == [event.event_id, marker.event_id]


async def test_replaying_the_topic_after_the_inbox_forgot_adds_nothing(
    start_audit: StartAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    first = await start_audit()
    task = new_task(user)
    records = [task_record(task_event(task, task_pb2.CHANGE_KIND_CREATED))]
    for title in ("one", "two", "three"):
        later = _next(task)
        later.title = title
        records.append(task_record(task_event(later, previous=task)))
        task = later
    await publish.send(records)
    before = await signed(first, user, 4)
    held = await verify(first, user)
    await first.stop()

    # The inbox forgets (retention), then the whole topic arrives again, as `todo replay` sends it.
    await tables.execute("DELETE FROM processed_events")
    marker = task_event(new_task(user, "after the replay"), task_pb2.CHANGE_KIND_CREATED)
    await publish.send([*records, task_record(marker)])
    second = await start_audit()

    after = await signed(second, user, 5)
    assert after[:4] == before
    assert after[4].event_id == marker.event_id
    assert await tables.fetchval("SELECT count(*) FROM pending_entries") == 0
    assert (await verify(second, user, held)).entries == 5


async def test_only_an_insert_that_queued_an_entry_wakes_the_sequencers(
    start_audit: StartAudit, tables: asyncpg.Pool[Any]
) -> None:
    await (await start_audit()).stop()  # its tables stay; nothing takes the queued rows
    woken: asyncio.Queue[str] = asyncio.Queue()

    def wake(*args: Any) -> None:
        woken.put_nowait(args[2])

    insert = """INSERT INTO pending_entries (event_id, type, task_id, owner_id, actor, at, changes)
                SELECT event_id, 'todo.task.created', gen_random_uuid(), 'user-x', 'user-x',
                       now(), '[]'::jsonb
                FROM unnest($1::text[]) AS event_id
                ON CONFLICT (event_id) DO NOTHING"""
    async with tables.acquire() as listening:
        await listening.add_listener("audit_pending_entries", wake)
        try:
            await tables.execute(insert, ["event-a"])
            assert await asyncio.wait_for(woken.get(), 5) == "audit_pending_entries"
            await tables.execute(insert, ["event-a"])  # a redelivery: no row, so no wake-up
            await tables.execute(insert, ["event-b", "event-c"])  # two rows: one wake-up
            await asyncio.wait_for(woken.get(), 5)
            await asyncio.sleep(0.5)
            assert woken.empty()
        finally:
            await listening.remove_listener("audit_pending_entries", wake)
