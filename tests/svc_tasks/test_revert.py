"""RevertChange over a real gRPC channel and Postgres: undoing an update, a completion, a
delete and a creation, and each refusal. A change is named by its event id, read here from
svc_tasks' own change log (the gateway reads it from the audit entry)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from tests.support.infra import RunningTasks, eventually
from tests.svc_tasks.conftest import Call, ChangeLog
from tests.svc_tasks.test_task_api import create, expect_code
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.error_details import reason
from todo_runtime.timestamps import timestamp

Task = task_pb2.Task
Response = svc.RevertChangeResponse


async def update(call: Call, user: str, task: Task, **values: object) -> Task:
    request = svc.UpdateTaskRequest(
        task=Task(id=task.id, **values),  # type: ignore[arg-type]
        update_mask=FieldMask(paths=list(values)),
    )
    return (await call(user, "UpdateTask", request)).task  # type: ignore[no-any-return]


async def revert(call: Call, user: str, event_id: str) -> Response:
    return await call(user, "RevertChange", svc.RevertChangeRequest(event_id=event_id))  # type: ignore[no-any-return]


async def refusal(call: Call, user: str, event_id: str) -> tuple[str | None, str]:
    """The reason and message RevertChange refuses with (FAILED_PRECONDITION)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await revert(call, user, event_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION, caught.value.details()
    return reason(caught.value), caught.value.details() or ""


async def get(call: Call, user: str, task_id: str) -> Task:
    return (await call(user, "GetTask", svc.GetTaskRequest(id=task_id))).task  # type: ignore[no-any-return]


async def test_reverting_a_title_change_restores_it_as_a_new_change(
    call: Call, changes: ChangeLog
) -> None:
    task = await create(call, "alice", title="Buy milk", tags=["home"])
    await update(call, "alice", task, title="Buy oat milk")
    answer = await revert(call, "alice", await changes.last(task.id))
    assert answer.kind == task_pb2.CHANGE_KIND_UPDATED
    assert (answer.task.title, list(answer.task.tags), answer.task.version) == (
        "Buy milk",
        ["home"],
        3,
    )
    assert (await get(call, "alice", task.id)).title == "Buy milk"
    assert len(await changes(task.id)) == 3  # the revert is a change of its own


async def test_a_later_change_to_the_same_field_refuses_the_revert(
    call: Call, changes: ChangeLog
) -> None:
    task = await create(call, "alice", title="Draft")
    await update(call, "alice", task, title="Second", description="notes")
    second = await changes.last(task.id)
    await update(call, "alice", task, title="Third")
    why, message = await refusal(call, "alice", second)
    assert why == "CHANGED_SINCE"
    assert "title" in message
    assert "description" not in message
    assert (await get(call, "alice", task.id)).title == "Third"


async def test_a_later_change_to_other_fields_leaves_the_revert_allowed(
    call: Call, changes: ChangeLog
) -> None:
    task = await create(call, "alice", title="Draft")
    await update(call, "alice", task, title="Renamed")
    renamed = await changes.last(task.id)
    await update(call, "alice", task, priority=task_pb2.PRIORITY_HIGH, tags=["work"])
    answer = await revert(call, "alice", renamed)
    assert (answer.task.title, answer.task.priority, list(answer.task.tags)) == (
        "Draft",
        task_pb2.PRIORITY_HIGH,
        ["work"],
    )


async def test_the_revert_is_itself_revertible(call: Call, changes: ChangeLog) -> None:
    task = await create(call, "alice", title="One")
    await update(call, "alice", task, title="Two")
    await revert(call, "alice", await changes.last(task.id))
    undo_of_undo = await revert(call, "alice", await changes.last(task.id))
    assert undo_of_undo.task.title == "Two"
    assert undo_of_undo.task.version == 4


async def test_a_repeated_revert_changes_nothing_more(call: Call, changes: ChangeLog) -> None:
    task = await create(call, "alice", title="One")
    await update(call, "alice", task, title="Two")
    event_id = await changes.last(task.id)
    first = await revert(call, "alice", event_id)
    again = await revert(call, "alice", event_id)  # a retry, or a redelivered request
    assert again.kind == task_pb2.CHANGE_KIND_UNSPECIFIED
    assert again.task == first.task
    assert len(await changes(task.id)) == 3


async def test_restoring_a_deleted_task_keeps_its_id_series_and_reminders(
    call: Call, changes: ChangeLog
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    task = await create(
        call,
        "alice",
        title="Water plants",
        due_time=timestamp(due),
        time_zone="Europe/Berlin",
        recurrence=task_pb2.Recurrence(text="every week"),
        reminders=[task_pb2.Reminder(minutes_before=30)],
    )
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))
    delete = await changes.last(task.id)
    answer = await revert(call, "alice", delete)
    assert answer.kind == task_pb2.CHANGE_KIND_CREATED
    restored = await get(call, "alice", task.id)
    assert (restored.id, restored.series_id, restored.series_index) == (
        task.id,
        task.series_id,
        1,
    )
    assert restored.create_time == task.create_time
    assert [r.minutes_before for r in restored.reminders] == [30]
    assert restored.recurrence.rule == task.recurrence.rule
    assert restored.version == task.version + 1
    assert not restored.HasField("delete_time")

    again = await revert(call, "alice", delete)  # a retry: it is back already
    assert (again.kind, again.task.id) == (task_pb2.CHANGE_KIND_UNSPECIFIED, task.id)
    await update(call, "alice", restored, title="Water the ferns")
    why, message = await refusal(call, "alice", delete)
    assert why == "TASK_EXISTS", message


async def test_undoing_a_creation_deletes_the_task_and_undoing_that_brings_it_back(
    call: Call, changes: ChangeLog
) -> None:
    task = await create(call, "alice", title="Oops")
    [created] = await changes(task.id)
    answer = await revert(call, "alice", created)
    assert answer.kind == task_pb2.CHANGE_KIND_DELETED
    await expect_code(grpc.StatusCode.NOT_FOUND, get(call, "alice", task.id))
    back = await revert(call, "alice", await changes.last(task.id))
    assert back.task.id == task.id

    await update(call, "alice", task, title="Kept")
    why, message = await refusal(call, "alice", created)
    assert (why, "title" in message) == ("CHANGED_SINCE", True)


async def _recurring_completed(call: Call, changes: ChangeLog) -> tuple[Task, Task, str]:
    """A recurring task completed and its next instance, made as svc_recur makes it (CreateTask
    with the series and the next index), and the completion's event id."""
    task, completion = await _completed_recurring(call, changes)
    following = await call("alice", "CreateTask", _next_instance(task))
    return task, following.task, completion


async def _completed_recurring(call: Call, changes: ChangeLog) -> tuple[Task, str]:
    """A recurring task, completed, and the completion's event id."""
    task = await create(
        call,
        "alice",
        title="Stand-up",
        due_time=timestamp(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)),
        time_zone="UTC",
        recurrence=task_pb2.Recurrence(text="every day"),
    )
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))
    return task, await changes.last(task.id)


def _next_instance(task: Task) -> svc.CreateTaskRequest:
    """The CreateTask svc_recur sends for `task`'s next instance."""
    due = task.due_time.ToDatetime(UTC) + timedelta(days=1)
    return svc.CreateTaskRequest(
        task=Task(
            title=task.title,
            priority=task_pb2.PRIORITY_NONE,
            due_time=timestamp(due),
            time_zone=task.time_zone,
            recurrence=task_pb2.Recurrence(rule=task.recurrence.rule, basis=task.recurrence.basis),
            series_id=task.series_id,
            series_index=task.series_index + 1,
        )
    )


async def test_reverting_a_completion_reopens_and_removes_the_untouched_next_instance(
    call: Call, changes: ChangeLog
) -> None:
    task, following, completion = await _recurring_completed(call, changes)
    answer = await revert(call, "alice", completion)
    assert answer.kind == task_pb2.CHANGE_KIND_REOPENED
    assert answer.task.status == task_pb2.TASK_STATUS_OPEN
    assert not answer.task.HasField("complete_time")
    assert answer.removed_next_instance_id == following.id
    assert not answer.HasField("kept_next_instance")
    await expect_code(grpc.StatusCode.NOT_FOUND, get(call, "alice", following.id))

    # The completion's event, handled late (svc_recur behind): no instance while it is open.
    late = svc.CreateTaskRequest(task=following)
    late.task.ClearField("id")
    await expect_code(grpc.StatusCode.ABORTED, call("alice", "CreateTask", late))
    # Completed again, the series goes on as before.
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))
    again = (await call("alice", "CreateTask", late)).task
    assert (again.series_id, again.series_index) == (task.series_id, 2)


async def test_a_next_instance_waits_for_a_reopen_of_the_completed_one_and_is_not_made(
    call: Call, changes: ChangeLog, tasks_service: RunningTasks
) -> None:
    """A revert holds the completed task's row while it reopens it and looks for the next
    instance; the next instance's create must wait for that row (a completed one included)
    and then see it open, so the two never pass each other."""
    task, _ = await _completed_recurring(call, changes)
    reverting = await asyncpg.connect(tasks_service.config.database.url)
    try:
        held = reverting.transaction()
        await held.start()
        await reverting.execute(
            "SELECT 1 FROM tasks.tasks WHERE id = $1 FOR UPDATE", uuid.UUID(task.id)
        )
        creating = asyncio.ensure_future(call("alice", "CreateTask", _next_instance(task)))

        async def create_waits_for_the_row() -> bool:
            assert not creating.done(), "the next instance was made past the held row"
            waiting: int = await reverting.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                reverting.get_server_pid(),
            )
            return waiting > 0

        await eventually(create_waits_for_the_row)
        await reverting.execute(
            "UPDATE tasks.tasks SET status = $2 WHERE id = $1",
            uuid.UUID(task.id),
            task_pb2.TASK_STATUS_OPEN,
        )
        await held.commit()
    finally:
        await reverting.close()
    await expect_code(grpc.StatusCode.ABORTED, creating)


async def test_reverting_a_completion_keeps_a_next_instance_changed_since(
    call: Call, changes: ChangeLog
) -> None:
    _, following, completion = await _recurring_completed(call, changes)
    await update(call, "alice", following, title="Stand-up (moved)")
    answer = await revert(call, "alice", completion)
    assert answer.task.status == task_pb2.TASK_STATUS_OPEN
    assert answer.removed_next_instance_id == ""
    assert answer.kept_next_instance.id == following.id
    assert answer.kept_next_instance.title == "Stand-up (moved)"
    assert (await get(call, "alice", following.id)).version == 2


async def test_reverting_a_reopen_completes_the_task_again(call: Call, changes: ChangeLog) -> None:
    task = await create(call, "alice", title="Done?")
    done = (await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))).task
    await call("alice", "ReopenTask", svc.ReopenTaskRequest(id=task.id))
    answer = await revert(call, "alice", await changes.last(task.id))
    assert answer.kind == task_pb2.CHANGE_KIND_COMPLETED
    assert answer.task.complete_time == done.complete_time


async def test_an_update_of_a_task_deleted_since_cannot_be_reverted(
    call: Call, changes: ChangeLog
) -> None:
    task = await create(call, "alice", title="One")
    await update(call, "alice", task, title="Two")
    renamed = await changes.last(task.id)
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))
    why, message = await refusal(call, "alice", renamed)
    assert (why, "deleted" in message) == ("CHANGED_SINCE", True)


async def test_another_users_change_is_not_found(call: Call, changes: ChangeLog) -> None:
    task = await create(call, "alice", title="Private")
    await update(call, "alice", task, title="Still private")
    event_id = await changes.last(task.id)
    await expect_code(grpc.StatusCode.NOT_FOUND, revert(call, "mallory", event_id))
    await expect_code(grpc.StatusCode.NOT_FOUND, revert(call, "alice", str(uuid.uuid4())))
    await expect_code(grpc.StatusCode.INVALID_ARGUMENT, revert(call, "alice", "not-an-id"))
    assert (await get(call, "alice", task.id)).title == "Still private"
