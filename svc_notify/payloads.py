"""The JSON a webhook endpoint receives for a fired reminder (Standard Webhooks' envelope).

`{"type", "timestamp", "data"}`; ids in `data` use the API's public scheme
(`todo_runtime.global_ids`), so they match what the GraphQL API shows.
"""

from __future__ import annotations

from typing import Any

from todo_contracts.events.v1 import reminder_events_pb2
from todo_runtime.global_ids import global_id

EVENT_TYPE = "reminder.fired"


def _instant(event: reminder_events_pb2.ReminderFired, field: str) -> str | None:
    if not event.HasField(field):
        return None
    return str(getattr(event, field).ToJsonString())


def reminder_payload(event: reminder_events_pb2.ReminderFired) -> dict[str, Any]:
    return {
        "type": EVENT_TYPE,
        "timestamp": _instant(event, "fire_time"),
        "data": {
            "eventId": event.event_id,
            "notificationId": global_id("Notification", event.notification_id),
            "taskId": global_id("Task", event.task_id),
            "title": event.task.title,
            "reminderId": event.reminder_id,
            "dueAt": _instant(event, "due_time"),
            "scheduledAt": _instant(event, "scheduled_time"),
            "firedAt": _instant(event, "fire_time"),
        },
    }
