"""Notifications (fired reminders) and their connection, from `todo.notify.v1` messages."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway import ids
from gateway.types.node import Node, PageInfo
from gateway.types.scalars import from_timestamp, optional_timestamp
from todo_contracts.notify.v1 import notification_service_pb2 as pb


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
