"""svc_tasks test helpers: `await call("alice", "CreateTask", create_request("title"))`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import grpc
import pytest

from tests.support.infra import RunningTasks
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime.identity import identity_metadata

Call = Callable[[str, str, Any], Awaitable[Any]]


def create_request(title: str, **fields: Any) -> tasks_service_pb2.CreateTaskRequest:
    """A CreateTask request; priority NONE unless given (the service requires one)."""
    fields.setdefault("priority", task_pb2.PRIORITY_NONE)
    return tasks_service_pb2.CreateTaskRequest(task=task_pb2.Task(title=title, **fields))


@pytest.fixture
async def call(tasks_service: RunningTasks) -> AsyncIterator[Call]:
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        stub = tasks_service_pb2_grpc.TaskServiceStub(channel)

        async def invoke(user: str, method: str, request: Any) -> Any:
            rpc = getattr(stub, method)
            return await rpc(
                request, metadata=identity_metadata(tasks_service.secret, user), timeout=10
            )

        yield invoke


@pytest.fixture
async def changes(tasks_service: RunningTasks) -> ChangeLog:
    return ChangeLog(tasks_service.config.database.url)


class ChangeLog:
    """The event ids of a task's changes, oldest first (as the audit log records them)."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def __call__(self, task_id: str) -> list[str]:
        conn = await asyncpg.connect(self._url)
        try:
            rows = await conn.fetch(
                "SELECT event_id FROM tasks.changes WHERE task_id = $1 ORDER BY sequence",
                uuid.UUID(task_id),
            )
        finally:
            await conn.close()
        return [str(row["event_id"]) for row in rows]

    async def last(self, task_id: str) -> str:
        return (await self(task_id))[-1]
