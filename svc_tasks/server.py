"""Wires svc_tasks: migrations → pool → producer and outbox relay → gRPC server."""

from __future__ import annotations

from svc_tasks.config import SCHEMA, TasksConfig
from svc_tasks.servicer import TaskServicer
from svc_tasks.store import TaskStore
from todo_contracts.tasks.v1 import tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime.db import create_pool
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet, migrate
from todo_runtime.outbox import OutboxRelay
from todo_runtime.producer import EventProducer
from todo_runtime.service import RunningService

MIGRATIONS = [MigrationSet("runtime", "todo_runtime"), MigrationSet("svc_tasks", "svc_tasks")]
SERVICE_NAME = tasks_service_pb2.DESCRIPTOR.services_by_name["TaskService"].full_name
# Search widens a word to known words at least this trigram-similar (small typos).
_SEARCH_SETTINGS = {"pg_trgm.similarity_threshold": "0.4"}


async def start(config: TasksConfig) -> RunningService:
    """Starts every part; on failure, stops the ones already started and re-raises."""
    service = RunningService("svc_tasks")
    try:
        await migrate(config.database.url, SCHEMA, MIGRATIONS)
        pool = await create_pool(config.database, SCHEMA, settings=_SEARCH_SETTINGS)
        service.stack.push_async_callback(pool.close)
        producer = EventProducer(config.kafka, client_id="svc_tasks")
        service.stack.push_async_callback(producer.close)
        relay = OutboxRelay(pool, SCHEMA, producer, config.kafka)
        service.background(relay.run(), "outbox-relay")
        binding = ServiceBinding(
            SERVICE_NAME,
            TaskServicer(TaskStore(pool)),
            tasks_service_pb2_grpc.add_TaskServiceServicer_to_server,
        )
        await service.serve_grpc(config.grpc, config.internal_secret, [binding])
    except BaseException:
        await service.stop()
        raise
    return service
