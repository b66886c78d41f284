"""Cursor connections at the service: every task's cursor is a position, both directions, windows."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from tests.svc_tasks.conftest import Call, ChangeLog, create_request
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.timestamps import timestamp

ASC, DESC = svc.ORDER_DIRECTION_ASCENDING, svc.ORDER_DIRECTION_DESCENDING
NOW = datetime.now(UTC).replace(microsecond=0)
ORDERS = {
    "newest first": [],
    "priority desc, due asc": [
        svc.TaskOrder(field=svc.TASK_ORDER_FIELD_PRIORITY, direction=DESC),
        svc.TaskOrder(field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=ASC),
    ],
    "due desc": [svc.TaskOrder(field=svc.TASK_ORDER_FIELD_DUE_TIME, direction=DESC)],
    "title asc": [svc.TaskOrder(field=svc.TASK_ORDER_FIELD_TITLE, direction=ASC)],
    "oldest first": [svc.TaskOrder(field=svc.TASK_ORDER_FIELD_CREATE_TIME, direction=ASC)],
}
TAGS = ("home", "work", "errand")
# A filter by one tag in an order by creation time alone reads the owner's tasks by tag
# (`task_tags`); any other filter or order reads the tasks table. Both must page alike.
FILTERS = {
    "every task": svc.TaskFilter(),
    "tagged work": svc.TaskFilter(tags=["work"]),
    "tagged work, open": svc.TaskFilter(tags=["work"], status=task_pb2.TASK_STATUS_OPEN),
    "tagged work and home": svc.TaskFilter(tags=["work", "home"]),
}


async def seed(call: Call, count: int = 23) -> None:
    rng = random.Random(11)
    for index in range(count):
        task = task_pb2.Task(
            title=f"t{rng.randint(0, 9)}",  # repeated titles: ties broken by id
            priority=cast("task_pb2.Priority", rng.randint(1, 5)),
            tags=[tag for tag in TAGS if rng.random() < 0.6],
        )
        if rng.random() < 0.7:
            task.due_time.CopyFrom(timestamp(NOW + timedelta(hours=rng.randint(-5, 5))))
        created = await call(
            "alice", "CreateTask", svc.CreateTaskRequest(task=task, request_id=f"r{index}")
        )
        if rng.random() < 0.3:
            await call("alice", "CompleteTask", svc.CompleteTaskRequest(id=created.task.id))


async def full(
    call: Call, order: list[svc.TaskOrder], task_filter: svc.TaskFilter | None = None
) -> svc.ListTasksResponse:
    response: svc.ListTasksResponse = await call(
        "alice",
        "ListTasks",
        svc.ListTasksRequest(page_size=200, order_by=order, filter=task_filter),
    )
    return response


def matches(task: task_pb2.Task, task_filter: svc.TaskFilter) -> bool:
    """Whether `task` passes the tag and status parts of `task_filter`."""
    status = task_filter.status in (task_pb2.TASK_STATUS_UNSPECIFIED, task.status)
    return status and set(task_filter.tags) <= set(task.tags)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("task_filter", FILTERS.values(), ids=FILTERS.keys())
async def test_a_filtered_list_is_the_full_list_filtered(
    call: Call, order: list[svc.TaskOrder], task_filter: svc.TaskFilter
) -> None:
    await seed(call)
    everything = await full(call, order)
    expected = [t.id for t in everything.tasks if matches(t, task_filter)]
    filtered = await full(call, order, task_filter)
    assert [t.id for t in filtered.tasks] == expected
    assert len(expected) > 3 or task_filter == svc.TaskFilter()
    # And page by page, three at a time, forwards and then backwards.
    forwards: list[str] = []
    request = svc.ListTasksRequest(page_size=3, order_by=order, filter=task_filter)
    while True:
        page = await call("alice", "ListTasks", request)
        forwards += [t.id for t in page.tasks]
        if not page.has_next_page:
            break
        request.page_token = page.cursors[-1]
    assert forwards == expected
    backwards: list[str] = []
    request = svc.ListTasksRequest(page_size=3, order_by=order, filter=task_filter, from_end=True)
    while True:
        page = await call("alice", "ListTasks", request)
        backwards = [t.id for t in page.tasks] + backwards
        if not page.has_previous_page:
            break
        request.before_page_token = page.cursors[0]
    assert backwards == expected


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
async def test_after_any_cursor_come_exactly_the_tasks_after_it(
    call: Call, order: list[svc.TaskOrder]
) -> None:
    await seed(call)
    everything = await full(call, order)
    ids = [t.id for t in everything.tasks]
    assert len(everything.cursors) == len(ids) == 23
    for index, cursor in enumerate(everything.cursors):
        after = await call(
            "alice",
            "ListTasks",
            svc.ListTasksRequest(page_size=200, page_token=cursor, order_by=order),
        )
        assert [t.id for t in after.tasks] == ids[index + 1 :]
        assert after.has_previous_page
        before = await call(
            "alice",
            "ListTasks",
            svc.ListTasksRequest(
                page_size=3, before_page_token=cursor, from_end=True, order_by=order
            ),
        )
        assert [t.id for t in before.tasks] == ids[max(0, index - 3) : index]
        assert before.has_next_page
        assert before.has_previous_page == (index > 3)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
async def test_walking_backwards_from_the_end_gives_the_whole_list(
    call: Call, order: list[svc.TaskOrder]
) -> None:
    await seed(call)
    ids = [t.id for t in (await full(call, order)).tasks]
    seen: list[str] = []
    before = ""
    while True:
        page = await call(
            "alice",
            "ListTasks",
            svc.ListTasksRequest(
                page_size=4, before_page_token=before, from_end=True, order_by=order
            ),
        )
        seen = [t.id for t in page.tasks] + seen
        if not page.has_previous_page:
            break
        before = page.cursors[0]
    assert seen == ids


async def test_a_window_between_two_cursors(call: Call) -> None:
    await seed(call)
    everything = await full(call, [])
    ids, cursors = [t.id for t in everything.tasks], everything.cursors
    window = await call(
        "alice",
        "ListTasks",
        svc.ListTasksRequest(page_size=50, page_token=cursors[4], before_page_token=cursors[10]),
    )
    assert [t.id for t in window.tasks] == ids[5:10]
    # As the Relay specification computes it: paging forwards, "next" is within the window.
    assert (window.has_previous_page, window.has_next_page) == (True, False)
    tail = await call(
        "alice",
        "ListTasks",
        svc.ListTasksRequest(
            page_size=2, page_token=cursors[4], before_page_token=cursors[10], from_end=True
        ),
    )
    assert [t.id for t in tail.tasks] == ids[8:10]


async def test_the_total_is_counted_only_when_asked(call: Call) -> None:
    await seed(call, 5)
    counted = await call("alice", "ListTasks", svc.ListTasksRequest(page_size=2))
    skipped = await call(
        "alice", "ListTasks", svc.ListTasksRequest(page_size=2, skip_total_size=True)
    )
    assert (counted.total_size, skipped.total_size) == (5, 0)
    assert [t.id for t in counted.tasks] == [t.id for t in skipped.tasks]


async def test_paging_both_ways_is_stable_under_concurrent_inserts_and_deletes(call: Call) -> None:
    """Every task that existed for the whole walk is seen exactly once, in order."""
    rng = random.Random(5)
    for index in range(30):
        await call("alice", "CreateTask", create_request(f"stay {index:02d}"))
    stable = {t.id for t in (await full(call, [])).tasks}
    doomed = [
        (await call("alice", "CreateTask", create_request(f"doomed {i}"))).task.id
        for i in range(10)
    ]
    for from_end in (False, True):
        seen: list[str] = []
        token = ""
        while True:
            request = svc.ListTasksRequest(page_size=4, from_end=from_end)
            if from_end:
                request.before_page_token = token
            else:
                request.page_token = token
            page = await call("alice", "ListTasks", request)
            seen = (
                seen + [t.id for t in page.tasks]
                if not from_end
                else [t.id for t in page.tasks] + seen
            )
            await call("alice", "CreateTask", create_request(f"new {uuid.uuid4()}"))
            if doomed and rng.random() < 0.7:
                await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=doomed.pop()))
            more = page.has_previous_page if from_end else page.has_next_page
            if not more:
                break
            token = page.cursors[0] if from_end else page.cursors[-1]
        walked = [task_id for task_id in seen if task_id in stable]
        assert len(walked) == len(set(walked)) == len(stable)
        ordered = [t.id for t in (await full(call, [])).tasks if t.id in stable]
        assert walked == ordered


async def test_a_tag_filter_follows_tag_changes_deletes_and_restores(
    call: Call, changes: ChangeLog
) -> None:
    async def tagged(tag: str) -> list[str]:
        listed = await full(call, [], svc.TaskFilter(tags=[tag]))
        return [t.id for t in listed.tasks]

    first = (await call("alice", "CreateTask", create_request("first", tags=["work"]))).task
    second = (await call("alice", "CreateTask", create_request("second", tags=["work"]))).task
    assert await tagged("work") == [second.id, first.id]
    await call(
        "alice",
        "UpdateTask",
        svc.UpdateTaskRequest(
            task=task_pb2.Task(id=first.id, tags=["home", "Errand"]),
            update_mask=FieldMask(paths=["tags"]),
        ),
    )
    assert (await tagged("work"), await tagged("errand")) == ([second.id], [first.id])
    await call("alice", "DeleteTask", svc.DeleteTaskRequest(id=first.id))
    assert await tagged("home") == []
    await call(
        "alice", "RevertChange", svc.RevertChangeRequest(event_id=await changes.last(first.id))
    )
    assert (await tagged("home"), await tagged("work")) == ([first.id], [second.id])
