"""What the task mutations answer: the task as it is now (or the deleted task's id), with the
shared `userErrors` and `clientMutationId` (`api.payloads`)."""

from __future__ import annotations

import strawberry

from gateway.api.payloads import Payload
from gateway.api.tasks.types import Task


@strawberry.type(description="A mutation's answer about one task.")
class TaskPayload(Payload):
    task: Task | None = strawberry.field(
        default=None,
        description="The task as the mutation left it; null when it was refused, except for "
        "STALE_VERSION, which comes with the current task.",
    )


@strawberry.type(description="What `createTask` answers.")
class CreateTaskPayload(TaskPayload):
    pass


@strawberry.type(description="What `updateTask` answers.")
class UpdateTaskPayload(TaskPayload):
    pass


@strawberry.type(description="What `completeTask` answers.")
class CompleteTaskPayload(TaskPayload):
    pass


@strawberry.type(description="What `reopenTask` answers.")
class ReopenTaskPayload(TaskPayload):
    pass


@strawberry.type(description="What `deleteTask` answers.")
class DeleteTaskPayload(Payload):
    deleted_task_id: strawberry.ID | None = strawberry.field(
        default=None, description="The deleted task's id; null when it was refused."
    )
