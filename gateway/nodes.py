"""Fetching objects by global id, and what a field's selection asks for."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from gateway import ids
from gateway.context import GatewayContext
from gateway.errors import NOT_FOUND, GatewayError, rpc
from gateway.types.task import Task
from todo_contracts.tasks.v1 import tasks_service_pb2


def not_found(global_id: str) -> GatewayError:
    """The one answer for a missing, malformed or foreign id: it must not tell them apart."""
    shown = global_id if len(global_id) <= 60 else global_id[:60] + "..."
    return GatewayError(NOT_FOUND, f"no object with id {shown!r}")


def task_id_of(global_id: str) -> str:
    """The service's task id inside a Task id; NOT_FOUND for anything else."""
    task_id = ids.task_id(global_id)
    if task_id is None:
        raise not_found(global_id)
    return task_id


@contextlib.contextmanager
def about(global_id: str) -> Iterator[None]:
    """Reports a service's NOT_FOUND in the client's terms: the id the client sent."""
    try:
        yield
    except GatewayError as error:
        if (error.extensions or {}).get("code") == NOT_FOUND:
            raise not_found(global_id) from None
        raise


async def fetch_task(context: GatewayContext, global_id: str) -> Task:
    request = tasks_service_pb2.GetTaskRequest(id=task_id_of(global_id))
    call = context.tasks.GetTask(request, metadata=context.metadata(), timeout=context.timeout)
    with about(global_id):
        return Task.from_pb((await rpc(call)).task)


def selects(info: strawberry.Info[GatewayContext, None], name: str) -> bool:
    """Whether the current field's selection (through fragments too) includes `name`."""
    pending: list[SelectedField | FragmentSpread | InlineFragment] = list(info.selected_fields)
    while pending:
        node = pending.pop()
        if (
            isinstance(node, SelectedField)
            and node.name == name
            and node not in info.selected_fields
        ):
            return True
        pending.extend(node.selections)
    return False
