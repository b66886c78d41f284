"""ListKeyRotations: the log's rotation entries, each with the checkpoint signed at it and the
entry's inclusion proof there, read in one snapshot of the log."""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from svc_audit import checkpoints, history, tree_store
from svc_audit.tree_store import LogDamaged
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import PageTokens
from todo_transparency.rotations import LOG_OWNER, ROTATED

_ROTATIONS: Final = f"""
    SELECT {history.COLUMNS} FROM entries
    WHERE owner_id = $1 AND type = $2 AND leaf_index >= $3 AND ($4::bigint = 0 OR leaf_index < $4)
      AND leaf_index > $5
    ORDER BY owner_sequence LIMIT $6"""  # noqa: S608 - fixed columns


class KeyRotations:
    """Reads over the service's pool; rotations are about the log, not about any user."""

    def __init__(self, pool: asyncpg.Pool[Any], tokens: PageTokens) -> None:
        self._pool = pool
        self._tokens = tokens

    async def page(
        self, from_tree_size: int, to_tree_size: int, *, size: int, token: str
    ) -> pb.ListKeyRotationsResponse:
        if from_tree_size < 0:
            raise InvalidArgument("from_tree_size", "must not be negative")
        if to_tree_size < 0:
            raise InvalidArgument("to_tree_size", "must not be negative")
        scope = f"{from_tree_size}\x00{to_tree_size}"
        after = -1
        if token:
            after = self._tokens.decode(scope, token).integer("after")
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            rows = await conn.fetch(
                _ROTATIONS, LOG_OWNER, ROTATED, from_tree_size, to_tree_size, after, size + 1
            )
            more = len(rows) > size
            rows = rows[:size]
            indexes = [row["leaf_index"] for row in rows]
            proofs = await tree_store.inclusion_proofs_at(
                conn, [(index, index + 1) for index in indexes]
            )
            response = pb.ListKeyRotationsResponse()
            for row, proof in zip(rows, proofs, strict=True):
                index = row["leaf_index"]
                signed = await checkpoints.at_size(conn, index + 1)
                if signed is None:
                    raise LogDamaged(
                        f"the audit log is damaged: no checkpoint was signed at the key rotation "
                        f"at entry {index}"
                    )
                response.rotations.add(
                    entry=history.to_pb(row),
                    checkpoint=checkpoints.to_pb(signed),
                    inclusion_proof=proof,
                )
                response.cursors.append(self._tokens.encode(scope, {"after": index}))
        if more:
            response.next_page_token = response.cursors[-1]
        return response
