"""Reads a user's change log from svc_tasks (`ListChanges`), the source of truth streams resync from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from todo_contracts.events.v1.task_events_pb2 import TaskUpdate
from todo_contracts.tasks.v1 import tasks_service_pb2
from todo_runtime.grpc_client import CallContext

if TYPE_CHECKING:
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

PAGE_SIZE: Final = 100  # tasks up to ~12 KB each: a page stays far below gRPC's 4 MB message limit
# `after_sequence` beyond any real sequence: ListChanges then returns only `latest_sequence`.
_BEYOND: Final = 2**62


class ChangeLog:
    """svc_tasks' `ListChanges`, called on behalf of each stream's user."""

    def __init__(self, tasks: TaskServiceAsyncStub, calls: CallContext) -> None:
        self._tasks = tasks
        self._calls = calls

    async def _page(
        self, user_id: str, after: int, page_token: str = ""
    ) -> tasks_service_pb2.ListChangesResponse:
        request = tasks_service_pb2.ListChangesRequest(
            after_sequence=after, page_size=PAGE_SIZE, page_token=page_token
        )
        response: tasks_service_pb2.ListChangesResponse = await self._tasks.ListChanges(
            request, metadata=self._calls.metadata(user_id), timeout=self._calls.timeout
        )
        return response

    async def latest(self, user_id: str) -> int:
        """The user's latest sequence now (0 before their first change)."""
        return (await self._page(user_id, _BEYOND)).latest_sequence

    async def after(self, user_id: str, sequence: int) -> AsyncIterator[TaskUpdate]:
        """Every change after `sequence`, in order, as the `task-updates` feed carries it."""
        token = ""
        while True:
            page = await self._page(user_id, sequence, token)
            for change in page.changes:
                yield TaskUpdate(
                    sequence=change.sequence,
                    kind=change.kind,
                    user_id=user_id,
                    task=change.task,
                    change_time=change.change_time,
                )
            token = page.next_page_token
            if not token:
                return
