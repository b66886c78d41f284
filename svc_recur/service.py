"""svc_recur as the runtime starts it: RecurrenceService and the task-events consumer."""

from __future__ import annotations

from collections.abc import Sequence

from svc_recur.completions import CompletionHandler
from svc_recur.servicer import RecurrenceServicer
from todo_contracts.recur.v1 import recurrence_service_pb2, recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2_grpc
from todo_recurrence import CatchUp
from todo_runtime import endpoints, topics
from todo_runtime.config import ConfigError, Env
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet
from todo_runtime.service import Component, ServiceDefinition, ServiceParts

SERVICE_NAME = recurrence_service_pb2.DESCRIPTOR.services_by_name["RecurrenceService"].full_name


def catch_up_policy(env: Env) -> CatchUp:
    """`TODO_RECUR_CATCH_UP`: what a recurring task completed late gets as its next due."""
    policy = env.text("TODO_RECUR_CATCH_UP", CatchUp.NEXT_AFTER_NOW.value)
    try:
        return CatchUp(policy)
    except ValueError:
        raise ConfigError(
            f"environment variable TODO_RECUR_CATCH_UP must be one of {[c.value for c in CatchUp]}"
        ) from None


async def setup(parts: ServiceParts) -> Sequence[ServiceBinding]:
    tasks = tasks_service_pb2_grpc.TaskServiceStub(parts.channel(endpoints.TASKS))
    handler = CompletionHandler(
        tasks, parts.calls, catch_up_policy(parts.config.env), parts.offload
    )
    parts.consume([topics.TASK_EVENTS], handler)
    return [
        ServiceBinding(
            SERVICE_NAME,
            RecurrenceServicer(parts.offload),
            recurrence_service_pb2_grpc.add_RecurrenceServiceServicer_to_server,
            public=RecurrenceServicer.PUBLIC,
        )
    ]


SERVICE = ServiceDefinition(
    component=Component("recur", "svc_recur", endpoints.RECUR),
    schema="recur",
    migrations=MigrationSet("svc_recur", "svc_recur"),
    produces=(),
    consumes=(topics.TASK_EVENTS,),
    setup=setup,
)
