"""Signed checkpoints as stored, served and published on `audit-checkpoints`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from todo_contracts.audit.v1 import checkpoint_pb2
from todo_contracts.events.v1 import audit_events_pb2
from todo_runtime import topics
from todo_runtime.db import Connection
from todo_runtime.outbox import OutgoingEvent, enqueue
from todo_runtime.timestamps import from_timestamp, timestamp
from todo_transparency.checkpoints import Checkpoint, SignedCheckpoint

SOURCE: Final = "/svc_audit"
EVENT_TYPE: Final = "todo.audit.checkpoint.signed"
_EVENT_IDS: Final = uuid.UUID(
    "5b0a0c2e-8d43-4c55-9a5c-3c1c7c0a0d17"
)  # namespace of checkpoint events
_COLUMNS: Final = "tree_size, origin, root_hash, signed_at, signature, key_id"


def from_row(row: Mapping[str, Any]) -> SignedCheckpoint:
    checkpoint = Checkpoint(
        origin=row["origin"],
        tree_size=row["tree_size"],
        root_hash=bytes(row["root_hash"]),
        signed_at=row["signed_at"],
    )
    return SignedCheckpoint(checkpoint, bytes(row["signature"]), row["key_id"])


def to_pb(signed: SignedCheckpoint) -> checkpoint_pb2.Checkpoint:
    checkpoint = signed.checkpoint
    return checkpoint_pb2.Checkpoint(
        origin=checkpoint.origin,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        signed_time=timestamp(checkpoint.signed_at),
        signature=signed.signature,
        key_id=signed.key_id,
        body=checkpoint.body().decode(),
    )


def from_pb(message: checkpoint_pb2.Checkpoint) -> SignedCheckpoint:
    """The checkpoint a message states (its `body` is ignored: it is rebuilt from the fields)."""
    checkpoint = Checkpoint(
        origin=message.origin,
        tree_size=message.tree_size,
        root_hash=message.root_hash,
        signed_at=from_timestamp(message.signed_time),
    )
    return SignedCheckpoint(checkpoint, message.signature, message.key_id)


async def latest(conn: Connection) -> SignedCheckpoint | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM checkpoints ORDER BY tree_size DESC LIMIT 1"  # noqa: S608
    )
    return None if row is None else from_row(row)


async def at_size(conn: Connection, tree_size: int) -> SignedCheckpoint | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM checkpoints WHERE tree_size = $1",  # noqa: S608
        tree_size,
    )
    return None if row is None else from_row(row)


async def store(conn: Connection, signed: SignedCheckpoint) -> None:
    """Stores `signed` and publishes it (outbox), in the caller's transaction."""
    checkpoint = signed.checkpoint
    await conn.execute(
        f"INSERT INTO checkpoints ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",  # noqa: S608
        checkpoint.tree_size,
        checkpoint.origin,
        checkpoint.root_hash,
        checkpoint.signed_at,
        signed.signature,
        signed.key_id,
    )
    event_id = str(uuid.uuid5(_EVENT_IDS, f"{checkpoint.origin}/{checkpoint.tree_size}"))
    message = audit_events_pb2.AuditCheckpointSigned(event_id=event_id, checkpoint=to_pb(signed))
    await enqueue(
        conn,
        [
            OutgoingEvent(
                topic=topics.AUDIT_CHECKPOINTS,
                key=checkpoint.origin,
                message=message,
                event_id=event_id,
                source=SOURCE,
                type=EVENT_TYPE,
                subject=str(checkpoint.tree_size),
                time=checkpoint.signed_at,
            )
        ],
    )
