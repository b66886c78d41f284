"""`revertChange`: undo a change from the history. The client names the change by its audit
entry; svc_audit finds the entry (only the caller's: another user's is NOT_FOUND) and so its
event id, and svc_tasks undoes the change that event recorded (`RevertChange`), under the task's
row lock, as a new change of the caller's, audited like any other."""

from __future__ import annotations

from typing import Annotated, Final

import strawberry

from gateway import ids
from gateway.api.payloads import MutationInput, Payload, answered
from gateway.api.tasks.types import Task
from gateway.context import Info
from gateway.errors import not_revertible
from todo_contracts.audit.v1 import audit_service_pb2
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2

TASK_EVENT_PREFIX: Final = "todo.task."  # the CloudEvents types of svc_tasks' changes
SYSTEM_ACTOR_PREFIX: Final = "system:"


@strawberry.input(description="The change to undo.")
class RevertChangeInput(MutationInput):
    audit_entry_id: strawberry.ID = strawberry.field(
        description="The AuditEntry.id that records the change (from `auditLog` or a task's "
        "history)."
    )


@strawberry.type(description="What `revertChange` answers.")
class RevertChangePayload(Payload):
    task: Task | None = strawberry.field(
        default=None,
        description="The task as the undo left it: the changed fields hold their values from "
        "before the change again (a deleted task is back, same id and series). Null when "
        "refused, or when undoing a creation deleted the task (`deletedTaskId`).",
    )
    reverted: bool = strawberry.field(
        default=False,
        description="Whether this call changed something. False with no userErrors when the "
        "change was undone already (a retry): nothing is undone twice.",
    )
    deleted_task_id: strawberry.ID | None = strawberry.field(
        default=None, description="Undoing a creation: the task it deleted."
    )
    removed_next_instance_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Undoing a completion of a recurring task: the next instance that "
        "completion made, deleted with it because nothing had changed it yet.",
    )
    kept_next_instance: Task | None = strawberry.field(
        default=None,
        description="Undoing a completion of a recurring task: the next instance that "
        "completion made, kept because it was changed since. Delete it yourself if you want.",
    )


async def revert_change(
    info: Info,
    input: Annotated[RevertChangeInput, strawberry.argument(description="The change to undo.")],
) -> RevertChangePayload | None:
    context = info.context

    async def perform() -> RevertChangePayload:
        request = audit_service_pb2.GetAuditEntryRequest(
            id=ids.service_id(input.audit_entry_id, ids.AUDIT_ENTRY)
        )
        found = await context.call(context.audit.GetAuditEntry, request, about=input.audit_entry_id)
        entry = found.entry
        if not entry.type.startswith(TASK_EVENT_PREFIX) or entry.actor.startswith(
            SYSTEM_ACTOR_PREFIX
        ):
            raise not_revertible(
                "input.auditEntryId", f"a {entry.type} entry records no change to undo"
            )
        response = await context.call(
            context.tasks.RevertChange,
            tasks_service_pb2.RevertChangeRequest(event_id=entry.event_id),
            about=input.audit_entry_id,
        )
        payload = RevertChangePayload(reverted=response.kind != task_pb2.CHANGE_KIND_UNSPECIFIED)
        if response.HasField("task"):
            payload.task = Task.from_pb(response.task)
        if response.kind == task_pb2.CHANGE_KIND_DELETED:
            payload.deleted_task_id = ids.encode(ids.TASK, entry.task_id)
        if response.removed_next_instance_id:
            payload.removed_next_instance_id = ids.encode(
                ids.TASK, response.removed_next_instance_id
            )
        if response.HasField("kept_next_instance"):
            payload.kept_next_instance = Task.from_pb(response.kept_next_instance)
        return payload

    return await answered(input, RevertChangePayload, perform, id_field="auditEntryId")


@strawberry.type
class UndoMutations:
    revert_change: RevertChangePayload | None = strawberry.mutation(
        resolver=revert_change,
        description="Undoes a change from the history, as a new change of yours (audited, and "
        "itself undoable): the fields it changed get their values from before it. Undoing a "
        "delete restores the task; a creation, deletes it; a completion, reopens the task and "
        "removes the next instance it made unless that was changed since. Refused with "
        "CHANGED_SINCE when one of those fields changed since, NOT_REVERTIBLE for a reminder "
        "or system entry. See docs/undo.md.",
    )
