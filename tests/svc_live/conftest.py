"""svc_live test helpers: replicas started in-process next to the real svc_tasks and broker, a
stream reader, and task changes made through svc_tasks' gRPC API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from svc_live.service import SERVICE as LIVE
from tests.support.infra import RunningTasks, eventually, service_config
from todo_contracts.live.v1 import live_service_pb2 as pb
from todo_contracts.live.v1 import live_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime import endpoints
from todo_runtime.identity import identity_metadata
from todo_runtime.runner import RunningService, start_service

WITHIN = 30.0


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


class Reader:
    """Reads one Subscribe stream in the background; `updates` are its task updates in order."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.updates: list[pb.SubscribeResponse] = []
        self.reminders: list[pb.SubscribeResponse] = []
        self.heartbeats = 0
        self.error: grpc.aio.AioRpcError | None = None
        self._task = asyncio.create_task(self._read())

    @property
    def sequences(self) -> list[int]:
        return [response.task_update.sequence for response in self.updates]

    async def _read(self) -> None:
        try:
            async for response in self.call:
                kind = response.WhichOneof("event")
                if kind == "task_update":
                    self.updates.append(response)
                elif kind == "reminder_fired":
                    self.reminders.append(response)
                else:
                    self.heartbeats += 1
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.error = error

    def holds(self, count: int) -> Callable[[], bool]:
        """A check that `count` task updates have arrived."""
        return lambda: len(self.updates) >= count

    async def until(self, count: int) -> list[int]:
        """Waits for `count` task updates (failing after WITHIN seconds) and returns the sequences."""
        await eventually(lambda: len(self.updates) >= count or self._task.done(), WITHIN)
        assert len(self.updates) >= count, (self.sequences, self.error)
        return self.sequences

    async def live(self) -> None:
        """Waits until the stream replayed the log and is live (its first heartbeat)."""
        await eventually(lambda: self.heartbeats > 0 or self._task.done(), WITHIN)
        assert self.heartbeats > 0, self.error

    async def ended(self) -> grpc.aio.AioRpcError | None:
        async with asyncio.timeout(WITHIN):
            await asyncio.shield(self._task)
        return self.error

    async def cancel(self) -> None:
        self.call.cancel()
        await asyncio.wait([self._task])


class Live:
    """Running svc_live replicas, streams opened on them, and svc_tasks to change tasks with."""

    def __init__(self, tasks: RunningTasks) -> None:
        self.tasks = tasks
        self.replicas: list[RunningService] = []
        self._channels: list[grpc.aio.Channel] = []
        self._readers: list[Reader] = []
        self._tasks_channel = grpc.aio.insecure_channel(tasks.address)
        self._tasks_stub = tasks_service_pb2_grpc.TaskServiceStub(self._tasks_channel)

    async def start(self, **settings: str) -> RunningService:
        config = service_config(
            endpoints.LIVE,
            self.tasks.config.database.url,
            self.tasks.config.kafka.bootstrap_servers,
            TODO_TASKS_ADDR=self.tasks.address,
            **settings,
        )
        replica = await start_service(LIVE, config)
        self.replicas.append(replica)
        return replica

    def subscribe(self, user: str, replica: RunningService | None = None, **request: Any) -> Reader:
        request.setdefault("task_updates", True)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{(replica or self.replicas[0]).port}")
        self._channels.append(channel)
        stub = live_service_pb2_grpc.LiveServiceStub(channel)
        call = stub.Subscribe(
            pb.SubscribeRequest(**request),
            metadata=identity_metadata(self.tasks.secret, user),
        )
        reader = Reader(call)
        self._readers.append(reader)
        return reader

    async def create(self, user: str, title: str = "a task") -> task_pb2.Task:
        request = tasks_service_pb2.CreateTaskRequest(
            task=task_pb2.Task(title=title, priority=task_pb2.PRIORITY_NONE)
        )
        response = await self._tasks_stub.CreateTask(
            request, metadata=identity_metadata(self.tasks.secret, user), timeout=10
        )
        return response.task

    async def complete(self, user: str, task_id: str) -> None:
        await self._tasks_stub.CompleteTask(
            tasks_service_pb2.CompleteTaskRequest(id=task_id),
            metadata=identity_metadata(self.tasks.secret, user),
            timeout=10,
        )

    async def close(self) -> None:
        for reader in self._readers:
            await reader.cancel()
        for channel in self._channels:
            await channel.close(None)
        for replica in self.replicas:
            await replica.stop()
        await self._tasks_channel.close(None)


@pytest.fixture
async def live(tasks_service: RunningTasks) -> AsyncIterator[Live]:
    """svc_live's test bench; start replicas with `await live.start()`."""
    bench = Live(tasks_service)
    try:
        yield bench
    finally:
        await bench.close()
