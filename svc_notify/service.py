"""svc_notify as the runtime starts it: reminder schedule, scheduler, notifications, webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from svc_notify.delivery import DeliveryWorker
from svc_notify.firing import Scheduler
from svc_notify.notifications import NotificationStore
from svc_notify.servicer import NotificationServicer
from svc_notify.task_changes import apply_task_event
from svc_notify.webhook_settings import WebhookSettings
from svc_notify.webhooks import WebhookStore
from todo_contracts.notify.v1 import notification_service_pb2, notification_service_pb2_grpc
from todo_runtime import endpoints, topics
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet
from todo_runtime.page_tokens import PageTokens
from todo_runtime.service import Component, ServiceDefinition, ServiceParts

SERVICE_NAME = notification_service_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name
SCHEMA = "notify"


async def setup(parts: ServiceParts) -> Sequence[ServiceBinding]:
    env = parts.config.env
    grace = timedelta(seconds=env.number("TODO_NOTIFY_GRACE_SECONDS", 600.0))
    parts.consume([topics.TASK_EVENTS], apply_task_event)
    webhooks = WebhookSettings.from_env(env)
    parts.background("scheduler", Scheduler(parts.pool, SCHEMA, grace).run)
    parts.background("webhook delivery", DeliveryWorker(parts.pool, SCHEMA, webhooks).run)
    tokens = PageTokens(parts.config.internal_secret, "todo.notify.v1.ListNotifications")
    servicer = NotificationServicer(
        NotificationStore(parts.pool, tokens),
        WebhookStore(parts.pool, parts.config.internal_secret, webhooks),
    )
    return [
        ServiceBinding(
            SERVICE_NAME,
            servicer,
            notification_service_pb2_grpc.add_NotificationServiceServicer_to_server,
        )
    ]


SERVICE = ServiceDefinition(
    component=Component("notify", "svc_notify", endpoints.NOTIFY),
    schema=SCHEMA,
    migrations=MigrationSet("svc_notify", "svc_notify"),
    produces=(topics.REMINDERS,),
    consumes=(topics.TASK_EVENTS,),
    setup=setup,
)
