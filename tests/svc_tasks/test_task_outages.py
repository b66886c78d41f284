"""svc_tasks through failures: its database going away and back, and its own restart mid-stream."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from svc_tasks.service import SERVICE as TASKS
from tests.support.infra import TEST_SECRET, PostgresProxy, service_config
from tests.support.records import read_topic
from tests.svc_tasks.conftest import create_request
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_runtime import endpoints
from todo_runtime.identity import identity_metadata
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import ServiceConfig


def config_for(database_url: str, broker: EmbeddedBroker) -> ServiceConfig:
    return service_config(endpoints.TASKS, database_url, broker.bootstrap_servers)


async def start(config: ServiceConfig) -> RunningService:
    return await start_service(TASKS, config)


async def create(port: int, title: str) -> task_pb2.Task:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = tasks_service_pb2_grpc.TaskServiceStub(channel)
        request = create_request(title)
        response = await stub.CreateTask(
            request, metadata=identity_metadata(TEST_SECRET, "alice"), timeout=5
        )
        return response.task


async def test_database_outage_is_unavailable_then_recovers(
    proxy: PostgresProxy, broker: EmbeddedBroker
) -> None:
    service = await start(config_for(proxy.url, broker))
    try:
        before = await create(service.port, "before the outage")
        await proxy.cut()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await create(service.port, "during the outage")
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        await proxy.start()
        after: Any = None
        for _ in range(50):  # the pool replaces its dead connections on use
            try:
                after = await create(service.port, "after the outage")
                break
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                await asyncio.sleep(0.1)
        assert after is not None
        records = await asyncio.to_thread(
            read_topic, broker.bootstrap_servers, "task-events", at_least=2
        )
        # Delivery is at least once: a publish the cut interrupted after the
        # broker's ack is sent again, and consumers skip it by event id.
        titles = list(
            {
                r.headers["ce_id"]: r.parse(task_events_pb2.TaskEvent).task.title for r in records
            }.values()
        )
        assert titles == [before.title, after.title]
    finally:
        await service.stop()


async def test_restart_with_unpublished_events_loses_nothing(
    database_url: str, broker: EmbeddedBroker
) -> None:
    config = config_for(database_url, broker)
    broker.stop()
    first = await start(config)
    titles = [(await create(first.port, f"pending {i}")).title for i in range(3)]
    await first.stop()  # stops with every event still in the outbox
    broker.start()
    second = await start(config)
    try:
        titles.append((await create(second.port, "after restart")).title)
        records = await asyncio.to_thread(
            read_topic, broker.bootstrap_servers, "task-events", at_least=4, timeout=30
        )
        assert [r.parse(task_events_pb2.TaskEvent).task.title for r in records] == titles
        sequences = [r.parse(task_events_pb2.TaskEvent).sequence for r in records]
        assert sequences == [1, 2, 3, 4]
    finally:
        await second.stop()
