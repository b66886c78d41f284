"""Resolvers for the audit log (svc_audit), each for the calling user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from gateway import ids
from gateway.context import GatewayContext
from gateway.cost_limits import unused
from gateway.errors import bad_input, rpc
from gateway.nodes import about, not_found, selects, task_id_of
from gateway.query_cost import VERIFY_MAX_ENTRIES
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
    """Priced at the most entries it checks (`VERIFY_MAX_ENTRIES`, a log with more is refused
    before any is checked); the entries it did not check are given back once it ran."""
    context = info.context
    checked = 0
    try:
        entries = await _entry_count(context)
        if entries > VERIFY_MAX_ENTRIES:
            raise bad_input(
                "verifyAuditLog",
                f"checks at most {VERIFY_MAX_ENTRIES} entries on the server and your log has "
                f"{entries}: verify it with `todo audit verify`, which reads it page by page",
            )
        checked = entries  # what it is asked to do, should the answer not come
        call = context.audit.VerifyAuditLog(
            pb.VerifyAuditLogRequest(), metadata=context.metadata(), timeout=context.timeout
        )
        response = await rpc(call)
        checked = response.entries + response.pending_entries
        return AuditVerification.from_pb(response)
    finally:
        unused(VERIFY_MAX_ENTRIES - checked)


async def _entry_count(context: GatewayContext) -> int:
    """How many entries the caller's log holds: the newest one's number (they are numbered
    1, 2, 3, ... with no gaps), one index lookup however long the log."""
    request = pb.ListAuditEntriesRequest(
        page_size=1, order=pb.ENTRY_ORDER_NEWEST_FIRST, skip_total_size=True
    )
    call = context.audit.ListAuditEntries(
        request, metadata=context.metadata(), timeout=context.timeout
    )
    newest = (await rpc(call)).entries
    return newest[0].owner_sequence if newest else 0
