"""Query root: reads, each scoped to the authenticated caller by the services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway.context import GatewayContext
from gateway.errors import bad_input, rpc
from gateway.types.recurrence import RecurrencePreview
from gateway.types.scalars import to_timestamp
from gateway.types.task import Task, TaskConnection
from gateway.types.task_inputs import TaskFilter, TaskOrder, given
from todo_contracts.recur.v1 import recurrence_service_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2

Info = strawberry.Info[GatewayContext, None]
TaskId = Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]

DEFAULT_PAGE_SIZE = 50
DEFAULT_PREVIEW_COUNT = 5
MAX_PREVIEW_COUNT = 100


async def list_tasks(
    info: Info,
    filter: Annotated[
        TaskFilter | None, strawberry.argument(description="Which tasks; all of yours when null.")
    ] = strawberry.UNSET,
    order_by: Annotated[
        list[TaskOrder] | None,
        strawberry.argument(description="Sort keys in priority order; default newest first."),
    ] = strawberry.UNSET,
    first: Annotated[
        int | None, strawberry.argument(description="Page size, 1..200 (the configured maximum).")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None,
        strawberry.argument(description="`pageInfo.endCursor` of the previous page; null = start."),
    ] = strawberry.UNSET,
) -> TaskConnection:
    context = info.context
    first = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= first <= context.max_page_size:
        raise bad_input("first", f"must be between 1 and {context.max_page_size}, got {first}")
    request = tasks_service_pb2.ListTasksRequest(page_size=first, page_token=after or "")
    if given(filter):
        request.filter.CopyFrom(filter.to_pb())
    request.order_by.extend(order.to_pb() for order in order_by or ())
    call = context.tasks.ListTasks(request, metadata=context.metadata(), timeout=context.timeout)
    return TaskConnection.from_pb(await rpc(call))


async def get_task(info: Info, id: TaskId) -> Task | None:
    context = info.context
    request = tasks_service_pb2.GetTaskRequest(id=id)
    call = context.tasks.GetTask(request, metadata=context.metadata(), timeout=context.timeout)
    return Task.from_pb((await rpc(call)).task)


async def parse_recurrence(
    info: Info,
    text: Annotated[
        str,
        strawberry.argument(
            description="Natural language ('every month on the last friday at 9am') or RRULE "
            "text ('FREQ=WEEKLY;BYDAY=MO,TH'); 1..500 characters."
        ),
    ],
    time_zone: Annotated[
        str | None, strawberry.argument(description="IANA zone the rule is read in; default UTC.")
    ] = strawberry.UNSET,
    count: Annotated[
        int | None, strawberry.argument(description="How many occurrences to preview, 1..100.")
    ] = DEFAULT_PREVIEW_COUNT,
    due_at: Annotated[
        datetime | None,
        strawberry.argument(
            description="The first task's due, as you would pass it to createTask; default: the "
            "first occurrence after now, as createTask picks one."
        ),
    ] = strawberry.UNSET,
) -> RecurrencePreview:
    context = info.context
    count = DEFAULT_PREVIEW_COUNT if count is None else count
    if not 1 <= count <= MAX_PREVIEW_COUNT:
        raise bad_input("count", f"must be between 1 and {MAX_PREVIEW_COUNT}, got {count}")
    request = recurrence_service_pb2.ParseRecurrenceRequest(
        text=text, time_zone=time_zone or "", count=count
    )
    if given(due_at):
        request.start_time.CopyFrom(to_timestamp(due_at))
    call = context.recur.ParseRecurrence(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    return RecurrencePreview.from_pb(await rpc(call))


@strawberry.type(description="Reads. Every field needs `Authorization: Bearer <jwt>`.")
class Query:
    tasks: TaskConnection = strawberry.field(
        resolver=list_tasks,
        description="The caller's tasks, filtered and ordered (default: newest first), a page at "
        "a time; `first` is 1..200 (the configured maximum). Cursors are page-granular: `after` "
        "takes `pageInfo.endCursor` (or any edge's cursor of that page) and returns the next page.",
    )
    task: Task | None = strawberry.field(
        resolver=get_task,
        description="One task. Null with a NOT_FOUND error when it does not exist or is not yours.",
    )
    parse_recurrence: RecurrencePreview = strawberry.field(
        resolver=parse_recurrence,
        description="Checks a recurrence rule (natural language or RRULE) without saving it: the "
        "normalized rule, its English text and the first `count` (1..100) dues of its tasks, "
        "read in `timeZone` (default UTC), exactly as createTask with the same text, zone and "
        "dueAt would store them.",
    )
