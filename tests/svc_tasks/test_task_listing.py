"""ListTasks filters, ordering and keyset paging against real Postgres."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from tests.svc_tasks.conftest import Call, create_request
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.timestamps import timestamp

P = task_pb2
ASC, DESC = svc.ORDER_DIRECTION_ASCENDING, svc.ORDER_DIRECTION_DESCENDING
NOW = datetime.now(UTC)


@pytest.fixture
async def sample(call: Call) -> dict[str, str]:
    """Five tasks of alice (and one of bob's that must never show up): letter → id."""
    specs = {
        "A": {
            "title": "Buy milk",
            "priority": P.PRIORITY_HIGH,
            "tags": ["home", "errands"],
            "due": NOW - timedelta(days=1),
        },
        "B": {
            "title": "Call the dentist",
            "description": "annual checkup",
            "priority": P.PRIORITY_URGENT,
            "tags": ["health"],
            "due": NOW + timedelta(days=1),
        },
        "C": {
            "title": "Write report",
            "description": "quarterly numbers for finance",
            "priority": P.PRIORITY_MEDIUM,
            "tags": ["work"],
            "due": NOW + timedelta(days=3),
        },
        "D": {
            "title": "Groceries for the week",
            "priority": P.PRIORITY_LOW,
            "tags": ["Home"],
            "due": None,
        },
        "E": {
            "title": "Plan holiday",
            "description": "flights and hotel",
            "priority": P.PRIORITY_NONE,
            "tags": ["home", "travel"],
            "due": NOW - timedelta(days=2),
        },
    }
    ids: dict[str, str] = {}
    for letter, spec in specs.items():
        due = spec.pop("due")
        task = task_pb2.Task(**spec)  # type: ignore[arg-type]
        if isinstance(due, datetime):
            task.due_time.CopyFrom(timestamp(due))
        ids[letter] = (await call("alice", "CreateTask", svc.CreateTaskRequest(task=task))).task.id
    for letter in ("C", "E"):
        await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=ids[letter]))
    await call(
        "bob",
        "CreateTask",
        create_request("Buy milk too", tags=["home"]),
    )
    return ids


async def listed(call: Call, sample: dict[str, str], **request: object) -> str:
    response = await call("alice", "ListTasks", svc.ListTasksRequest(**request))  # type: ignore[arg-type]
    by_id = {task_id: letter for letter, task_id in sample.items()}
    letters = "".join(by_id[t.id] for t in response.tasks)
    assert response.total_size == len(letters)
    return letters


@pytest.mark.parametrize(
    ("task_filter", "expected"),
    [
        (svc.TaskFilter(), "EDCBA"),
        (svc.TaskFilter(status=P.TASK_STATUS_OPEN), "DBA"),
        (svc.TaskFilter(status=P.TASK_STATUS_COMPLETED), "EC"),
        (svc.TaskFilter(priorities=[P.PRIORITY_HIGH, P.PRIORITY_URGENT]), "BA"),
        (svc.TaskFilter(tags=["home"]), "EDA"),
        (svc.TaskFilter(tags=["HOME", "errands"]), "A"),
        (svc.TaskFilter(tags=["home", "work"]), ""),
        (svc.TaskFilter(due_before=timestamp(NOW)), "EA"),
        (svc.TaskFilter(due_after=timestamp(NOW)), "CB"),
        (
            svc.TaskFilter(
                due_after=timestamp(NOW - timedelta(days=1, hours=1)),
                due_before=timestamp(NOW + timedelta(days=2)),
            ),
            "BA",
        ),
        (svc.TaskFilter(overdue=True), "A"),
        (svc.TaskFilter(overdue=False), "EDCB"),
        (svc.TaskFilter(search="milk"), "A"),
        (svc.TaskFilter(search="dent"), "B"),
        (svc.TaskFilter(search="dentst"), "B"),
        (svc.TaskFilter(search="quarterly finance"), "C"),
        (svc.TaskFilter(search="grocerys"), "D"),
        (svc.TaskFilter(search="HOTEL"), "E"),
        (svc.TaskFilter(search="holiday milk"), ""),
        (svc.TaskFilter(search="home", status=P.TASK_STATUS_OPEN), ""),
        (
            svc.TaskFilter(tags=["home"], status=P.TASK_STATUS_OPEN, priorities=[P.PRIORITY_LOW]),
            "D",
        ),
    ],
)
async def test_filters(
    call: Call, sample: dict[str, str], task_filter: svc.TaskFilter, expected: str
) -> None:
    assert await listed(call, sample, filter=task_filter) == expected


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ([(svc.TASK_ORDER_FIELD_DUE_TIME, ASC)], "EABCD"),
        ([(svc.TASK_ORDER_FIELD_DUE_TIME, DESC)], "CBAED"),
        ([(svc.TASK_ORDER_FIELD_PRIORITY, DESC)], "BACDE"),
        ([(svc.TASK_ORDER_FIELD_PRIORITY, ASC)], "EDCAB"),
        ([(svc.TASK_ORDER_FIELD_TITLE, ASC)], "ABDEC"),
        ([(svc.TASK_ORDER_FIELD_TITLE, DESC)], "CEDBA"),
        ([(svc.TASK_ORDER_FIELD_CREATE_TIME, ASC)], "ABCDE"),
        ([(svc.TASK_ORDER_FIELD_CREATE_TIME, DESC)], "EDCBA"),
        ([(svc.TASK_ORDER_FIELD_UPDATE_TIME, ASC)], "ABDCE"),
        ([(svc.TASK_ORDER_FIELD_UPDATE_TIME, svc.ORDER_DIRECTION_UNSPECIFIED)], "ABDCE"),
    ],
)
async def test_orderings(
    call: Call, sample: dict[str, str], order: list[tuple[int, int]], expected: str
) -> None:
    order_by = [svc.TaskOrder(field=f, direction=d) for f, d in order]  # type: ignore[arg-type]
    assert await listed(call, sample, order_by=order_by) == expected


async def test_multi_key_mixed_direction_paging_matches_a_full_sort(call: Call) -> None:
    rng = random.Random(7)
    tasks = []
    for index in range(37):
        task = task_pb2.Task(
            title=f"t{index:02d}", priority=cast("task_pb2.Priority", rng.randint(1, 5))
        )
        if rng.random() < 0.7:
            task.due_time.CopyFrom(timestamp(NOW + timedelta(days=rng.randint(-3, 3))))
        tasks.append((await call("alice", "CreateTask", svc.CreateTaskRequest(task=task))).task)
    infinity = datetime.max.replace(tzinfo=UTC)

    def due(task: task_pb2.Task) -> datetime:
        return task.due_time.ToDatetime(tzinfo=UTC) if task.HasField("due_time") else infinity

    expected = sorted(
        tasks, key=lambda t: uuid.UUID(t.id), reverse=True
    )  # tie-breaker follows the first key (DESC)
    expected.sort(key=lambda t: (-t.priority, due(t)))
    order_by = [
        svc.TaskOrder(field=svc.TASK_ORDER_FIELD_PRIORITY, direction=DESC),
        svc.TaskOrder(field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=ASC),
    ]
    seen: list[str] = []
    token = ""
    while True:
        page = await call(
            "alice",
            "ListTasks",
            svc.ListTasksRequest(page_size=5, page_token=token, order_by=order_by),
        )
        assert page.total_size == 37
        seen.extend(t.id for t in page.tasks)
        token = page.next_page_token
        if not token:
            break
    assert seen == [t.id for t in expected]


async def test_paging_is_stable_under_concurrent_inserts(call: Call) -> None:
    originals = [
        (
            await call(
                "alice",
                "CreateTask",
                create_request(f"task {i:02d}"),
            )
        ).task.id
        for i in range(23)
    ]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await call("alice", "ListTasks", svc.ListTasksRequest(page_size=4, page_token=token))
        seen.extend(t.id for t in page.tasks)
        pages += 1
        await call(
            "alice",
            "CreateTask",
            create_request(f"inserted {pages}"),
        )
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(originals))  # newest first; inserts land before the cursor
    assert pages == 6


async def test_page_token_must_match_the_query(call: Call, sample: dict[str, str]) -> None:
    first = await call("alice", "ListTasks", svc.ListTasksRequest(page_size=2))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(
            "alice",
            "ListTasks",
            svc.ListTasksRequest(
                page_size=2, page_token=first.next_page_token, filter=svc.TaskFilter(tags=["home"])
            ),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for bad in [
        svc.ListTasksRequest(page_size=-1),
        svc.ListTasksRequest(page_token="zzz"),
        svc.ListTasksRequest(filter=svc.TaskFilter(status=cast("task_pb2.TaskStatus", 7))),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call("alice", "ListTasks", bad)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_page_size_above_the_maximum_is_accepted(
    call: Call, sample: dict[str, str]
) -> None:
    response = await call("alice", "ListTasks", svc.ListTasksRequest(page_size=100_000))
    assert len(response.tasks) == 5
    assert response.next_page_token == ""


async def test_words_from_an_update_are_found_with_a_typo(call: Call) -> None:
    task = (
        await call(
            "alice",
            "CreateTask",
            create_request("x"),
        )
    ).task
    renamed = task_pb2.Task(id=task.id, title="Refill prescription")
    await call(
        "alice",
        "UpdateTask",
        svc.UpdateTaskRequest(task=renamed, update_mask=FieldMask(paths=["title"])),
    )
    found = await call(
        "alice", "ListTasks", svc.ListTasksRequest(filter=svc.TaskFilter(search="presciption"))
    )
    assert [t.id for t in found.tasks] == [task.id]
    missing = await call(
        "alice", "ListTasks", svc.ListTasksRequest(filter=svc.TaskFilter(search="invoice"))
    )
    assert list(missing.tasks) == []
