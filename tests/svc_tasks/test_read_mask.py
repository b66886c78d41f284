"""ListTasks' read_mask: a page holds only the fields it names, each as the whole task has it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from svc_tasks.messages import TASK_COLUMNS, TASK_FIELDS, columns_of
from tests.svc_tasks.conftest import Call, create_request
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.timestamps import timestamp

MASKS = [
    *([name] for name in sorted(TASK_FIELDS)),
    ["id", "title", "due_time", "priority", "tags"],  # what the benchmark's page selects
    ["reminders", "recurrence", "complete_time", "series_id", "series_index"],
]


@pytest.fixture
async def every_kind(call: Call) -> None:
    """Tasks between them setting every field a page can hold: a completed instance of a series
    with reminders of both kinds, a tagged one, an empty one."""
    due = datetime.now(UTC) + timedelta(days=1)
    series = await call(
        "alice",
        "CreateTask",
        create_request(
            "Water the plants",
            description="the ones on the balcony",
            priority=task_pb2.PRIORITY_HIGH,
            tags=["home", "plants"],
            due_time=timestamp(due),
            time_zone="Europe/Berlin",
            recurrence=task_pb2.Recurrence(rule="FREQ=WEEKLY"),
            reminders=[
                task_pb2.Reminder(minutes_before=30),
                task_pb2.Reminder(remind_time=timestamp(due - timedelta(days=1))),
            ],
        ),
    )
    await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=series.task.id))
    await call("alice", "CreateTask", create_request("Call the dentist", tags=["health"]))
    await call("alice", "CreateTask", create_request("Nothing else"))


@pytest.mark.usefixtures("every_kind")
@pytest.mark.parametrize("paths", MASKS, ids=",".join)
async def test_a_masked_page_is_the_whole_page_masked(call: Call, paths: list[str]) -> None:
    whole = await call("alice", "ListTasks", svc.ListTasksRequest())
    masked = await call(
        "alice", "ListTasks", svc.ListTasksRequest(read_mask=FieldMask(paths=paths))
    )
    assert len(whole.tasks) == 3
    expected = []
    for task in whole.tasks:
        kept = task_pb2.Task()
        FieldMask(paths=paths).MergeMessage(task, kept)
        expected.append(kept)
    assert list(masked.tasks) == expected
    assert list(masked.cursors) == list(whole.cursors)
    assert {field.name for task in masked.tasks for field, _ in task.ListFields()} <= set(paths)


@pytest.mark.usefixtures("every_kind")
@pytest.mark.parametrize(
    ("paths", "named"),
    [
        (["id", "name"], "name"),
        (["recurrence.rule"], "recurrence.rule"),
        (["dueTime"], "dueTime"),
        (["*"], "*"),
    ],
)
async def test_a_mask_naming_what_a_task_lacks_is_refused(
    call: Call, paths: list[str], named: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call("alice", "ListTasks", svc.ListTasksRequest(read_mask=FieldMask(paths=paths)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == f"read_mask: Task has no field {named}"


def test_a_page_selects_the_columns_its_fields_are_read_from() -> None:
    assert columns_of(frozenset({"title", "due_time"})) == "id, title, due_at"
    assert columns_of(frozenset({"recurrence"})) == (
        "id, recurrence_rule, recurrence_text, recurrence_basis, recurrence_final"
    )
    assert columns_of(TASK_FIELDS) == TASK_COLUMNS
