"""Resolvers for notifications and webhooks (svc_notify), each for the calling user."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway import ids
from gateway.context import GatewayContext
from gateway.errors import bad_input, rpc
from gateway.nodes import about, not_found, selects
from gateway.types.notification import Notification, NotificationConnection
from gateway.types.webhook import Webhook, WebhookCreated, WebhookDeliveryConnection
from todo_contracts.notify.v1 import notification_service_pb2 as pb

Info = strawberry.Info[GatewayContext, None]
DEFAULT_PAGE_SIZE = 50
MAX_WEBHOOKS = 200


def _local(global_id: str, type_name: str) -> str:
    local = ids.uuid_of(global_id, type_name)
    if local is None:
        raise not_found(global_id)
    return local


def _first(info: Info, first: int | None) -> int:
    first = DEFAULT_PAGE_SIZE if first is None else first
    limit = info.context.max_page_size
    if not 1 <= first <= limit:
        raise bad_input("first", f"must be between 1 and {limit}, got {first}")
    return first


async def fetch_notification(context: GatewayContext, global_id: str) -> Notification:
    request = pb.GetNotificationRequest(id=_local(global_id, ids.NOTIFICATION))
    call = context.notify.GetNotification(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(global_id):
        return Notification.from_pb((await rpc(call)).notification)


async def fetch_webhook(context: GatewayContext, global_id: str) -> Webhook:
    request = pb.GetWebhookRequest(id=_local(global_id, ids.WEBHOOK))
    call = context.notify.GetWebhook(request, metadata=context.metadata(), timeout=context.timeout)
    with about(global_id):
        return Webhook.from_pb((await rpc(call)).webhook)


async def list_notifications(
    info: Info,
    unread_only: Annotated[
        bool | None, strawberry.argument(description="Only those not yet read.")
    ] = False,
    first: Annotated[int | None, strawberry.argument(description="Page size, 1..200.")] = 50,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
) -> NotificationConnection:
    context = info.context
    request = pb.ListNotificationsRequest(
        unread_only=bool(unread_only),
        page_size=_first(info, first),
        page_token=after or "",
        skip_total_size=not selects(info, "totalCount"),
    )
    call = context.notify.ListNotifications(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    return NotificationConnection.from_pb(await rpc(call))


async def list_webhooks(info: Info) -> list[Webhook]:
    context = info.context
    request = pb.ListWebhooksRequest(page_size=MAX_WEBHOOKS)
    call = context.notify.ListWebhooks(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    return [Webhook.from_pb(webhook) for webhook in (await rpc(call)).webhooks]


async def list_deliveries(
    info: Info,
    webhook_id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")],
    first: Annotated[int | None, strawberry.argument(description="Page size, 1..200.")] = 50,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
) -> WebhookDeliveryConnection:
    context = info.context
    request = pb.ListWebhookDeliveriesRequest(
        webhook_id=_local(webhook_id, ids.WEBHOOK),
        page_size=_first(info, first),
        page_token=after or "",
        skip_total_size=not selects(info, "totalCount"),
    )
    call = context.notify.ListWebhookDeliveries(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(webhook_id):
        return WebhookDeliveryConnection.from_pb(await rpc(call))


async def mark_read(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The notification.")]
) -> Notification:
    context = info.context
    request = pb.MarkNotificationReadRequest(id=_local(id, ids.NOTIFICATION))
    call = context.notify.MarkNotificationRead(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(id):
        return Notification.from_pb((await rpc(call)).notification)


async def snooze(
    info: Info,
    notification_id: Annotated[
        strawberry.ID, strawberry.argument(description="The notification to be reminded of again.")
    ],
    minutes: Annotated[int, strawberry.argument(description="1..10080 (one week).")],
) -> Notification:
    context = info.context
    request = pb.SnoozeReminderRequest(
        notification_id=_local(notification_id, ids.NOTIFICATION), minutes=minutes
    )
    call = context.notify.SnoozeReminder(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(notification_id):
        return Notification.from_pb((await rpc(call)).notification)


async def create_webhook(
    info: Info,
    url: Annotated[str, strawberry.argument(description="An http(s) URL that accepts POSTs.")],
) -> WebhookCreated:
    context = info.context
    request = pb.CreateWebhookRequest(webhook=pb.Webhook(url=url))
    call = context.notify.CreateWebhook(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    response = await rpc(call)
    return WebhookCreated(webhook=Webhook.from_pb(response.webhook), secret=response.secret)


async def set_webhook_enabled(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint.")],
    enabled: Annotated[bool, strawberry.argument(description="false stops deliveries.")],
) -> Webhook:
    context = info.context
    request = pb.SetWebhookEnabledRequest(id=_local(id, ids.WEBHOOK), enabled=enabled)
    call = context.notify.SetWebhookEnabled(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(id):
        return Webhook.from_pb((await rpc(call)).webhook)


async def delete_webhook(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint.")]
) -> strawberry.ID:
    context = info.context
    request = pb.DeleteWebhookRequest(id=_local(id, ids.WEBHOOK))
    call = context.notify.DeleteWebhook(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(id):
        await rpc(call)
    return id


async def redeliver_webhook(
    info: Info,
    delivery_id: Annotated[
        strawberry.ID,
        strawberry.argument(description="A delivery's id (WebhookDelivery.deliveryId)."),
    ],
) -> strawberry.ID:
    context = info.context
    request = pb.RedeliverWebhookRequest(delivery_id=_local(delivery_id, ids.DELIVERY))
    call = context.notify.RedeliverWebhook(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    with about(delivery_id):
        await rpc(call)
    return delivery_id
