"""Which key signs the log now, as its latest checkpoint says (rotations taken into account).

Normally the key that signed the latest checkpoint. A rotation's checkpoint is
the exception: the retiring key signs it, and it covers the rotation entry as
its last leaf, which names the key that signs from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from svc_audit import checkpoints
from svc_audit.history import COLUMNS, leaf_of
from svc_audit.tree_store import LogDamaged
from todo_runtime.db import Connection
from todo_transparency.checkpoints import SignedCheckpoint, key_id
from todo_transparency.entries import AuditLeaf
from todo_transparency.rotations import LOG_OWNER, ROTATED, KeyRotation, NotARotation

_ROTATION_AT: Final = (
    f"SELECT {COLUMNS} FROM entries WHERE leaf_index = $1 AND owner_id = $2 AND type = $3"  # noqa: S608
)


@dataclass(frozen=True)
class LogKey:
    """The log's latest checkpoint, and the rotation it was signed for (if it was)."""

    checkpoint: SignedCheckpoint
    rotation: KeyRotation | None

    @property
    def key_id(self) -> str:
        """The id of the key that signs the log's next checkpoint."""
        if self.rotation is not None:
            return key_id(self.rotation.new_key)
        return self.checkpoint.key_id

    def accepts(self, public_key: bytes) -> bool:
        """Whether `public_key` is the log's key: it signed the latest checkpoint, or that
        checkpoint is a rotation to it, signed by the key it retired."""
        if self.rotation is not None:
            return public_key == self.rotation.new_key and self.checkpoint.verifies_with(
                self.rotation.old_key
            )
        return self.checkpoint.verifies_with(public_key)

    def describe(self) -> str:
        """Which key the log has, in words, for errors that name it."""
        size = self.checkpoint.tree_size
        if self.rotation is not None:
            return (
                f"it was rotated from key id {key_id(self.rotation.old_key)} to key id "
                f"{self.key_id} at tree size {size}"
            )
        return f"its latest checkpoint (tree size {size}) was signed by key id {self.key_id}"


async def rotation_leaf(conn: Connection, checkpoint: SignedCheckpoint) -> AuditLeaf | None:
    """The leaf of the rotation `checkpoint` was signed for: its last leaf, if that is a
    rotation entry."""
    if checkpoint.tree_size == 0:
        return None
    row = await conn.fetchrow(_ROTATION_AT, checkpoint.tree_size - 1, LOG_OWNER, ROTATED)
    return None if row is None else leaf_of(row, row["owner_sequence"])


async def rotation_signed_at(conn: Connection, checkpoint: SignedCheckpoint) -> KeyRotation | None:
    """The rotation `checkpoint` was signed for, if any."""
    leaf = await rotation_leaf(conn, checkpoint)
    if leaf is None:
        return None
    try:
        return KeyRotation.from_leaf(leaf)
    except NotARotation as error:
        raise LogDamaged(
            f"the audit log's entry {checkpoint.tree_size - 1} is a malformed key rotation: {error}"
        ) from None


async def current(conn: Connection) -> LogKey | None:
    """The log's key now; None for a log that has signed nothing yet."""
    latest = await checkpoints.latest(conn)
    if latest is None:
        return None
    return LogKey(latest, await rotation_signed_at(conn, latest))
