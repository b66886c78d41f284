"""Notifications (svc_notify): the inbox of fired reminders, reading and snoozing them, and the
reminders as they fire (svc_live)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from gateway import ids
from gateway.api.live_stream import relayed
from gateway.api.node import Node
from gateway.api.payloads import MutationInput, Payload, answered
from gateway.api.scalars import optional_timestamp
from gateway.api.tasks.types import Task
from gateway.context import GatewayContext, Info
from gateway.paging import DEFAULT_PAGE_SIZE, Page, PageInfo, selects
from todo_contracts.events.v1.reminder_events_pb2 import ReminderFired
from todo_contracts.live.v1 import live_service_pb2
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_runtime.timestamps import from_timestamp


@strawberry.type(description="A reminder that fired: the in-app inbox.")
class Notification(Node):
    id: strawberry.ID = strawberry.field(description="Global id.")
    task_id: strawberry.ID = strawberry.field(description="The task's global id (as Task.id).")
    title: str = strawberry.field(description="The task's title when the reminder fired.")
    due_at: datetime | None = strawberry.field(description="The task's due time then, if any.")
    scheduled_at: datetime = strawberry.field(description="When the reminder was due to fire.")
    fired_at: datetime = strawberry.field(description="When it fired (never before scheduledAt).")
    read_at: datetime | None = strawberry.field(description="Null while unread.")
    snoozed_until: datetime | None = strawberry.field(
        description="While a snooze of it is pending: when the reminder fires again."
    )
    reminder_id: str = strawberry.field(
        description="Which reminder of the task: 'before-<minutes>', 'at-<unix seconds>', or "
        "'snooze' for a snoozed reminder firing again."
    )

    @classmethod
    def from_pb(cls, message: pb.Notification) -> Notification:
        return cls(
            id=ids.encode(ids.NOTIFICATION, message.id),
            task_id=ids.encode(ids.TASK, message.task_id),
            title=message.title,
            due_at=optional_timestamp(message, "due_time"),
            scheduled_at=from_timestamp(message.scheduled_time),
            fired_at=from_timestamp(message.fire_time),
            read_at=optional_timestamp(message, "read_time"),
            snoozed_until=optional_timestamp(message, "snooze_until_time"),
            reminder_id=message.reminder_id,
        )


@strawberry.type(description="One notification in a NotificationConnection page.")
class NotificationEdge:
    cursor: str = strawberry.field(description="This notification's position in the list.")
    node: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="A page of notifications, newest first (Relay cursor connection).")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="This page, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(
        description="Notifications matching, across all pages (counted only when selected)."
    )

    @classmethod
    def from_pb(cls, response: pb.ListNotificationsResponse) -> NotificationConnection:
        edges = [
            NotificationEdge(cursor=cursor, node=Notification.from_pb(notification))
            for cursor, notification in zip(response.cursors, response.notifications, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.forward(response.cursors, response.next_page_token),
            total_count=response.total_size,
        )


@strawberry.type(description="A reminder of one of your tasks fired.")
class ReminderNotice:
    notification_id: strawberry.ID = strawberry.field(
        description="The notification it created (as Notification.id): mark it read with it."
    )
    task: Task = strawberry.field(description="The task when the reminder fired.")
    due_at: datetime | None = strawberry.field(description="The task's due time then, if any.")
    fired_at: datetime = strawberry.field(description="When the reminder fired.")

    @classmethod
    def from_pb(cls, message: ReminderFired) -> ReminderNotice:
        return cls(
            notification_id=ids.encode(ids.NOTIFICATION, message.notification_id),
            task=Task.from_pb(message.task),
            due_at=optional_timestamp(message, "due_time"),
            fired_at=from_timestamp(message.fire_time),
        )


async def fetch_notification(context: GatewayContext, global_id: str) -> Notification:
    request = pb.GetNotificationRequest(id=ids.service_id(global_id, ids.NOTIFICATION))
    response = await context.call(context.notify.GetNotification, request, about=global_id)
    return Notification.from_pb(response.notification)


async def list_notifications(
    info: Info,
    unread_only: Annotated[
        bool | None, strawberry.argument(description="Only those not yet read.")
    ] = False,
    first: Annotated[
        int | None, strawberry.argument(description="Page size, 1..200.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
) -> NotificationConnection:
    context = info.context
    page = Page.forward(first, after, context.max_page_size)
    request = pb.ListNotificationsRequest(
        unread_only=bool(unread_only),
        page_size=page.size,
        page_token=page.token,
        skip_total_size=not selects(info, "totalCount"),
    )
    response = await context.call(context.notify.ListNotifications, request)
    return NotificationConnection.from_pb(response)


@strawberry.input(description="The notification to mark read.")
class MarkNotificationReadInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The notification.")


@strawberry.input(description="The notification to be reminded of again, and when.")
class SnoozeReminderInput(MutationInput):
    notification_id: strawberry.ID = strawberry.field(
        description="The notification to be reminded of again."
    )
    minutes: int = strawberry.field(description="1..10080 (one week).")


@strawberry.type(description="A mutation's answer about one notification.")
class NotificationPayload(Payload):
    notification: Notification | None = strawberry.field(
        default=None, description="The notification as the mutation left it; null when refused."
    )


@strawberry.type(description="What `markNotificationRead` answers.")
class MarkNotificationReadPayload(NotificationPayload):
    pass


@strawberry.type(description="What `snoozeReminder` answers.")
class SnoozeReminderPayload(NotificationPayload):
    pass


async def mark_read(
    info: Info,
    input: Annotated[
        MarkNotificationReadInput, strawberry.argument(description="The notification.")
    ],
) -> MarkNotificationReadPayload | None:
    context = info.context

    async def perform() -> MarkNotificationReadPayload:
        request = pb.MarkNotificationReadRequest(id=ids.service_id(input.id, ids.NOTIFICATION))
        response = await context.call(context.notify.MarkNotificationRead, request, about=input.id)
        return MarkNotificationReadPayload(notification=Notification.from_pb(response.notification))

    return await answered(input, MarkNotificationReadPayload, perform, id_field="id")


async def snooze(
    info: Info,
    input: Annotated[
        SnoozeReminderInput, strawberry.argument(description="The notification and when.")
    ],
) -> SnoozeReminderPayload | None:
    context = info.context

    async def perform() -> SnoozeReminderPayload:
        notification = ids.service_id(input.notification_id, ids.NOTIFICATION)
        request = pb.SnoozeReminderRequest(notification_id=notification, minutes=input.minutes)
        response = await context.call(
            context.notify.SnoozeReminder, request, about=input.notification_id
        )
        return SnoozeReminderPayload(notification=Notification.from_pb(response.notification))

    return await answered(input, SnoozeReminderPayload, perform, id_field="notificationId")


async def reminders(info: Info) -> AsyncGenerator[ReminderNotice, None]:
    context = info.context
    request = live_service_pb2.SubscribeRequest(reminders=True)
    stream = context.stream(context.live.Subscribe, request)
    fired = relayed(
        stream, "reminders", buffer=context.subscription_buffer, expires_at=context.expires_at
    )
    async for response in fired:
        if response.HasField("reminder_fired"):
            yield ReminderNotice.from_pb(response.reminder_fired)


@strawberry.type
class NotificationQueries:
    notifications: NotificationConnection = strawberry.field(
        resolver=list_notifications,
        description="Your fired reminders, newest first.",
    )


@strawberry.type
class NotificationMutations:
    mark_notification_read: MarkNotificationReadPayload | None = strawberry.mutation(
        resolver=mark_read, description="Marks a notification read (no change if it already is)."
    )
    snooze_reminder: SnoozeReminderPayload | None = strawberry.mutation(
        resolver=snooze,
        description="Reminds you of a notification's task again, once, `minutes` from now; "
        "snoozing again before then moves that time. A TASK_DONE user error if the task is "
        "completed or deleted.",
    )


@strawberry.type
class NotificationSubscriptions:
    reminders: AsyncGenerator[ReminderNotice, None] = strawberry.subscription(
        resolver=reminders,
        description="Your reminders as they fire (live only: on reconnect, read "
        "notifications(unreadOnly: true) for those fired meanwhile).",
    )
