"""The tasks' root fields: `tasks` and `task`, the mutations that write a task, and `taskUpdates`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from gateway import ids
from gateway.api.live_stream import relayed
from gateway.api.payloads import answered
from gateway.api.tasks.change_cursors import ChangeCursors, invalid_cursor
from gateway.api.tasks.inputs import (
    CompleteTaskInput,
    CreateTaskInput,
    DeleteTaskInput,
    ReopenTaskInput,
    TaskFilter,
    TaskOrder,
    UpdateTaskInput,
)
from gateway.api.tasks.payloads import (
    CompleteTaskPayload,
    CreateTaskPayload,
    DeleteTaskPayload,
    ReopenTaskPayload,
    UpdateTaskPayload,
)
from gateway.api.tasks.types import Task, TaskConnection, TaskFields, TaskUpdate
from gateway.arguments import given
from gateway.context import GatewayContext, Info
from gateway.errors import BAD_USER_INPUT, GatewayError, UserErrorCode, code_of
from gateway.paging import DEFAULT_PAGE_SIZE, Page, selected_at
from todo_contracts.live.v1 import live_service_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2
from todo_runtime.validation import ORDER_KEYS_MAX

TaskId = Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]


async def list_tasks(
    info: Info,
    *,
    filter: Annotated[
        TaskFilter | None, strawberry.argument(description="Which tasks; all of yours when null.")
    ] = strawberry.UNSET,
    order_by: Annotated[
        list[TaskOrder] | None,
        strawberry.argument(
            description=f"Sort keys in priority order, at most {ORDER_KEYS_MAX} (each field "
            "once); default newest first."
        ),
    ] = strawberry.UNSET,
    first: Annotated[
        int | None,
        strawberry.argument(
            description="Forward paging: the first N tasks (after `after`), 1..200 (the "
            f"configured maximum). Default {DEFAULT_PAGE_SIZE} when neither first nor last is "
            "given."
        ),
    ] = strawberry.UNSET,
    after: Annotated[
        str | None,
        strawberry.argument(description="An edge's cursor: only the tasks after that edge."),
    ] = strawberry.UNSET,
    last: Annotated[
        int | None,
        strawberry.argument(
            description="Backward paging: the last N tasks (before `before`), 1..200."
        ),
    ] = strawberry.UNSET,
    before: Annotated[
        str | None,
        strawberry.argument(description="An edge's cursor: only the tasks before that edge."),
    ] = strawberry.UNSET,
) -> TaskConnection:
    context = info.context
    page = Page.either_way(first, after, last, before, context.max_page_size)
    selected = selected_at(info)
    request = tasks_service_pb2.ListTasksRequest(
        page_size=page.size,
        page_token=page.token,
        before_page_token=page.before_token,
        from_end=page.from_end,
        skip_total_size="totalCount" not in selected,
        # The change-log position as of the page, read in the page's own snapshot.
        read_latest_sequence="changeCursor" in selected,
    )
    # Only what the query reads of each task crosses the wire and is converted.
    fields = TaskFields.selected(selected_at(info, "edges", "node"))
    request.read_mask.paths.extend(fields.read_mask)
    if given(filter):
        request.filter.CopyFrom(filter.to_pb())
    request.order_by.extend(order.to_pb() for order in order_by or ())
    response = await context.call(context.tasks.ListTasks, request)
    change_cursor = ""
    if request.read_latest_sequence:
        cursors = ChangeCursors(context.services.call.secret)
        change_cursor = cursors.encode(context.user(), response.latest_sequence)
    return TaskConnection.from_pb(response, change_cursor, fields)


async def get_task(info: Info, id: TaskId) -> Task | None:
    return await fetch_task(info.context, id)


async def fetch_task(context: GatewayContext, global_id: str) -> Task:
    request = tasks_service_pb2.GetTaskRequest(id=ids.service_id(global_id, ids.TASK))
    response = await context.call(context.tasks.GetTask, request, about=global_id)
    return Task.from_pb(response.task)


async def create_task(
    info: Info,
    input: Annotated[CreateTaskInput, strawberry.argument(description="The new task.")],
) -> CreateTaskPayload | None:
    context = info.context

    async def perform() -> CreateTaskPayload:
        response = await context.call(context.tasks.CreateTask, input.to_pb())
        return CreateTaskPayload(task=Task.from_pb(response.task))

    return await answered(input, CreateTaskPayload, perform, locate=input.locate)


async def update_task(
    info: Info,
    input: Annotated[
        UpdateTaskInput, strawberry.argument(description="The task and the fields to change.")
    ],
) -> UpdateTaskPayload | None:
    context = info.context

    async def perform() -> UpdateTaskPayload:
        request = input.to_pb("")
        # After the input's own checks, which need no task.
        request.task.id = ids.service_id(input.id, ids.TASK)
        response = await context.call(context.tasks.UpdateTask, request, about=input.id)
        return UpdateTaskPayload(task=Task.from_pb(response.task))

    payload = await answered(input, UpdateTaskPayload, perform, id_field="id", locate=input.locate)
    if any(error.code is UserErrorCode.STALE_VERSION for error in payload.user_errors):
        try:
            payload.task = await fetch_task(context, input.id)  # what to apply the change to
        except GatewayError as error:
            if not error.problems:
                raise
            # Deleted since: the task stays null, as for any other refusal.
    return payload


async def complete_task(
    info: Info, input: Annotated[CompleteTaskInput, strawberry.argument(description="The task.")]
) -> CompleteTaskPayload | None:
    context = info.context

    async def perform() -> CompleteTaskPayload:
        request = tasks_service_pb2.CompleteTaskRequest(id=ids.service_id(input.id, ids.TASK))
        response = await context.call(context.tasks.CompleteTask, request, about=input.id)
        return CompleteTaskPayload(task=Task.from_pb(response.task))

    return await answered(input, CompleteTaskPayload, perform, id_field="id")


async def reopen_task(
    info: Info, input: Annotated[ReopenTaskInput, strawberry.argument(description="The task.")]
) -> ReopenTaskPayload | None:
    context = info.context

    async def perform() -> ReopenTaskPayload:
        request = tasks_service_pb2.ReopenTaskRequest(id=ids.service_id(input.id, ids.TASK))
        response = await context.call(context.tasks.ReopenTask, request, about=input.id)
        return ReopenTaskPayload(task=Task.from_pb(response.task))

    return await answered(input, ReopenTaskPayload, perform, id_field="id")


async def delete_task(
    info: Info, input: Annotated[DeleteTaskInput, strawberry.argument(description="The task.")]
) -> DeleteTaskPayload | None:
    context = info.context

    async def perform() -> DeleteTaskPayload:
        request = tasks_service_pb2.DeleteTaskRequest(id=ids.service_id(input.id, ids.TASK))
        await context.call(context.tasks.DeleteTask, request, about=input.id)
        return DeleteTaskPayload(deleted_task_id=input.id)

    return await answered(input, DeleteTaskPayload, perform, id_field="id")


async def task_updates(
    info: Info,
    since: Annotated[
        str | None,
        strawberry.argument(
            description="A cursor from TaskUpdate.cursor or tasks.changeCursor; null = only "
            "changes from now on."
        ),
    ] = None,
) -> AsyncGenerator[TaskUpdate, None]:
    context = info.context
    user = context.user()
    cursors = ChangeCursors(context.services.call.secret)
    request = live_service_pb2.SubscribeRequest(task_updates=True)
    if since is None:
        request.from_latest = True
    else:
        request.after_sequence = cursors.decode(user, since)
    stream = context.stream(context.live.Subscribe, request)
    updates = relayed(
        stream, "taskUpdates", buffer=context.subscription_buffer, expires_at=context.expires_at
    )
    try:
        async for response in updates:
            if response.HasField("task_update"):
                update = response.task_update
                yield TaskUpdate.from_pb(update, cursors.encode(user, update.sequence))
    except GatewayError as error:
        if code_of(error) == BAD_USER_INPUT:
            raise invalid_cursor() from None  # a cursor beyond the user's log
        raise


@strawberry.type
class TaskQueries:
    tasks: TaskConnection = strawberry.field(
        resolver=list_tasks,
        description="The caller's tasks, filtered and ordered (default: newest first), as a "
        "Relay cursor connection: `first`/`after` page forwards, `last`/`before` backwards, and "
        "every edge's cursor is a position.",
    )
    task: Task | None = strawberry.field(
        resolver=get_task,
        description="One task. Null with a NOT_FOUND error when it does not exist or is not yours.",
    )


@strawberry.type
class TaskMutations:
    create_task: CreateTaskPayload | None = strawberry.mutation(
        resolver=create_task, description="Creates a task; pass `requestId` to make retries safe."
    )
    update_task: UpdateTaskPayload | None = strawberry.mutation(
        resolver=update_task,
        description="Changes the fields given in `input`. With `expectedVersion`, refuses with "
        "STALE_VERSION (and the current task) when the task changed since you read that version.",
    )
    complete_task: CompleteTaskPayload | None = strawberry.mutation(
        resolver=complete_task,
        description="Marks a task completed (no change if it already is). Completing a recurring "
        "task makes its next instance.",
    )
    reopen_task: ReopenTaskPayload | None = strawberry.mutation(
        resolver=reopen_task,
        description="Marks a completed task open again (no change if it is open).",
    )
    delete_task: DeleteTaskPayload | None = strawberry.mutation(
        resolver=delete_task, description="Deletes a task."
    )


@strawberry.type
class TaskSubscriptions:
    task_updates: AsyncGenerator[TaskUpdate, None] = strawberry.subscription(
        resolver=task_updates,
        description="Your task changes, in order, each once: first those after `since`, then "
        "live. Ends with SLOW_CONSUMER if you read slower than changes come, or UNAVAILABLE: "
        "subscribe again with the last cursor you got.",
    )
