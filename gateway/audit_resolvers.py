"""Resolvers for the audit log (svc_audit), each for the calling user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway import ids
from gateway.context import GatewayContext
from gateway.errors import bad_input, rpc
from gateway.nodes import about, not_found, selects, task_id_of
from gateway.types.audit import AuditEntry, AuditEntryConnection, AuditTree, AuditVerification
from gateway.types.scalars import to_timestamp
from gateway.types.task_inputs import given
from todo_contracts.audit.v1 import audit_service_pb2 as pb

Info = strawberry.Info[GatewayContext, None]
DEFAULT_PAGE_SIZE = 50


async def fetch_audit_entry(context: GatewayContext, global_id: str) -> AuditEntry:
    local = ids.index_of(global_id, ids.AUDIT_ENTRY)
    if local is None:
        raise not_found(global_id)
    call = context.audit.GetAuditEntry(
        pb.GetAuditEntryRequest(id=local), metadata=context.metadata(), timeout=context.timeout
    )
    with about(global_id):
        return AuditEntry.from_pb((await rpc(call)).entry)


async def audit_log(
    info: Info,
    *,
    task_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this task's entries; all of yours when null."),
    ] = strawberry.UNSET,
    first: Annotated[int | None, strawberry.argument(description="Page size, 1..200.")] = 50,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
    newest_first: Annotated[
        bool | None,
        strawberry.argument(description="Latest first; default oldest first (log order)."),
    ] = False,
    since: Annotated[
        datetime | None, strawberry.argument(description="Only entries at or after this time.")
    ] = strawberry.UNSET,
    until: Annotated[
        datetime | None, strawberry.argument(description="Only entries before this time.")
    ] = strawberry.UNSET,
) -> AuditEntryConnection:
    context = info.context
    first = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= first <= context.max_page_size:
        raise bad_input("first", f"must be between 1 and {context.max_page_size}, got {first}")
    request = pb.ListAuditEntriesRequest(
        task_id=task_id_of(task_id) if given(task_id) else "",
        page_size=first,
        page_token=after or "",
        order=pb.ENTRY_ORDER_NEWEST_FIRST if newest_first else pb.ENTRY_ORDER_OLDEST_FIRST,
        skip_total_size=not selects(info, "totalCount"),
    )
    if given(since):
        request.start_time.CopyFrom(to_timestamp(since))
    if given(until):
        request.end_time.CopyFrom(to_timestamp(until))
    call = context.audit.ListAuditEntries(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    return AuditEntryConnection.from_pb(await rpc(call))


async def audit_tree(info: Info) -> AuditTree:
    context = info.context
    call = context.audit.GetCheckpoint(
        pb.GetCheckpointRequest(), metadata=context.metadata(), timeout=context.timeout
    )
    return AuditTree.from_pb(await rpc(call))


async def verify_audit_log(info: Info) -> AuditVerification:
    context = info.context
    call = context.audit.VerifyAuditLog(
        pb.VerifyAuditLogRequest(), metadata=context.metadata(), timeout=context.timeout
    )
    return AuditVerification.from_pb(await rpc(call))
