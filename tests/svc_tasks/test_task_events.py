"""Every task change reaches the broker through the outbox: in order, once, with CloudEvents headers."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from tests.support.infra import RunningTasks
from tests.support.records import read_topic
from tests.svc_tasks.conftest import Call, create_request
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc

K = task_pb2


async def test_every_change_is_published_in_order_with_cloudevents_headers(
    call: Call, broker: EmbeddedBroker
) -> None:
    task = (
        await call(
            "alice",
            "CreateTask",
            create_request("a"),
        )
    ).task
    await call(
        "alice",
        "UpdateTask",
        svc.UpdateTaskRequest(
            task=K.Task(id=task.id, title="b"), update_mask=FieldMask(paths=["title"])
        ),
    )
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))
    await call("alice", "ReopenTask", svc.ReopenTaskRequest(id=task.id))
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))

    records = await asyncio.to_thread(
        read_topic, broker.bootstrap_servers, "task-events", at_least=5
    )
    events = [task_events_pb2.TaskEvent.FromString(r.value) for r in records]
    assert [e.kind for e in events] == [
        K.CHANGE_KIND_CREATED,
        K.CHANGE_KIND_UPDATED,
        K.CHANGE_KIND_COMPLETED,
        K.CHANGE_KIND_REOPENED,
        K.CHANGE_KIND_DELETED,
    ]
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[1].previous_task.title == "a"
    assert events[1].task.title == "b"
    assert all(e.actor == "alice" and e.user_id == "alice" for e in events)
    assert len({e.event_id for e in events}) == 5
    for record, event in zip(records, events, strict=True):
        assert record.key == b"alice"
        headers = record.headers
        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_id"].decode() == event.event_id
        assert headers["ce_source"] == b"/svc_tasks"
        assert headers["ce_subject"].decode() == task.id
        assert headers["content-type"] == b"application/protobuf"
        assert headers["ce_time"]
    assert [r.headers["ce_type"] for r in records] == [
        b"todo.task.created",
        b"todo.task.updated",
        b"todo.task.completed",
        b"todo.task.reopened",
        b"todo.task.deleted",
    ]

    updates = await asyncio.to_thread(
        read_topic, broker.bootstrap_servers, "task-updates", at_least=5
    )
    feed = [task_events_pb2.TaskUpdate.FromString(r.value) for r in updates]
    assert [u.sequence for u in feed] == [1, 2, 3, 4, 5]
    assert feed[0].task.id == task.id


async def test_failed_changes_publish_nothing(
    call: Call, tasks_service: RunningTasks, broker: EmbeddedBroker
) -> None:
    task = (
        await call(
            "alice",
            "CreateTask",
            create_request("a"),
        )
    ).task
    rejected = [
        svc.UpdateTaskRequest(
            task=K.Task(id=task.id, title=""), update_mask=FieldMask(paths=["title"])
        ),
        svc.UpdateTaskRequest(
            task=K.Task(id=task.id, title="b"),
            update_mask=FieldMask(paths=["title"]),
            expected_version=9,
        ),
        svc.UpdateTaskRequest(
            task=K.Task(id=task.id, title="b", reminders=[K.Reminder(minutes_before=5)]),
            update_mask=FieldMask(paths=["title", "reminders"]),
        ),
    ]
    for request in rejected:
        with pytest.raises(grpc.aio.AioRpcError):
            await call("alice", "UpdateTask", request)
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))

    records = await asyncio.to_thread(
        read_topic, broker.bootstrap_servers, "task-events", at_least=3, timeout=8
    )
    kinds = [task_events_pb2.TaskEvent.FromString(r.value).kind for r in records]
    assert kinds == [K.CHANGE_KIND_CREATED, K.CHANGE_KIND_COMPLETED]
    conn = await asyncpg.connect(tasks_service.config.database.url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM tasks.outbox") == 4  # 2 changes x 2 topics
        assert await conn.fetchval("SELECT max(sequence) FROM tasks.changes") == 2
    finally:
        await conn.close()


async def test_changes_made_while_the_broker_is_down_are_published_when_it_returns(
    call: Call, tasks_service: RunningTasks, broker: EmbeddedBroker
) -> None:
    broker.stop()
    ids = [
        (
            await call(
                "alice",
                "CreateTask",
                create_request(f"offline {i}"),
            )
        ).task.id
        for i in range(3)
    ]
    conn = await asyncpg.connect(tasks_service.config.database.url)
    try:
        await asyncio.sleep(1.0)
        assert await conn.fetchval("SELECT count(*) FROM tasks.outbox WHERE sent_at IS NULL") == 6
        broker.start()  # an empty in-memory broker: topics are recreated by the relay
        records = await asyncio.to_thread(
            read_topic, broker.bootstrap_servers, "task-events", at_least=3, timeout=30
        )
        assert [task_events_pb2.TaskEvent.FromString(r.value).task.id for r in records] == ids
        for _ in range(100):
            if await conn.fetchval("SELECT count(*) FROM tasks.outbox WHERE sent_at IS NULL") == 0:
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM tasks.outbox WHERE sent_at IS NULL") == 0
    finally:
        await conn.close()
