"""NotificationService: a thin adapter from requests to the stores, for the calling user."""

from __future__ import annotations

from typing import Any

import grpc

from svc_notify.notifications import NotificationStore
from svc_notify.webhooks import WebhookStore
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_contracts.notify.v1 import notification_service_pb2_grpc
from todo_runtime.identity import current_user
from todo_runtime.object_ids import object_id
from todo_runtime.validation import page_size

Context = grpc.aio.ServicerContext[Any, Any]
DEFAULT_PAGE, MAX_PAGE = 50, 200


class NotificationServicer(notification_service_pb2_grpc.NotificationServiceServicer):
    def __init__(self, notifications: NotificationStore, webhooks: WebhookStore) -> None:
        self._notifications = notifications
        self._webhooks = webhooks

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: Context
    ) -> pb.ListNotificationsResponse:
        page = await self._notifications.page(
            current_user(),
            unread_only=request.unread_only,
            size=page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE),
            token=request.page_token,
            count=not request.skip_total_size,
        )
        return pb.ListNotificationsResponse(
            notifications=page.items,
            next_page_token=page.cursors[-1] if page.has_next else "",
            total_size=page.total,
            cursors=page.cursors,
        )

    async def GetNotification(
        self, request: pb.GetNotificationRequest, context: Context
    ) -> pb.GetNotificationResponse:
        notification = await self._notifications.get(
            current_user(), object_id(request.id, "notification")
        )
        return pb.GetNotificationResponse(notification=notification)

    async def MarkNotificationRead(
        self, request: pb.MarkNotificationReadRequest, context: Context
    ) -> pb.MarkNotificationReadResponse:
        notification = await self._notifications.mark_read(
            current_user(), object_id(request.id, "notification")
        )
        return pb.MarkNotificationReadResponse(notification=notification)

    async def SnoozeReminder(
        self, request: pb.SnoozeReminderRequest, context: Context
    ) -> pb.SnoozeReminderResponse:
        notification = await self._notifications.snooze(
            current_user(),
            object_id(request.notification_id, "notification", "notification_id"),
            request.minutes,
        )
        return pb.SnoozeReminderResponse(notification=notification)

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: Context
    ) -> pb.CreateWebhookResponse:
        webhook, secret = await self._webhooks.create(current_user(), request.webhook.url)
        return pb.CreateWebhookResponse(webhook=webhook, secret=secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        webhooks, next_token = await self._webhooks.page(
            current_user(),
            page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE),
            request.page_token,
        )
        return pb.ListWebhooksResponse(webhooks=webhooks, next_page_token=next_token)

    async def GetWebhook(
        self, request: pb.GetWebhookRequest, context: Context
    ) -> pb.GetWebhookResponse:
        webhook = await self._webhooks.get(current_user(), object_id(request.id, "webhook"))
        return pb.GetWebhookResponse(webhook=webhook)

    async def SetWebhookEnabled(
        self, request: pb.SetWebhookEnabledRequest, context: Context
    ) -> pb.SetWebhookEnabledResponse:
        webhook = await self._webhooks.set_enabled(
            current_user(), object_id(request.id, "webhook"), request.enabled
        )
        return pb.SetWebhookEnabledResponse(webhook=webhook)

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> pb.DeleteWebhookResponse:
        await self._webhooks.delete(current_user(), object_id(request.id, "webhook"))
        return pb.DeleteWebhookResponse(id=request.id)

    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: Context
    ) -> pb.ListWebhookDeliveriesResponse:
        page = await self._webhooks.attempts(
            current_user(),
            object_id(request.webhook_id, "webhook", "webhook_id"),
            size=page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE),
            token=request.page_token,
            count=not request.skip_total_size,
        )
        return pb.ListWebhookDeliveriesResponse(
            deliveries=page.items,
            next_page_token=page.cursors[-1] if page.has_next else "",
            total_size=page.total,
            cursors=page.cursors,
        )

    async def RedeliverWebhook(
        self, request: pb.RedeliverWebhookRequest, context: Context
    ) -> pb.RedeliverWebhookResponse:
        await self._webhooks.redeliver(
            current_user(), object_id(request.delivery_id, "delivery", "delivery_id")
        )
        return pb.RedeliverWebhookResponse(delivery_id=request.delivery_id)
