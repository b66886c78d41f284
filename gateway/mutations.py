"""Mutation root: writes to the caller's own tasks through svc_tasks."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.context import GatewayContext
from gateway.errors import rpc
from gateway.nodes import about, task_id_of
from gateway.notify_resolvers import (
    create_webhook,
    delete_webhook,
    mark_read,
    redeliver_webhook,
    set_webhook_enabled,
    snooze,
)
from gateway.types.notification import Notification
from gateway.types.task import Task
from gateway.types.task_inputs import CreateTaskInput, UpdateTaskInput, given
from gateway.types.webhook import Webhook, WebhookCreated
from todo_contracts.tasks.v1 import tasks_service_pb2

Info = strawberry.Info[GatewayContext, None]
TaskId = Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]


async def create_task(
    info: Info,
    input: Annotated[CreateTaskInput, strawberry.argument(description="The new task.")],
) -> Task:
    context = info.context
    call = context.tasks.CreateTask(
        input.to_pb(), metadata=context.metadata(), timeout=context.timeout
    )
    return Task.from_pb((await rpc(call)).task)


async def update_task(
    info: Info,
    id: TaskId,
    input: Annotated[UpdateTaskInput, strawberry.argument(description="The fields to change.")],
    expected_version: Annotated[
        int | None,
        strawberry.argument(description="The `version` you last read; CONFLICT if it changed."),
    ] = strawberry.UNSET,
) -> Task:
    context = info.context
    request = input.to_pb("", expected_version if given(expected_version) else None)
    request.task.id = task_id_of(id)  # after the input's own checks, which need no task
    call = context.tasks.UpdateTask(request, metadata=context.metadata(), timeout=context.timeout)
    with about(id):
        return Task.from_pb((await rpc(call)).task)


async def complete_task(info: Info, id: TaskId) -> Task:
    context = info.context
    request = tasks_service_pb2.CompleteTaskRequest(id=task_id_of(id))
    call = context.tasks.CompleteTask(request, metadata=context.metadata(), timeout=context.timeout)
    with about(id):
        return Task.from_pb((await rpc(call)).task)


async def reopen_task(info: Info, id: TaskId) -> Task:
    context = info.context
    request = tasks_service_pb2.ReopenTaskRequest(id=task_id_of(id))
    call = context.tasks.ReopenTask(request, metadata=context.metadata(), timeout=context.timeout)
    with about(id):
        return Task.from_pb((await rpc(call)).task)


async def delete_task(info: Info, id: TaskId) -> strawberry.ID:
    context = info.context
    request = tasks_service_pb2.DeleteTaskRequest(id=task_id_of(id))
    call = context.tasks.DeleteTask(request, metadata=context.metadata(), timeout=context.timeout)
    with about(id):
        await rpc(call)
    return id


@strawberry.type(description="Writes. Every field needs `Authorization: Bearer <jwt>`.")
class Mutation:
    create_task: Task = strawberry.mutation(
        resolver=create_task, description="Creates a task; pass `requestId` to make retries safe."
    )
    update_task: Task = strawberry.mutation(
        resolver=update_task,
        description="Changes the fields given in `input`. With `expectedVersion`, fails with "
        "CONFLICT when the task changed since you read that version: re-read and retry.",
    )
    complete_task: Task = strawberry.mutation(
        resolver=complete_task,
        description="Marks a task completed (no change if it already is). Completing a recurring "
        "task makes its next instance.",
    )
    reopen_task: Task = strawberry.mutation(
        resolver=reopen_task,
        description="Marks a completed task open again (no change if it is open).",
    )
    delete_task: strawberry.ID = strawberry.mutation(
        resolver=delete_task, description="Deletes a task and returns its id."
    )
    mark_notification_read: Notification = strawberry.mutation(
        resolver=mark_read, description="Marks a notification read (no change if it already is)."
    )
    snooze_reminder: Notification = strawberry.mutation(
        resolver=snooze,
        description="Reminds you of a notification's task again, once, `minutes` from now; "
        "snoozing again before then moves that time. BAD_USER_INPUT if the task is done.",
    )
    create_webhook: WebhookCreated = strawberry.mutation(
        resolver=create_webhook,
        description="Registers an endpoint for signed reminder deliveries; the secret is shown "
        "only in this answer.",
    )
    set_webhook_enabled: Webhook = strawberry.mutation(
        resolver=set_webhook_enabled,
        description="Pauses (false) or resumes (true) deliveries to an endpoint.",
    )
    delete_webhook: strawberry.ID = strawberry.mutation(
        resolver=delete_webhook, description="Deletes an endpoint and its delivery log."
    )
    redeliver_webhook: strawberry.ID = strawberry.mutation(
        resolver=redeliver_webhook,
        description="Sends a delivery again, freshly signed, with its same webhook-id.",
    )
