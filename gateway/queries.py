"""Query root: reads, each scoped to the authenticated caller by the services."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import strawberry

from gateway import ids
from gateway.audit_resolvers import audit_log, audit_tree, fetch_audit_entry, verify_audit_log
from gateway.change_cursors import ChangeCursors
from gateway.context import GatewayContext
from gateway.errors import GatewayError, bad_input, rpc
from gateway.input_limits import NODES_MAX
from gateway.nodes import fetch_task, selects
from gateway.notify_resolvers import (
    fetch_notification,
    fetch_webhook,
    list_deliveries,
    list_notifications,
    list_webhooks,
)
from gateway.query_cost import VERIFY_MAX_ENTRIES
from gateway.types.audit import AuditEntryConnection, AuditTree, AuditVerification
from gateway.types.node import Node
from gateway.types.notification import NotificationConnection
from gateway.types.recurrence import RecurrencePreview
from gateway.types.scalars import to_timestamp
from gateway.types.task import Task, TaskConnection
from gateway.types.task_inputs import TaskFilter, TaskOrder, given
from gateway.types.webhook import Webhook, WebhookDeliveryConnection
from todo_contracts.recur.v1 import recurrence_service_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2
from todo_runtime.validation import ORDER_KEYS_MAX

Info = strawberry.Info[GatewayContext, None]
TaskId = Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]

DEFAULT_PAGE_SIZE = 50
DEFAULT_PREVIEW_COUNT = 5
MAX_PREVIEW_COUNT = 100


async def list_tasks(
    info: Info,
    *,
    filter: Annotated[
        TaskFilter | None, strawberry.argument(description="Which tasks; all of yours when null.")
    ] = strawberry.UNSET,
    order_by: Annotated[
        list[TaskOrder] | None,
        strawberry.argument(
            description=f"Sort keys in priority order, at most {ORDER_KEYS_MAX} (each field "
            "once); default newest first."
        ),
    ] = strawberry.UNSET,
    first: Annotated[
        int | None,
        strawberry.argument(
            description="Forward paging: the first N tasks (after `after`), 1..200 (the "
            "configured maximum). Default 50 when neither first nor last is given."
        ),
    ] = strawberry.UNSET,
    after: Annotated[
        str | None,
        strawberry.argument(description="An edge's cursor: only the tasks after that edge."),
    ] = strawberry.UNSET,
    last: Annotated[
        int | None,
        strawberry.argument(
            description="Backward paging: the last N tasks (before `before`), 1..200."
        ),
    ] = strawberry.UNSET,
    before: Annotated[
        str | None,
        strawberry.argument(description="An edge's cursor: only the tasks before that edge."),
    ] = strawberry.UNSET,
) -> TaskConnection:
    context = info.context
    if given(first) and given(last):
        raise bad_input("last", "give first or last, not both")
    size = last if given(last) else first if given(first) else DEFAULT_PAGE_SIZE
    name = "last" if given(last) else "first"
    if not 1 <= size <= context.max_page_size:
        raise bad_input(name, f"must be between 1 and {context.max_page_size}, got {size}")
    request = tasks_service_pb2.ListTasksRequest(
        page_size=size,
        page_token=after or "",
        before_page_token=before or "",
        from_end=given(last),
        skip_total_size=not selects(info, "totalCount"),
    )
    if given(filter):
        request.filter.CopyFrom(filter.to_pb())
    request.order_by.extend(order.to_pb() for order in order_by or ())
    change_cursor = await _change_cursor(context) if selects(info, "changeCursor") else ""
    call = context.tasks.ListTasks(request, metadata=context.metadata(), timeout=context.timeout)
    return TaskConnection.from_pb(await rpc(call), change_cursor)


async def _change_cursor(context: GatewayContext) -> str:
    """The caller's change-log position now, read before the page so the page reflects it."""
    latest_only = tasks_service_pb2.ListChangesRequest(after_sequence=2**62, page_size=1)
    call = context.tasks.ListChanges(
        latest_only, metadata=context.metadata(), timeout=context.timeout
    )
    latest = (await rpc(call)).latest_sequence
    return ChangeCursors(context.services.call.secret).encode(context.user(), latest)


async def get_task(info: Info, id: TaskId) -> Task | None:
    return await fetch_task(info.context, id)


async def get_node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="Any object's global id.")],
) -> Node | None:
    return await fetch_node(info.context, id)


async def fetch_node(context: GatewayContext, global_id: str) -> Node:
    kind = ids.type_of(global_id)
    if kind == ids.NOTIFICATION:
        return await fetch_notification(context, global_id)
    if kind == ids.WEBHOOK:
        return await fetch_webhook(context, global_id)
    if kind == ids.AUDIT_ENTRY:
        return await fetch_audit_entry(context, global_id)
    return await fetch_task(context, global_id)  # NOT_FOUND for anything else


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


async def parse_recurrence(
    info: Info,
    text: Annotated[
        str,
        strawberry.argument(
            description="Natural language ('every month on the last friday at 9am') or RRULE "
            "text ('FREQ=WEEKLY;BYDAY=MO,TH'); 1..500 characters."
        ),
    ],
    time_zone: Annotated[
        str | None, strawberry.argument(description="IANA zone the rule is read in; default UTC.")
    ] = strawberry.UNSET,
    count: Annotated[
        int | None, strawberry.argument(description="How many occurrences to preview, 1..100.")
    ] = DEFAULT_PREVIEW_COUNT,
    due_at: Annotated[
        datetime | None,
        strawberry.argument(
            description="The first task's due, as you would pass it to createTask; default: the "
            "first occurrence after now, as createTask picks one."
        ),
    ] = strawberry.UNSET,
) -> RecurrencePreview:
    context = info.context
    count = DEFAULT_PREVIEW_COUNT if count is None else count
    if not 1 <= count <= MAX_PREVIEW_COUNT:
        raise bad_input("count", f"must be between 1 and {MAX_PREVIEW_COUNT}, got {count}")
    request = recurrence_service_pb2.ParseRecurrenceRequest(
        text=text, time_zone=time_zone or "", count=count
    )
    if given(due_at):
        request.start_time.CopyFrom(to_timestamp(due_at))
    call = context.recur.ParseRecurrence(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    return RecurrencePreview.from_pb(await rpc(call))


@strawberry.type(description="Reads. Every field needs `Authorization: Bearer <jwt>`.")
class Query:
    tasks: TaskConnection = strawberry.field(
        resolver=list_tasks,
        description="The caller's tasks, filtered and ordered (default: newest first), as a "
        "Relay cursor connection: `first`/`after` page forwards, `last`/`before` backwards, and "
        "every edge's cursor is a position.",
    )
    task: Task | None = strawberry.field(
        resolver=get_task,
        description="One task. Null with a NOT_FOUND error when it does not exist or is not yours.",
    )
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
    notifications: NotificationConnection = strawberry.field(
        resolver=list_notifications,
        description="Your fired reminders, newest first.",
    )
    webhooks: list[Webhook] = strawberry.field(
        resolver=list_webhooks, description="Your webhook endpoints, oldest first."
    )
    webhook_deliveries: WebhookDeliveryConnection = strawberry.field(
        resolver=list_deliveries,
        description="Every attempt to deliver to one of your endpoints, newest first. NOT_FOUND "
        "for an endpoint that is not yours.",
    )
    audit_log: AuditEntryConnection = strawberry.field(
        resolver=audit_log,
        description="Your task history: one entry per change or fired reminder, with who, "
        "when and what changed from what to what; of one task or all of yours. Another "
        "user's task gives an empty list. Entries are never changed or removed.",
    )
    audit_tree: AuditTree = strawberry.field(
        resolver=audit_tree,
        description="The audit log's signed checkpoints, public key and consistency proofs: "
        "what `todo audit verify` checks your entries against.",
    )
    verify_audit_log: AuditVerification = strawberry.field(
        resolver=verify_audit_log,
        description="Checks your entries on the server: the latest checkpoint's signature, "
        "each entry's inclusion recomputed from its content, and that none is missing. "
        "`todo audit verify` makes the same check without trusting the server. It checks at "
        f"most {VERIFY_MAX_ENTRIES} entries (a longer log is BAD_USER_INPUT: verify it with "
        "`todo audit verify`) and costs 1 per entry: charged at the most, the entries it did "
        "not check given back (extensions.cost.actualQueryCost).",
    )
    parse_recurrence: RecurrencePreview = strawberry.field(
        resolver=parse_recurrence,
        description="Checks a recurrence rule (natural language or RRULE) without saving it: the "
        "normalized rule, its English text and the first `count` (1..100) dues of its tasks, "
        "read in `timeZone` (default UTC), exactly as createTask with the same text, zone and "
        "dueAt would store them.",
    )
