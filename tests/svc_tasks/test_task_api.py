"""TaskService over a real gRPC channel, Postgres and broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from tests.support.infra import RunningTasks
from tests.svc_tasks.conftest import Call
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.identity import identity_metadata
from todo_runtime.timestamps import timestamp

Task = task_pb2.Task


async def create(call: Call, user: str, **fields: object) -> Task:
    fields.setdefault("priority", task_pb2.PRIORITY_NONE)
    response = await call(user, "CreateTask", svc.CreateTaskRequest(task=Task(**fields)))  # type: ignore[arg-type]
    return response.task  # type: ignore[no-any-return]


async def expect_code(code: grpc.StatusCode, coroutine: object) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await coroutine  # type: ignore[misc]
    assert caught.value.code() == code, caught.value.details()
    return caught.value.details() or ""


async def test_create_and_get_round_trip_every_field(call: Call) -> None:
    due = datetime(2027, 5, 1, 9, tzinfo=UTC)
    reminder_at = datetime(2027, 4, 30, 18, tzinfo=UTC)
    created = await create(
        call,
        "alice",
        title="  File taxes ",
        description="before May",
        priority=task_pb2.PRIORITY_HIGH,
        tags=["Home", "money", "home"],
        due_time=timestamp(due),
        time_zone="Europe/Berlin",
        reminders=[
            task_pb2.Reminder(minutes_before=30),
            task_pb2.Reminder(remind_time=timestamp(reminder_at)),
        ],
    )
    assert created.title == "File taxes"
    assert list(created.tags) == ["home", "money"]
    assert created.status == task_pb2.TASK_STATUS_OPEN
    assert created.version == 1
    assert created.owner_id == "alice"
    assert [r.id for r in created.reminders] == ["before-30", f"at-{int(reminder_at.timestamp())}"]
    fetched = (await call("alice", "GetTask", svc.GetTaskRequest(id=created.id))).task
    assert fetched == created
    assert fetched.due_time.ToDatetime(tzinfo=UTC) == due


async def test_zone_defaults_to_utc(call: Call) -> None:
    created = await create(call, "alice", title="x")
    assert created.time_zone == "UTC"
    assert not created.HasField("due_time")


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"title": ""}, "task.title"),
        ({"title": "x" * 501}, "task.title"),
        ({"title": "x", "tags": [f"t{i}" for i in range(21)]}, "task.tags"),
        ({"title": "x", "tags": ["y" * 51]}, "task.tags[0]"),
        ({"title": "x", "time_zone": "Mars/Base"}, "task.time_zone"),
        ({"title": "x", "priority": 9}, "task.priority"),
        ({"title": "x", "priority": task_pb2.PRIORITY_UNSPECIFIED}, "task.priority"),
        (
            {"title": "x", "reminders": [task_pb2.Reminder(minutes_before=5)]},
            "task.reminders[0].minutes_before",
        ),
        ({"title": "x", "series_id": "nope", "series_index": 2}, "task.series_id"),
    ],
)
async def test_invalid_create_names_the_field(
    call: Call, fields: dict[str, object], field_name: str
) -> None:
    details = await expect_code(grpc.StatusCode.INVALID_ARGUMENT, create(call, "alice", **fields))
    assert details.startswith(f"{field_name}:")


async def test_create_with_request_id_is_idempotent_even_concurrently(call: Call) -> None:
    request = svc.CreateTaskRequest(
        task=Task(title="once", priority=task_pb2.PRIORITY_NONE), request_id="req-1"
    )
    results = await asyncio.gather(*(call("alice", "CreateTask", request) for _ in range(5)))
    assert len({r.task.id for r in results}) == 1
    again = await call("alice", "CreateTask", request)
    assert again.task.id == results[0].task.id
    listed = await call("alice", "ListTasks", svc.ListTasksRequest())
    assert listed.total_size == 1
    other_user = await call("bob", "CreateTask", request)
    assert other_user.task.id != results[0].task.id


async def test_update_applies_only_masked_fields_and_bumps_version(call: Call) -> None:
    task = await create(
        call, "alice", title="old", description="keep", priority=task_pb2.PRIORITY_LOW
    )
    update = svc.UpdateTaskRequest(
        task=Task(id=task.id, title="new", description="ignored"),
        update_mask=FieldMask(paths=["title"]),
        expected_version=1,
    )
    updated = (await call("alice", "UpdateTask", update)).task
    assert (updated.title, updated.description, updated.version) == ("new", "keep", 2)
    assert updated.update_time.ToDatetime() >= task.update_time.ToDatetime()


async def test_stale_expected_version_is_aborted(call: Call) -> None:
    task = await create(call, "alice", title="v1")
    first = svc.UpdateTaskRequest(
        task=Task(id=task.id, title="v2"),
        update_mask=FieldMask(paths=["title"]),
        expected_version=1,
    )
    await call("alice", "UpdateTask", first)
    stale = svc.UpdateTaskRequest(
        task=Task(id=task.id, title="v3"),
        update_mask=FieldMask(paths=["title"]),
        expected_version=1,
    )
    details = await expect_code(grpc.StatusCode.ABORTED, call("alice", "UpdateTask", stale))
    assert "version 2" in details
    assert (await call("alice", "GetTask", svc.GetTaskRequest(id=task.id))).task.title == "v2"


async def test_update_clears_due_time_and_rejects_bad_masks(call: Call) -> None:
    task = await create(
        call, "alice", title="x", due_time=timestamp(datetime(2027, 1, 1, tzinfo=UTC))
    )
    cleared = await call(
        "alice",
        "UpdateTask",
        svc.UpdateTaskRequest(task=Task(id=task.id), update_mask=FieldMask(paths=["due_time"])),
    )
    assert not cleared.task.HasField("due_time")
    for paths, field_name in [
        ([], "update_mask"),
        (["owner_id"], "update_mask"),
        (["priority"], "task.priority"),
    ]:
        request = svc.UpdateTaskRequest(task=Task(id=task.id), update_mask=FieldMask(paths=paths))
        details = await expect_code(
            grpc.StatusCode.INVALID_ARGUMENT, call("alice", "UpdateTask", request)
        )
        assert details.startswith(field_name)


async def test_clearing_due_time_with_relative_reminders_is_rejected(call: Call) -> None:
    task = await create(
        call,
        "alice",
        title="x",
        due_time=timestamp(datetime(2027, 1, 1, tzinfo=UTC)),
        reminders=[task_pb2.Reminder(minutes_before=5)],
    )
    request = svc.UpdateTaskRequest(
        task=Task(id=task.id), update_mask=FieldMask(paths=["due_time"])
    )
    details = await expect_code(
        grpc.StatusCode.INVALID_ARGUMENT, call("alice", "UpdateTask", request)
    )
    assert details.startswith("task.due_time")


async def test_complete_and_reopen_are_idempotent(call: Call) -> None:
    task = await create(call, "alice", title="x")
    done = (await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))).task
    again = (await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))).task
    assert done.status == task_pb2.TASK_STATUS_COMPLETED
    assert done.HasField("complete_time")
    assert again.version == done.version == 2
    reopened = (await call("alice", "ReopenTask", svc.ReopenTaskRequest(id=task.id))).task
    assert reopened.status == task_pb2.TASK_STATUS_OPEN
    assert not reopened.HasField("complete_time")
    assert (await call("alice", "ReopenTask", svc.ReopenTaskRequest(id=task.id))).task.version == 3


async def test_delete_then_not_found(call: Call) -> None:
    task = await create(call, "alice", title="x")
    assert (await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))).id == task.id
    await expect_code(
        grpc.StatusCode.NOT_FOUND, call("alice", "GetTask", svc.GetTaskRequest(id=task.id))
    )
    await expect_code(
        grpc.StatusCode.NOT_FOUND, call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))
    )


async def refusal(coroutine: object) -> tuple[grpc.StatusCode, status_pb2.Status]:
    """The status a call failed with and its google.rpc details, read as any client reads them."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await coroutine  # type: ignore[misc]
    status = rpc_status.from_call(cast("grpc.Call", caught.value))  # the stubs want a Call
    assert status is not None, caught.value.details()
    return caught.value.code(), status


def unpacked(status: status_pb2.Status) -> tuple[error_details_pb2.ErrorInfo, list[str]]:
    """The status's ErrorInfo and the fields its BadRequest names (in order)."""
    info, request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info)
    if len(status.details) > 1:
        assert status.details[1].Unpack(request)
    return info, [v.field for v in request.field_violations]


async def test_malformed_id_is_invalid_argument_naming_the_field(call: Call) -> None:
    code, status = await refusal(call("alice", "GetTask", svc.GetTaskRequest(id="42")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.message.startswith("id:")
    info, fields = unpacked(status)
    assert (info.reason, info.domain, fields) == (
        "INVALID_ARGUMENT",
        "todo.tasks.v1.TaskService",
        ["id"],
    )


async def test_a_create_hears_of_every_wrong_field_at_once(call: Call) -> None:
    request = svc.CreateTaskRequest(
        task=Task(title=" ", time_zone="Mars/Olympus", tags=["ok", ""]),  # and no priority
    )
    code, status = await refusal(call("alice", "CreateTask", request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    _, fields = unpacked(status)
    assert fields == ["task.title", "task.priority", "task.tags[1]", "task.time_zone"]


async def test_conflicts_and_missing_tasks_carry_a_stable_reason(call: Call) -> None:
    task = await create(call, "alice", title="x")
    stale = svc.UpdateTaskRequest(
        task=Task(id=task.id, title="y"), update_mask=FieldMask(paths=["title"]), expected_version=7
    )
    code, status = await refusal(call("alice", "UpdateTask", stale))
    assert (code, unpacked(status)[0].reason) == (grpc.StatusCode.ABORTED, "STALE_VERSION")
    code, status = await refusal(call("bob", "GetTask", svc.GetTaskRequest(id=task.id)))
    assert (code, unpacked(status)[0].reason) == (grpc.StatusCode.NOT_FOUND, "TASK_NOT_FOUND")


async def test_another_users_task_is_not_found_on_every_rpc(call: Call) -> None:
    task = await create(call, "alice", title="private", tags=["secret"])
    mask = FieldMask(paths=["title"])
    attempts = [
        ("GetTask", svc.GetTaskRequest(id=task.id)),
        (
            "UpdateTask",
            svc.UpdateTaskRequest(task=Task(id=task.id, title="pwned"), update_mask=mask),
        ),
        (
            "UpdateTask",
            svc.UpdateTaskRequest(
                task=Task(id=task.id, title="pwned"), update_mask=mask, expected_version=1
            ),
        ),
        ("CompleteTask", svc.CompleteTaskRequest(id=task.id)),
        ("ReopenTask", svc.ReopenTaskRequest(id=task.id)),
        ("DeleteTask", svc.DeleteTaskRequest(id=task.id)),
    ]
    for method, request in attempts:
        await expect_code(grpc.StatusCode.NOT_FOUND, call("bob", method, request))
    listed = await call(
        "bob", "ListTasks", svc.ListTasksRequest(filter=svc.TaskFilter(tags=["secret"]))
    )
    assert (list(listed.tasks), listed.total_size) == ([], 0)
    assert list((await call("bob", "ListChanges", svc.ListChangesRequest())).changes) == []
    unchanged = (await call("alice", "GetTask", svc.GetTaskRequest(id=task.id))).task
    assert unchanged == task


async def test_calls_without_valid_identity_are_unauthenticated(
    tasks_service: RunningTasks,
) -> None:
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        stub = tasks_service_pb2_grpc.TaskServiceStub(channel)
        request = svc.ListTasksRequest()
        forged = identity_metadata("some-other-secret-value", "alice")
        swapped = (("x-todo-user", "mallory"), identity_metadata(tasks_service.secret, "alice")[1])
        for metadata in [(), forged, swapped]:
            details = await expect_code(
                grpc.StatusCode.UNAUTHENTICATED,
                stub.ListTasks(request, metadata=metadata, timeout=5),
            )
            assert "x-todo" in details


async def test_health_and_reflection_need_no_identity(tasks_service: RunningTasks) -> None:
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="todo.tasks.v1.TaskService"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = [s.name async for r in stream for s in r.list_services_response.service]
        assert "todo.tasks.v1.TaskService" in names


async def test_list_changes_is_a_gap_free_per_user_log(call: Call) -> None:
    task = await create(call, "alice", title="a")
    await create(call, "bob", title="b")
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=task.id))
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=task.id))
    log = await call("alice", "ListChanges", svc.ListChangesRequest(page_size=2))
    assert [c.sequence for c in log.changes] == [1, 2]
    assert log.latest_sequence == 3
    rest = await call(
        "alice", "ListChanges", svc.ListChangesRequest(page_size=2, page_token=log.next_page_token)
    )
    assert [(c.sequence, c.kind) for c in rest.changes] == [(3, task_pb2.CHANGE_KIND_DELETED)]
    assert rest.changes[0].task.HasField("delete_time")
    assert rest.next_page_token == ""
    after = await call("alice", "ListChanges", svc.ListChangesRequest(after_sequence=1))
    assert [c.kind for c in after.changes] == [
        task_pb2.CHANGE_KIND_COMPLETED,
        task_pb2.CHANGE_KIND_DELETED,
    ]
    await expect_code(
        grpc.StatusCode.INVALID_ARGUMENT,
        call("alice", "ListChanges", svc.ListChangesRequest(page_size=-1)),
    )


async def test_due_times_round_trip_across_zones(call: Call) -> None:
    due = datetime(2027, 3, 28, 1, 30, tzinfo=UTC) + timedelta(seconds=0)
    task = await create(
        call, "alice", title="x", due_time=timestamp(due), time_zone="Australia/Lord_Howe"
    )
    assert task.due_time.ToDatetime(tzinfo=UTC) == due
    assert task.time_zone == "Australia/Lord_Howe"
