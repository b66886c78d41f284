"""A gRPC caller for svc_tasks tests: `await call("alice", "CreateTask", request)`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from tests.infra import RunningTasks
from todo_contracts.tasks.v1 import tasks_service_pb2_grpc
from todo_runtime.identity import identity_metadata

Call = Callable[[str, str, Any], Awaitable[Any]]


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
