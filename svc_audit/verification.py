"""VerifyAuditLog: the verifier of `todo audit verify`, run on the server over its own tables.

The same `LogVerifier` checks the latest checkpoint's signature (with this
service's public key) and each of the owner's entries: the leaf rebuilt from
the stored content, proven included from the stored tree, numbered with no
gaps. When the latest checkpoint is the one a rotation to this key was signed
at (by the key it retired), the verifier starts from the retired key and
follows that rotation. The server holds no earlier checkpoint, so a rollback
of the whole database is for the client's verifier (which keeps one) to catch.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from svc_audit import checkpoints, history, log_key, tree_store
from svc_audit.history import leaf_of
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_runtime.db import Connection
from todo_transparency.checkpoints import SignedCheckpoint
from todo_transparency.rotations import KeyRotation, NotARotation
from todo_transparency.verification import (
    EntryProof,
    LogVerifier,
    RotationProof,
    VerificationFailure,
)

CHUNK: Final = 500  # entries (and their proofs) read at a time


async def _verifier(
    conn: Connection, owner: str, public_key: bytes, latest: SignedCheckpoint
) -> LogVerifier:
    """A verifier that trusts `public_key`, led through the rotation to it when `latest` is
    that rotation's checkpoint."""
    pinned = LogVerifier(public_key, owner)
    leaf = await log_key.rotation_leaf(conn, latest)
    if leaf is None:
        return pinned
    try:
        rotation = KeyRotation.from_leaf(leaf)
    except NotARotation:
        return pinned  # which then says what is wrong with `latest`
    if rotation.new_key != public_key:
        return pinned
    verifier = LogVerifier(rotation.old_key, owner)
    index = latest.tree_size - 1
    [proof] = await tree_store.inclusion_proofs(conn, [index], latest.tree_size)
    verifier.follow_rotation(RotationProof(leaf, index, latest, proof))
    return verifier


async def verify_owner(
    pool: asyncpg.Pool[Any], owner: str, public_key: bytes
) -> pb.VerifyAuditLogResponse:
    """Verifies `owner`'s entries in one consistent snapshot of the log."""
    verifier = LogVerifier(public_key, owner)
    response = pb.VerifyAuditLogResponse()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        latest = await checkpoints.latest(conn)
        if latest is None:
            response.ok = True
            return response
        response.checkpoint.CopyFrom(checkpoints.to_pb(latest))
        try:
            verifier = await _verifier(conn, owner, public_key, latest)
            verifier.check_checkpoint(latest)
            after = 0
            while True:
                rows = await conn.fetch(
                    f"SELECT {history.COLUMNS} FROM entries"  # noqa: S608
                    " WHERE owner_id = $1 AND owner_sequence > $2 ORDER BY owner_sequence LIMIT $3",
                    owner,
                    after,
                    CHUNK,
                )
                covered = [
                    row["leaf_index"] for row in rows if row["leaf_index"] < latest.tree_size
                ]
                proofs = dict(
                    zip(
                        covered,
                        await tree_store.inclusion_proofs(conn, covered, latest.tree_size),
                        strict=True,
                    )
                )
                for row in rows:
                    verifier.check_entry(
                        EntryProof(
                            entry_id=str(row["leaf_index"]),
                            leaf=leaf_of(row, row["owner_sequence"]),
                            leaf_index=row["leaf_index"],
                            proof=proofs.get(row["leaf_index"]),
                        )
                    )
                if len(rows) < CHUNK:
                    break
                after = rows[-1]["owner_sequence"]
            verifier.finish()
        except VerificationFailure as failure:
            response.reason = failure.reason
            response.first_broken_entry_id = failure.entry_id or ""
        except tree_store.LogDamaged as damage:
            response.reason = damage.message
        response.ok = not response.reason
        response.entries = verifier.entries
        response.pending_entries = verifier.pending
    return response
