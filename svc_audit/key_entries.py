"""Entries about the log itself, appended when its signing key changes.

A rotation (`todo_transparency.rotations`) is signed by the key it retires; a
replacement of a lost key cannot be, so it is signed by the new key and says
so: type `todo.audit.key.replaced`, the same owner (empty), task (nil UUID) and
actor (`operator`) as a rotation, changes `key_id` from the lost key's id to
the new one's and `signing_key` from null (the lost key is not known, only its
id) to the new public key. Either is appended alone, and the checkpoint that
covers it is signed in the same transaction, under the sequencer's lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Final

from svc_audit import checkpoints, tree_store
from todo_runtime.db import Connection
from todo_transparency.checkpoints import Checkpoint, SignedCheckpoint, SigningKey, public_key_text
from todo_transparency.entries import AuditLeaf, FieldChange
from todo_transparency.rotations import LOG_OWNER, NIL_TASK, OPERATOR, KeyRotation

REPLACED: Final = "todo.audit.key.replaced"
_EVENT_IDS: Final = uuid.UUID("0f4b7d3e-2a61-4b8e-9d1c-6e2f7a9c4b15")  # namespace of these entries
_HEAD: Final = """
    SELECT log.size, clock_timestamp() AS now,
           (SELECT coalesce(max(owner_sequence), 0) + 1 FROM entries WHERE owner_id = $1)
               AS owner_sequence
    FROM (SELECT coalesce(max(leaf_index) + 1, 0) AS size FROM entries) AS log"""
_INSERT: Final = """
    INSERT INTO entries (leaf_index, event_id, type, task_id, owner_id, owner_sequence, actor, at,
                         changes, leaf_hash, appended_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $8)"""


async def _append(
    conn: Connection,
    origin: str,
    latest: SignedCheckpoint,
    signer: SigningKey,
    leaf_for: Callable[[str, int, datetime], AuditLeaf],
) -> SignedCheckpoint:
    """Appends the leaf `leaf_for(event id, owner sequence, time)` after `latest` and signs
    the checkpoint that covers it with `signer`."""
    head = await conn.fetchrow(_HEAD, LOG_OWNER)
    if head is None:  # the query always returns one row
        raise RuntimeError("no log head")
    size: int = head["size"]
    tree = await tree_store.appendable_frontier(conn, size, latest.tree_size, latest.root_hash)
    event_id = str(uuid.uuid5(_EVENT_IDS, str(size)))
    leaf = leaf_for(event_id, head["owner_sequence"], head["now"])
    completed = tree.append([leaf.hash()])
    await conn.execute(
        _INSERT,
        size,
        leaf.event_id,
        leaf.type,
        uuid.UUID(leaf.task_id),
        leaf.owner,
        leaf.owner_sequence,
        leaf.actor,
        leaf.time,
        [{"field": c.field, "before": c.before, "after": c.after} for c in leaf.changes],
        leaf.hash(),
    )
    await tree_store.store_nodes(conn, completed)
    signed = signer.sign(Checkpoint(origin, size + 1, tree.root(), leaf.time))
    await checkpoints.store(conn, signed)
    return signed


async def rotate(
    conn: Connection, origin: str, latest: SignedCheckpoint, old: SigningKey, new: SigningKey
) -> SignedCheckpoint:
    """Appends the rotation from `old` to `new` and signs its checkpoint with `old`."""
    rotation = KeyRotation(old.public_key, new.public_key)

    def leaf_for(event_id: str, owner_sequence: int, time: datetime) -> AuditLeaf:
        return rotation.leaf(event_id=event_id, owner_sequence=owner_sequence, time=time)

    return await _append(conn, origin, latest, old, leaf_for)


async def replace_lost(
    conn: Connection, origin: str, latest: SignedCheckpoint, lost_key_id: str, new: SigningKey
) -> SignedCheckpoint:
    """Appends the replacement of the lost key `lost_key_id` by `new`, signed by `new`."""

    def leaf_for(event_id: str, owner_sequence: int, time: datetime) -> AuditLeaf:
        return AuditLeaf(
            event_id=event_id,
            type=REPLACED,
            task_id=NIL_TASK,
            owner=LOG_OWNER,
            owner_sequence=owner_sequence,
            actor=OPERATOR,
            time=time,
            changes=(
                FieldChange("key_id", lost_key_id, new.key_id),
                FieldChange("signing_key", None, public_key_text(new.public_key)),
            ),
        )

    return await _append(conn, origin, latest, new, leaf_for)
