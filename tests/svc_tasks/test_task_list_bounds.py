"""Every list of a request has a maximum, refused naming the field before any item is looked at."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from tests.svc_tasks.conftest import Call, create_request
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc

BY_TITLE = svc.TaskOrder(field=svc.TASK_ORDER_FIELD_TITLE)
ALL_PRIORITIES = [
    task_pb2.PRIORITY_NONE,
    task_pb2.PRIORITY_LOW,
    task_pb2.PRIORITY_MEDIUM,
    task_pb2.PRIORITY_HIGH,
    task_pb2.PRIORITY_URGENT,
]
ALL_ORDER_FIELDS = [
    svc.TASK_ORDER_FIELD_DUE_TIME,
    svc.TASK_ORDER_FIELD_PRIORITY,
    svc.TASK_ORDER_FIELD_TITLE,
    svc.TASK_ORDER_FIELD_CREATE_TIME,
    svc.TASK_ORDER_FIELD_UPDATE_TIME,
]
# Far more work than allowed if each item were looked at first: a yearly rule expanded, say.
SLOW_RULE = task_pb2.Recurrence(text="every year on feb 29")


def _reminders(count: int) -> list[task_pb2.Reminder]:
    return [task_pb2.Reminder(minutes_before=minutes) for minutes in range(count)]


@pytest.mark.parametrize(
    ("method", "request_message", "field", "maximum"),
    [
        (
            "ListTasks",
            svc.ListTasksRequest(filter=svc.TaskFilter(tags=["x"] * 100_000)),
            "filter.tags",
            20,
        ),
        (
            "ListTasks",
            svc.ListTasksRequest(filter=svc.TaskFilter(priorities=[task_pb2.PRIORITY_LOW] * 6)),
            "filter.priorities",
            5,
        ),
        ("ListTasks", svc.ListTasksRequest(order_by=[BY_TITLE] * 6), "order_by", 5),
        ("CreateTask", create_request("t", tags=["x"] * 21, recurrence=SLOW_RULE), "task.tags", 20),
        ("CreateTask", create_request("t", reminders=_reminders(11)), "task.reminders", 10),
        (
            "UpdateTask",
            svc.UpdateTaskRequest(
                task=task_pb2.Task(id="not even an id", reminders=_reminders(11)),
                update_mask=FieldMask(paths=["reminders"]),
            ),
            "task.reminders",
            10,
        ),
        (
            "UpdateTask",
            svc.UpdateTaskRequest(
                task=task_pb2.Task(id="not even an id"), update_mask=FieldMask(paths=["title"] * 9)
            ),
            "update_mask.paths",
            8,
        ),
    ],
)
async def test_a_list_over_its_maximum_is_invalid_argument_naming_it(
    call: Call, method: str, request_message: Message, field: str, maximum: int
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call("alice", method, request_message)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith(f"{field}: must hold at most {maximum} items")


async def test_lists_at_their_maximum_are_served(call: Call) -> None:
    created = await call(
        "alice", "CreateTask", create_request("t", tags=[f"t{i}" for i in range(20)])
    )
    assert len(created.task.tags) == 20
    listed = await call(
        "alice",
        "ListTasks",
        svc.ListTasksRequest(
            filter=svc.TaskFilter(tags=[f"t{i}" for i in range(20)], priorities=ALL_PRIORITIES),
            order_by=[svc.TaskOrder(field=field) for field in ALL_ORDER_FIELDS],
        ),
    )
    assert [task.id for task in listed.tasks] == [created.task.id]
