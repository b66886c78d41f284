"""Reminders end to end: scheduled from task events, fired on time and once, snoozed, survived."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from svc_notify.service import SERVICE as NOTIFY
from tests.support.infra import TEST_SECRET, RunningTasks, eventually, service_config
from todo_contracts.notify.v1 import notification_service_pb2 as notify_pb
from todo_contracts.notify.v1 import notification_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as tasks_pb
from todo_runtime import endpoints
from todo_runtime.identity import identity_metadata
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import ServiceConfig
from todo_runtime.timestamps import timestamp

WITHIN = 30.0  # generous: the benchmark measures accuracy, the tests only that it happens


class Stack:
    """svc_tasks and svc_notify on one database and broker; calls as one user."""

    def __init__(self, tasks: Any, notify: Any, pool: asyncpg.Pool[Any], user: str) -> None:
        self.tasks = tasks
        self.notify = notify
        self.pool = pool
        self.user = user

    def metadata(self, user: str | None = None) -> tuple[tuple[str, str], ...]:
        return identity_metadata(TEST_SECRET, user or self.user)

    async def create(
        self, title: str, *reminders: task_pb2.Reminder, due: datetime | None
    ) -> task_pb2.Task:
        task = task_pb2.Task(
            title=title, priority=task_pb2.PRIORITY_NONE, reminders=list(reminders)
        )
        if due is not None:
            task.due_time.CopyFrom(timestamp(due))
        response = await self.tasks.CreateTask(
            tasks_pb.CreateTaskRequest(task=task), metadata=self.metadata(), timeout=10
        )
        created: task_pb2.Task = response.task
        return created

    async def notifications(self, user: str | None = None) -> list[notify_pb.Notification]:
        response = await self.notify.ListNotifications(
            notify_pb.ListNotificationsRequest(page_size=200),
            metadata=self.metadata(user),
            timeout=10,
        )
        return list(response.notifications)

    async def scheduled(self, task_id: str) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch(
                "SELECT reminder_id, fire_at, state FROM notify.reminders WHERE task_id = $1 ORDER BY id",
                uuid.UUID(task_id),
            )
        )


def notify_config(tasks_service: RunningTasks, **settings: str) -> ServiceConfig:
    return service_config(
        endpoints.NOTIFY,
        tasks_service.config.database.url,
        tasks_service.config.kafka.bootstrap_servers,
        **settings,
    )


@pytest.fixture
async def stack(tasks_service: RunningTasks) -> AsyncIterator[Stack]:
    notify = await start_service(NOTIFY, notify_config(tasks_service))
    pool = await asyncpg.create_pool(tasks_service.config.database.url, min_size=1, max_size=2)
    try:
        async with (
            grpc.aio.insecure_channel(tasks_service.address) as tasks_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{notify.port}") as notify_channel,
        ):
            stack = Stack(
                tasks_service_pb2_grpc.TaskServiceStub(tasks_channel),
                notification_service_pb2_grpc.NotificationServiceStub(notify_channel),
                pool,
                f"user-{uuid.uuid4().hex[:8]}",
            )
            await _joined(stack)
            yield stack
    finally:
        await pool.close()
        await notify.stop()


async def _joined(stack: Stack) -> None:
    """Waits until svc_notify consumes task events: joining the consumer group takes
    seconds, and a reminder due sooner would fire before its task event arrives."""
    probe = await stack.create("probe", task_pb2.Reminder(minutes_before=0), due=soon(86400))

    async def scheduled() -> bool:
        return len(await stack.scheduled(probe.id)) == 1

    await eventually(scheduled, WITHIN)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_a_reminder_fires_on_time_once(stack: Stack) -> None:
    due = soon(2)
    task = await stack.create("water the plants", task_pb2.Reminder(minutes_before=0), due=due)

    async def fired() -> bool:
        return len(await stack.notifications()) == 1

    await eventually(fired, WITHIN)
    [notification] = await stack.notifications()
    scheduled = notification.scheduled_time.ToDatetime(tzinfo=UTC)
    fired_at = notification.fire_time.ToDatetime(tzinfo=UTC)
    print(f"fired {(fired_at - scheduled).total_seconds() * 1000:.0f} ms after its time")
    assert fired_at >= scheduled  # never early
    assert abs(scheduled - due) < timedelta(milliseconds=1)
    assert (notification.task_id, notification.title) == (task.id, "water the plants")
    assert [r["state"] for r in await stack.scheduled(task.id)] == ["fired"]
    assert await stack.notifications("someone-else") == []


async def test_a_new_due_time_reschedules_and_completion_cancels(stack: Stack) -> None:
    task = await stack.create("report", task_pb2.Reminder(minutes_before=0), due=soon(3600))

    async def scheduled_at(count: int) -> bool:
        return len(await stack.scheduled(task.id)) == count

    await eventually(lambda: scheduled_at(1), WITHIN)
    moved = task_pb2.Task(id=task.id, due_time=timestamp(soon(2)))
    await stack.tasks.UpdateTask(
        tasks_pb.UpdateTaskRequest(task=moved, update_mask=FieldMask(paths=["due_time"])),
        metadata=stack.metadata(),
        timeout=10,
    )

    async def fired() -> bool:
        return len(await stack.notifications()) == 1

    await eventually(fired, WITHIN)
    rows = await stack.scheduled(task.id)
    assert [r["state"] for r in rows] == ["fired"]  # the hour-away one was unscheduled

    other = await stack.create("later", task_pb2.Reminder(minutes_before=0), due=soon(3))
    await eventually(lambda: stack_has(stack, other.id, 1), WITHIN)
    await stack.tasks.CompleteTask(
        tasks_pb.CompleteTaskRequest(id=other.id), metadata=stack.metadata(), timeout=10
    )
    await eventually(lambda: stack_has(stack, other.id, 0), WITHIN)
    await asyncio.sleep(4)  # past its old time: nothing may fire
    assert len(await stack.notifications()) == 1


async def stack_has(stack: Stack, task_id: str, count: int) -> bool:
    rows = await stack.scheduled(task_id)
    return len([r for r in rows if r["state"] == "scheduled"]) == count


async def test_reopening_restores_only_reminders_still_in_the_future(stack: Stack) -> None:
    task = await stack.create(
        "two reminders",
        task_pb2.Reminder(remind_time=timestamp(soon(3))),
        task_pb2.Reminder(remind_time=timestamp(soon(3600))),
        due=None,
    )
    await eventually(lambda: stack_has(stack, task.id, 2), WITHIN)
    await stack.tasks.CompleteTask(
        tasks_pb.CompleteTaskRequest(id=task.id), metadata=stack.metadata(), timeout=10
    )
    await eventually(lambda: stack_has(stack, task.id, 0), WITHIN)
    await asyncio.sleep(4)  # the first reminder's time passes while the task is completed
    await stack.tasks.ReopenTask(
        tasks_pb.ReopenTaskRequest(id=task.id), metadata=stack.metadata(), timeout=10
    )
    await eventually(lambda: stack_has(stack, task.id, 1), WITHIN)
    assert await stack.notifications() == []


async def test_snooze_fires_again_once(stack: Stack) -> None:
    await stack.create("call back", task_pb2.Reminder(minutes_before=0), due=soon(1))

    async def fired(count: int) -> bool:
        return len(await stack.notifications()) == count

    await eventually(lambda: fired(1), WITHIN)
    [first] = await stack.notifications()
    snoozed = await stack.notify.SnoozeReminder(
        notify_pb.SnoozeReminderRequest(notification_id=first.id, minutes=1),
        metadata=stack.metadata(),
        timeout=10,
    )
    until = snoozed.notification.snooze_until_time.ToDatetime(tzinfo=UTC)
    assert timedelta(seconds=50) < until - datetime.now(UTC) <= timedelta(seconds=60)
    # A minute is the shortest snooze; bring it forward rather than wait (the trigger wakes the scheduler).
    await stack.pool.execute(
        "UPDATE notify.reminders SET fire_at = clock_timestamp() + interval '1 second'"
        " WHERE reminder_id = $1",
        f"snooze:{first.id}",
    )
    await eventually(lambda: fired(2), WITHIN)
    newest = (await stack.notifications())[0]
    assert newest.reminder_id == "snooze"
    await asyncio.sleep(2)
    assert len(await stack.notifications()) == 2  # once


@pytest.mark.parametrize("minutes", [0, -5, 10_081])
async def test_snooze_minutes_are_bounded(stack: Stack, minutes: int) -> None:
    await stack.create("x", task_pb2.Reminder(minutes_before=0), due=soon(1))
    await eventually(lambda: _count(stack, 1), WITHIN)
    [first] = await stack.notifications()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.notify.SnoozeReminder(
            notify_pb.SnoozeReminderRequest(notification_id=first.id, minutes=minutes),
            metadata=stack.metadata(),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def _count(stack: Stack, count: int) -> bool:
    return len(await stack.notifications()) == count


async def test_mark_read_and_unread_only(stack: Stack) -> None:
    await stack.create("a", task_pb2.Reminder(minutes_before=0), due=soon(1))
    await stack.create("b", task_pb2.Reminder(minutes_before=0), due=soon(1))
    await eventually(lambda: _count(stack, 2), WITHIN)
    first = (await stack.notifications())[0]
    read = await stack.notify.MarkNotificationRead(
        notify_pb.MarkNotificationReadRequest(id=first.id), metadata=stack.metadata(), timeout=10
    )
    assert read.notification.HasField("read_time")
    unread = await stack.notify.ListNotifications(
        notify_pb.ListNotificationsRequest(unread_only=True), metadata=stack.metadata(), timeout=10
    )
    assert [n.id for n in unread.notifications] != [first.id]
    assert unread.total_size == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.notify.MarkNotificationRead(
            notify_pb.MarkNotificationReadRequest(id=first.id),
            metadata=stack.metadata("mallory"),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_restart_fires_what_is_within_grace_and_records_the_rest_missed(
    tasks_service: RunningTasks,
) -> None:
    config = notify_config(tasks_service, TODO_NOTIFY_GRACE_SECONDS="60")
    notify: RunningService = await start_service(NOTIFY, config)
    user = f"user-{uuid.uuid4().hex[:8]}"
    pool = await asyncpg.create_pool(tasks_service.config.database.url, min_size=1, max_size=2)
    try:
        async with grpc.aio.insecure_channel(tasks_service.address) as channel:
            tasks = tasks_service_pb2_grpc.TaskServiceStub(channel)
            late_by: dict[str, timedelta] = {}
            for title, late in (
                ("long gone", timedelta(minutes=10)),
                ("just late", timedelta(seconds=5)),
            ):
                task = task_pb2.Task(
                    title=title,
                    priority=task_pb2.PRIORITY_NONE,
                    reminders=[task_pb2.Reminder(remind_time=timestamp(soon(3600)))],
                )
                created = await tasks.CreateTask(
                    tasks_pb.CreateTaskRequest(task=task),
                    metadata=identity_metadata(TEST_SECRET, user),
                    timeout=10,
                )
                late_by[created.task.id] = late

        async def both_scheduled() -> bool:
            count = await pool.fetchval(
                "SELECT count(*) FROM notify.reminders WHERE owner_id = $1 AND state = 'scheduled'",
                user,
            )
            return bool(count == 2)

        await eventually(both_scheduled, WITHIN)
        await notify.stop()
        # While it is down both come due, one longer ago than the grace window.
        for task_id, late in late_by.items():
            await pool.execute(
                "UPDATE notify.reminders SET fire_at = clock_timestamp() - $2::interval"
                " WHERE task_id = $1",
                uuid.UUID(task_id),
                late,
            )
        notify = await start_service(NOTIFY, config)

        async def settled() -> bool:
            count = await pool.fetchval(
                "SELECT count(*) FROM notify.reminders WHERE owner_id = $1 AND state <> 'scheduled'",
                user,
            )
            return bool(count == 2)

        await eventually(settled, WITHIN)
        rows = list(
            await pool.fetch(
                """SELECT n.title, r.state FROM notify.reminders r
                   LEFT JOIN notify.notifications n ON n.id = r.notification_id
                   WHERE r.owner_id = $1""",
                user,
            )
        )
        states = {row["title"]: row["state"] for row in rows}
        assert sorted(states.values()) == ["fired", "missed"]
        assert states.get("just late") == "fired"
    finally:
        await pool.close()
        await notify.stop()


async def test_the_next_instance_of_a_recurring_task_gets_its_own_reminders(
    stack: Stack, recur_service: str
) -> None:
    due = soon(3600).replace(microsecond=0)
    task = task_pb2.Task(
        title="stand-up",
        priority=task_pb2.PRIORITY_NONE,
        due_time=timestamp(due),
        recurrence=task_pb2.Recurrence(text="every day"),
        reminders=[task_pb2.Reminder(minutes_before=10)],
    )
    created = await stack.tasks.CreateTask(
        tasks_pb.CreateTaskRequest(task=task), metadata=stack.metadata(), timeout=10
    )
    first = created.task
    await eventually(lambda: _scheduled_count(stack, first.id, 1), WITHIN)
    await stack.tasks.CompleteTask(
        tasks_pb.CompleteTaskRequest(id=first.id), metadata=stack.metadata(), timeout=10
    )

    async def next_instance() -> task_pb2.Task | None:
        listed = await stack.tasks.ListTasks(
            tasks_pb.ListTasksRequest(page_size=10), metadata=stack.metadata(), timeout=10
        )
        following = [t for t in listed.tasks if t.series_id == first.series_id and t.id != first.id]
        return following[0] if following else None

    async def exists() -> bool:
        return await next_instance() is not None

    await eventually(exists, WITHIN)
    upcoming = await next_instance()
    assert upcoming is not None
    assert upcoming.due_time.ToDatetime(tzinfo=UTC) == due + timedelta(days=1)
    await eventually(lambda: _scheduled_count(stack, upcoming.id, 1), WITHIN)
    [reminder] = await stack.scheduled(upcoming.id)
    assert reminder["fire_at"] == due + timedelta(days=1) - timedelta(minutes=10)
    assert await _scheduled_count(stack, first.id, 0)  # completing cancelled the first's


async def _scheduled_count(stack: Stack, task_id: str, count: int) -> bool:
    rows = await stack.scheduled(task_id)
    return sum(1 for row in rows if row["state"] == "scheduled") == count
