"""Wires svc_recur: migrations → pool → svc_tasks channel → task-events consumer → gRPC server."""

from __future__ import annotations

from svc_recur.completions import CompletionHandler
from svc_recur.config import SCHEMA, RecurConfig
from svc_recur.servicer import RecurrenceServicer
from todo_contracts.recur.v1 import recurrence_service_pb2, recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2_grpc
from todo_runtime import topics
from todo_runtime.consumer import EventConsumer
from todo_runtime.db import create_pool
from todo_runtime.grpc_client import CallContext, open_channel
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet, migrate
from todo_runtime.producer import EventProducer
from todo_runtime.service import RunningService

MIGRATIONS = [MigrationSet("runtime", "todo_runtime"), MigrationSet("svc_recur", "svc_recur")]
SERVICE_NAME = recurrence_service_pb2.DESCRIPTOR.services_by_name["RecurrenceService"].full_name
CONSUMER_GROUP = "svc_recur"


async def start(config: RecurConfig) -> RunningService:
    """Starts every part; on failure, stops the ones already started and re-raises."""
    service = RunningService("svc_recur")
    try:
        await migrate(config.database.url, SCHEMA, MIGRATIONS)
        pool = await create_pool(config.database, SCHEMA)
        service.stack.push_async_callback(pool.close)
        channel = open_channel(config.tasks_address)
        service.stack.push_async_callback(channel.close, None)
        dead_letters = EventProducer(config.kafka, client_id="svc_recur")
        service.stack.push_async_callback(dead_letters.close)
        handler = CompletionHandler(
            pool,
            tasks_service_pb2_grpc.TaskServiceStub(channel),
            CallContext(config.internal_secret, config.grpc_timeout),
            config.catch_up,
        )
        consumer = EventConsumer(
            config.kafka,
            CONSUMER_GROUP,
            [topics.TASK_EVENTS],
            handler,
            producer_for_dlq=dead_letters,
        )
        service.background(consumer.run(), "task-events-consumer")
        binding = ServiceBinding(
            SERVICE_NAME,
            RecurrenceServicer(),
            recurrence_service_pb2_grpc.add_RecurrenceServiceServicer_to_server,
        )
        await service.serve_grpc(config.grpc, config.internal_secret, [binding])
    except BaseException:
        await service.stop()
        raise
    return service
