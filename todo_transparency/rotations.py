"""Key rotation entries: the log's own record that its signing key changed, as an ordinary leaf.

A rotation is an entry of the log itself, no user's: owner the empty string
(no user id is empty), task id the nil UUID, actor `operator`, type
`todo.audit.key.rotated`, and one change, the field `signing_key` from the
retired public key to the new one (base64 of the raw 32 bytes). The key it
retires signs the checkpoint that covers it, so a verifier that trusts the
old key learns the new one from the log, signed by the key it already trusts.
The leaf encoding is that of every entry (`AuditLeaf`, v 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from todo_transparency.checkpoints import BadKey, public_key_from_text, public_key_text
from todo_transparency.entries import AuditLeaf, FieldChange

ROTATED: Final = "todo.audit.key.rotated"
LOG_OWNER: Final = ""  # entries about the log itself: no user's (user ids are never empty)
NIL_TASK: Final = "00000000-0000-0000-0000-000000000000"
OPERATOR: Final = "operator"
KEY_FIELD: Final = "signing_key"


class NotARotation(ValueError):
    """A leaf that does not state a key rotation (the message says why)."""


@dataclass(frozen=True)
class KeyRotation:
    """From `old_key` to `new_key` (raw 32-byte Ed25519 public keys)."""

    old_key: bytes
    new_key: bytes

    def leaf(self, *, event_id: str, owner_sequence: int, time: datetime) -> AuditLeaf:
        """The rotation entry's leaf: `owner_sequence` numbers the log's own entries."""
        change = FieldChange(
            KEY_FIELD, public_key_text(self.old_key), public_key_text(self.new_key)
        )
        return AuditLeaf(
            event_id=event_id,
            type=ROTATED,
            task_id=NIL_TASK,
            owner=LOG_OWNER,
            owner_sequence=owner_sequence,
            actor=OPERATOR,
            time=time,
            changes=(change,),
        )

    @classmethod
    def from_leaf(cls, leaf: AuditLeaf) -> KeyRotation:
        """The rotation `leaf` states; NotARotation if it states none."""
        if leaf.type != ROTATED:
            raise NotARotation(f"its type is {leaf.type[:60]!r}, not {ROTATED!r}")
        if leaf.owner != LOG_OWNER:
            raise NotARotation("it belongs to a user, not to the log")
        if len(leaf.changes) != 1 or leaf.changes[0].field != KEY_FIELD:
            raise NotARotation(f"it must change exactly one field, {KEY_FIELD!r}")
        [change] = leaf.changes
        try:
            old = public_key_from_text(change.before or "")
            new = public_key_from_text(change.after or "")
        except BadKey as error:
            raise NotARotation(f"it names no key: {error}") from None
        if old == new:
            raise NotARotation("it rotates a key to itself")
        return cls(old, new)
