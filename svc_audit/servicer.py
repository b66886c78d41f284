"""AuditService: a thin adapter from requests to the log, for the calling user."""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import grpc

from svc_audit import checkpoints, tree_store
from svc_audit.history import History, Query
from svc_audit.key_rotations import KeyRotations
from svc_audit.verification import verify_owner
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.audit.v1 import audit_service_pb2_grpc
from todo_runtime import object_ids
from todo_runtime.errors import InvalidArgument, NotFound
from todo_runtime.identity import current_user
from todo_runtime.validation import instant_from_pb, page_size

Context = grpc.aio.ServicerContext[Any, Any]
DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 200


def _query(request: pb.ListAuditEntriesRequest) -> Query:
    task_id = object_ids.task_id(request.task_id, "task_id") if request.task_id else None
    start = (
        instant_from_pb(request.start_time, "start_time")
        if request.HasField("start_time")
        else None
    )
    end = instant_from_pb(request.end_time, "end_time") if request.HasField("end_time") else None
    return Query(task_id, start, end, request.order == pb.ENTRY_ORDER_NEWEST_FIRST)


class AuditServicer(audit_service_pb2_grpc.AuditServiceServicer):
    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        entries: History,
        rotations: KeyRotations,
        public_key: bytes,
    ) -> None:
        self._pool = pool
        self._entries = entries
        self._rotations = rotations
        self._public_key = public_key

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: Context
    ) -> pb.ListAuditEntriesResponse:
        page = await self._entries.page(
            current_user(),
            _query(request),
            size=page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE),
            token=request.page_token,
            count=not request.skip_total_size,
        )
        return pb.ListAuditEntriesResponse(
            entries=page.items,
            next_page_token=page.cursors[-1] if page.has_next else "",
            total_size=page.total,
            cursors=page.cursors,
        )

    async def GetAuditEntry(
        self, request: pb.GetAuditEntryRequest, context: Context
    ) -> pb.GetAuditEntryResponse:
        return pb.GetAuditEntryResponse(entry=await self._entries.get(current_user(), request.id))

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.GetCheckpointResponse:
        current_user()
        if request.tree_size < 0:
            raise InvalidArgument("tree_size", "must not be negative")
        async with self._pool.acquire() as conn:
            if request.tree_size:
                found = await checkpoints.at_size(conn, request.tree_size)
            else:
                found = await checkpoints.latest(conn)
        response = pb.GetCheckpointResponse(public_key=self._public_key)
        if found is not None:
            response.checkpoint.CopyFrom(checkpoints.to_pb(found))
        elif request.tree_size:
            raise NotFound(
                f"no checkpoint of size {request.tree_size}", reason="CHECKPOINT_NOT_FOUND"
            )
        return response

    async def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: Context
    ) -> pb.GetInclusionProofResponse:
        entry = await self._entries.get(current_user(), request.entry_id)
        if request.tree_size < 0:
            raise InvalidArgument("tree_size", "must not be negative")
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            tree_size = request.tree_size
            if not tree_size:
                latest = await checkpoints.latest(conn)
                tree_size = latest.tree_size if latest is not None else 0
            if not entry.leaf_index < tree_size <= await tree_store.log_size(conn):
                raise InvalidArgument(
                    "tree_size",
                    f"must be more than the entry's leaf index ({entry.leaf_index}) and at most "
                    "the log's size",
                )
            [proof] = await tree_store.inclusion_proofs(conn, [entry.leaf_index], tree_size)
        return pb.GetInclusionProofResponse(
            leaf_index=entry.leaf_index, tree_size=tree_size, hashes=proof
        )

    async def GetConsistencyProof(
        self, request: pb.GetConsistencyProofRequest, context: Context
    ) -> pb.GetConsistencyProofResponse:
        current_user()
        old, new = request.from_tree_size, request.to_tree_size
        if old < 0:
            raise InvalidArgument("from_tree_size", "must not be negative")
        if new < old:
            raise InvalidArgument("to_tree_size", "must be at least from_tree_size")
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            if new > await tree_store.log_size(conn):
                raise InvalidArgument("to_tree_size", "must be at most the log's size")
            proof = await tree_store.consistency_proof(conn, old, new)
        return pb.GetConsistencyProofResponse(from_tree_size=old, to_tree_size=new, hashes=proof)

    async def VerifyAuditLog(
        self, request: pb.VerifyAuditLogRequest, context: Context
    ) -> pb.VerifyAuditLogResponse:
        return await verify_owner(self._pool, current_user(), self._public_key)

    async def ListKeyRotations(
        self, request: pb.ListKeyRotationsRequest, context: Context
    ) -> pb.ListKeyRotationsResponse:
        current_user()
        return await self._rotations.page(
            request.from_tree_size,
            request.to_tree_size,
            size=page_size(request.page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE),
            token=request.page_token,
        )
