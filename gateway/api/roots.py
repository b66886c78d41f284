"""Query, Mutation and Subscription: each domain's root fields, in the order the schema lists
them, and `node`/`nodes`, which fetch an object of any domain by its global id."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry

from gateway import ids
from gateway.api.audit import AuditQueries, fetch_audit_entry
from gateway.api.calendar_feeds import (
    CalendarFeedMutations,
    CalendarFeedQueries,
    fetch_calendar_feed,
)
from gateway.api.node import Node
from gateway.api.notifications import (
    NotificationMutations,
    NotificationQueries,
    NotificationSubscriptions,
    fetch_notification,
)
from gateway.api.quick_add import QuickAddMutations, QuickAddQueries
from gateway.api.recurrence import PUBLIC_FIELDS, RecurrenceQueries
from gateway.api.tasks.fields import TaskMutations, TaskQueries, TaskSubscriptions, fetch_task
from gateway.api.undo import UndoMutations
from gateway.api.webhooks import WebhookMutations, WebhookQueries, fetch_webhook
from gateway.context import GatewayContext, Info
from gateway.errors import GatewayError
from gateway.limits.list_maxima import NODES_MAX


async def fetch_node(context: GatewayContext, global_id: str) -> Node:
    kind = ids.type_of(global_id)
    if kind == ids.NOTIFICATION:
        return await fetch_notification(context, global_id)
    if kind == ids.WEBHOOK:
        return await fetch_webhook(context, global_id)
    if kind == ids.AUDIT_ENTRY:
        return await fetch_audit_entry(context, global_id)
    if kind == ids.CALENDAR_FEED:
        return await fetch_calendar_feed(context, global_id)
    return await fetch_task(context, global_id)  # NOT_FOUND for anything else


async def get_node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Any object's global id.")],
) -> Node | None:
    return await fetch_node(info.context, id)


async def get_nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description=f"Global ids, at most {NODES_MAX}."),
    ],
) -> list[Node | None]:
    async def one(global_id: strawberry.ID) -> Node | GatewayError:
        try:
            return await fetch_node(info.context, global_id)
        except GatewayError as error:  # becomes this item's null and error
            return error

    found: list[Any] = list(await asyncio.gather(*(one(global_id) for global_id in ids)))
    return found


@strawberry.type
class NodeQueries:
    node: Node | None = strawberry.field(
        resolver=get_node,
        description="Any object by its global id. Null with a NOT_FOUND error for an unknown, "
        "malformed or foreign id.",
    )
    nodes: list[Node | None] | None = strawberry.field(
        resolver=get_nodes,
        description="Objects by global id, in the order asked; each unknown, malformed or "
        "foreign id is null with a NOT_FOUND error at its index.",
    )


__all__ = ["PUBLIC_FIELDS", "Mutation", "Query", "Subscription"]


@strawberry.type(
    description="Reads. Every field but `parseRecurrence` (and introspection) needs "
    "`Authorization: Bearer <jwt>`; without one, a request for any other is answered 401."
)
class Query(
    TaskQueries,
    NodeQueries,
    NotificationQueries,
    WebhookQueries,
    AuditQueries,
    RecurrenceQueries,
    CalendarFeedQueries,
    QuickAddQueries,
):
    pass


@strawberry.type(description="Writes. Every field needs `Authorization: Bearer <jwt>`.")
class Mutation(
    TaskMutations,
    NotificationMutations,
    WebhookMutations,
    UndoMutations,
    CalendarFeedMutations,
    QuickAddMutations,
):
    pass


@strawberry.type(
    description="Live updates over graphql-transport-ws (send the token in connection_init)."
)
class Subscription(TaskSubscriptions, NotificationSubscriptions):
    pass
