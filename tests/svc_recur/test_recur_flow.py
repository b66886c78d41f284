"""Completing a recurring task yields exactly one next instance, end to end through the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from confluent_kafka import Producer

from svc_recur.service import SERVICE as RECUR
from tests.support.infra import RunningTasks, eventually
from tests.support.records import read_topic
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.identity import identity_metadata
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import ServiceConfig
from todo_runtime.timestamps import timestamp


async def start_recur(config: ServiceConfig) -> RunningService:
    return await start_service(RECUR, config)


class Tasks:
    """Calls svc_tasks as alice."""

    def __init__(self, stub: Any, secret: str) -> None:
        self._stub = stub
        self._secret = secret

    async def __call__(self, method: str, request: Any) -> Any:
        return await getattr(self._stub, method)(
            request, metadata=identity_metadata(self._secret, "alice"), timeout=10
        )

    async def series(self, series_id: str) -> list[task_pb2.Task]:
        page = await self(
            "ListTasks",
            svc.ListTasksRequest(
                order_by=[
                    svc.TaskOrder(
                        field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=svc.ORDER_DIRECTION_ASCENDING
                    )
                ]
            ),
        )
        return [t for t in page.tasks if t.series_id == series_id]


@pytest.fixture
async def tasks(tasks_service: RunningTasks) -> AsyncIterator[Tasks]:
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        yield Tasks(tasks_service_pb2_grpc.TaskServiceStub(channel), tasks_service.secret)


async def recurring(
    tasks: Tasks, text: str = "every day at 9am", due: datetime | None = None, **fields: Any
) -> task_pb2.Task:
    task = task_pb2.Task(
        title="Water plants",
        tags=["home"],
        priority=task_pb2.PRIORITY_HIGH,
        time_zone="Europe/Berlin",
        recurrence=task_pb2.Recurrence(text=text),
        reminders=[task_pb2.Reminder(minutes_before=15)],
        **fields,
    )
    if due is not None:
        task.due_time.CopyFrom(timestamp(due))
    return (await tasks("CreateTask", svc.CreateTaskRequest(task=task))).task  # type: ignore[no-any-return]


async def series_of(
    tasks: Tasks, series_id: str, size: int, within: float = 30.0
) -> list[task_pb2.Task]:
    """The series once it has `size` instances; fails as soon as it has more."""
    found: list[task_pb2.Task] = []

    async def complete() -> bool:
        found[:] = await tasks.series(series_id)
        assert len(found) <= size, (
            f"more instances than expected: {[(t.series_index, t.id) for t in found]}"
        )
        return len(found) == size

    await eventually(complete, within=within)
    return found


async def test_a_recurring_task_gets_a_series_and_a_due_date_from_its_rule(tasks: Tasks) -> None:
    task = await recurring(tasks, "every monday at 8:30")
    assert task.series_id
    assert task.series_index == 1
    due = task.due_time.ToDatetime(tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    )
    assert (due.weekday(), due.hour, due.minute) == (0, 8, 30)
    assert due > datetime.now(UTC)
    assert task.recurrence.rule.startswith("FREQ=WEEKLY")
    assert task.recurrence.text


async def test_bad_recurrence_text_is_invalid_argument_with_an_example(tasks: Tasks) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await recurring(tasks, "every blue moon")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith("task.recurrence.text:")
    assert "e.g." in (caught.value.details() or "") or "try" in (caught.value.details() or "")


async def test_completion_creates_exactly_one_next_instance(
    tasks: Tasks, recur_service: str
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    first = await recurring(tasks, "every 2 days", due=due)
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
    instances = await series_of(tasks, first.series_id, 2)
    upcoming = instances[1]
    assert upcoming.series_index == 2
    assert upcoming.status == task_pb2.TASK_STATUS_OPEN
    assert upcoming.due_time.ToDatetime(tzinfo=UTC) == due + timedelta(days=2)
    assert (upcoming.title, list(upcoming.tags), upcoming.priority) == (
        "Water plants",
        ["home"],
        task_pb2.PRIORITY_HIGH,
    )
    assert [r.minutes_before for r in upcoming.reminders] == [15]
    assert upcoming.recurrence.rule == first.recurrence.rule

    # Reopen and complete again, and complete the new one: still one instance per index.
    await tasks("ReopenTask", svc.ReopenTaskRequest(id=first.id))
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=upcoming.id))
    instances = await series_of(tasks, first.series_id, 3)
    assert [t.series_index for t in instances] == [1, 2, 3]
    await asyncio.sleep(2.0)  # let any duplicate show up
    assert len(await tasks.series(first.series_id)) == 3


async def test_count_ends_the_series(tasks: Tasks, recur_service: str) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    first = await recurring(tasks, "every day for 2 times", due=due)
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
    second = (await series_of(tasks, first.series_id, 2))[1]
    assert "COUNT=1" in second.recurrence.rule
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=second.id))
    await asyncio.sleep(3.0)
    assert len(await tasks.series(first.series_id)) == 2


async def test_redelivered_completions_create_nothing_more(
    tasks: Tasks, recur_service: str, broker: EmbeddedBroker, recur_config: ServiceConfig
) -> None:
    first = await recurring(tasks, due=datetime.now(UTC) + timedelta(hours=1))
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
    await series_of(tasks, first.series_id, 2)
    records = await asyncio.to_thread(
        read_topic, broker.bootstrap_servers, "task-events", at_least=3
    )
    completion = next(
        r
        for r in records
        if task_events_pb2.TaskEvent.FromString(r.value).kind == task_pb2.CHANGE_KIND_COMPLETED
    )
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers})
    for _ in range(3):  # the broker redelivers the very same record
        producer.produce(
            "task-events",
            key=completion.key,
            value=completion.value,
            headers=list(completion.headers.items()),
        )
    producer.flush(10)
    # A second replica with an empty history must not create one either.
    replica = await start_recur(recur_config)
    try:
        await asyncio.sleep(8.0)
    finally:
        await replica.stop()
    assert len(await tasks.series(first.series_id)) == 2


async def test_concurrent_replicas_create_one_instance_each(
    tasks: Tasks, recur_config: ServiceConfig
) -> None:
    replicas = [await start_recur(recur_config), await start_recur(recur_config)]
    try:
        firsts = [
            await recurring(tasks, due=datetime.now(UTC) + timedelta(hours=1 + i)) for i in range(4)
        ]
        for first in firsts:
            await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
        for first in firsts:
            await series_of(tasks, first.series_id, 2, within=45)
        await asyncio.sleep(2.0)
        assert all([len(await tasks.series(f.series_id)) == 2 for f in firsts])
    finally:
        for replica in replicas:
            await replica.stop()


async def test_instance_appears_when_svc_recur_comes_back(
    tasks: Tasks, recur_config: ServiceConfig
) -> None:
    first = await recurring(tasks, due=datetime.now(UTC) + timedelta(hours=1))
    await tasks("CompleteTask", svc.CompleteTaskRequest(id=first.id))
    await asyncio.sleep(1.0)
    assert len(await tasks.series(first.series_id)) == 1  # nobody is consuming yet
    service = await start_recur(recur_config)
    try:
        await series_of(tasks, first.series_id, 2)
    finally:
        await service.stop()
