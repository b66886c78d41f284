"""Global object ids: one opaque scheme for every id the API hands out.

A GraphQL id is the Relay convention, unpadded base64url of `<Type>:<local id>`
(`Task:0b5e…` for the task the services call `0b5e…`), so an id names one
object of one type across the whole API and a client may cache by it alone.
`decode` refuses anything else (another type's id, a service's raw id, junk)
by returning None, and `service_id` answers that exactly as a missing object is
answered: NOT_FOUND, revealing nothing.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Final

import strawberry

from gateway.errors import not_found
from todo_runtime.global_ids import global_id

TASK: Final = "Task"
SERIES: Final = "Series"
REMINDER: Final = "Reminder"
NOTIFICATION: Final = "Notification"
WEBHOOK: Final = "Webhook"
WEBHOOK_DELIVERY: Final = "WebhookDelivery"
DELIVERY: Final = "Delivery"
AUDIT_ENTRY: Final = "AuditEntry"
CALENDAR_FEED: Final = "CalendarFeed"
# Types that `node(id:)` can fetch whose local ids are UUIDs (an AuditEntry's is its position).
NODE_TYPES: Final = (TASK, NOTIFICATION, WEBHOOK, CALENDAR_FEED)
# Types whose local id is a position rather than a UUID.
_POSITIONED: Final = (AUDIT_ENTRY,)
_MAX_INDEX_DIGITS: Final = 18
_MAX_ID_LENGTH: Final = 200


def encode(type_name: str, local_id: str) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, local_id))


def decode(global_id: str, type_name: str) -> str | None:
    """The local id inside `global_id` when it is an id of `type_name`, else None."""
    if len(global_id) > _MAX_ID_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    found, _, local_id = raw.partition(":")
    if found != type_name or not local_id or encode(type_name, local_id) != global_id:
        return None  # not canonical: one object has exactly one id
    return local_id


def service_id(global_id: str, type_name: str) -> str:
    """The id a service knows the object by, inside an id of `type_name` (its UUID, or its
    position for an AuditEntry); NOT_FOUND for anything else, as for a missing object."""
    of = index_of if type_name in _POSITIONED else uuid_of
    local_id = of(global_id, type_name)
    if local_id is None:
        raise not_found(global_id)
    return local_id


def type_of(global_id: str) -> str | None:
    """The node type an id names, or None for anything that is not one of ours."""
    for type_name in NODE_TYPES:
        if uuid_of(global_id, type_name) is not None:
            return type_name
    if index_of(global_id, AUDIT_ENTRY) is not None:
        return AUDIT_ENTRY
    return None


def index_of(global_id: str, type_name: str) -> str | None:
    """The position inside an id of `type_name` whose local id is a position (an AuditEntry's
    leaf index), in canonical decimal, else None."""
    local_id = decode(global_id, type_name)
    if local_id is None or not local_id.isascii() or not local_id.isdigit():
        return None
    if len(local_id) > _MAX_INDEX_DIGITS or str(int(local_id)) != local_id:
        return None
    return local_id


def uuid_of(global_id: str, type_name: str) -> str | None:
    """The service's id (a UUID) inside an id of `type_name`, else None."""
    local_id = decode(global_id, type_name)
    if local_id is None:
        return None
    try:
        return str(uuid.UUID(local_id))
    except ValueError:
        return None


def task_id(global_id: str) -> str | None:
    """The service's task id inside a Task id, else None."""
    return uuid_of(global_id, TASK)
