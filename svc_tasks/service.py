"""svc_tasks as the runtime starts it: tasks, per-user change log, outbox to two topics."""

from __future__ import annotations

from collections.abc import Sequence

from svc_tasks.servicer import TaskServicer
from svc_tasks.store import TaskStore
from todo_contracts.tasks.v1 import tasks_service_pb2, tasks_service_pb2_grpc
from todo_runtime import endpoints, topics
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet
from todo_runtime.service import Component, ServiceDefinition, ServiceParts

SERVICE_NAME = tasks_service_pb2.DESCRIPTOR.services_by_name["TaskService"].full_name


async def setup(parts: ServiceParts) -> Sequence[ServiceBinding]:
    servicer = TaskServicer(TaskStore(parts.pool), parts.config.internal_secret, parts.offload)
    return [
        ServiceBinding(
            SERVICE_NAME, servicer, tasks_service_pb2_grpc.add_TaskServiceServicer_to_server
        )
    ]


SERVICE = ServiceDefinition(
    component=Component("tasks", "svc_tasks", endpoints.TASKS),
    schema="tasks",
    migrations=MigrationSet("svc_tasks", "svc_tasks"),
    produces=(topics.TASK_EVENTS, topics.TASK_UPDATES),
    consumes=(),
    setup=setup,
    # Search widens a word to known words at least this trigram-similar (small typos).
    database_settings={"pg_trgm.similarity_threshold": "0.4"},
)
