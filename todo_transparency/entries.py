"""The audit entry as a Merkle leaf: its content and the one canonical encoding of it.

Whoever holds an entry's fields (svc_audit from its table, a verifier from the
API) rebuilds the same bytes, so the leaf hash is always recomputed from
content, never taken on trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from todo_transparency.canonical import canonical_json, instant_text
from todo_transparency.merkle import leaf_hash

LEAF_VERSION: Final = 1


@dataclass(frozen=True)
class FieldChange:
    """One field an event changed; None: the field had no value."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class AuditLeaf:
    """What one entry says: which event, about which task of whose, by whom, when, and the diff.

    `owner_sequence` numbers the owner's entries 1, 2, 3... in log order, so a
    verifier that sees a gap knows an entry was removed.
    """

    event_id: str
    type: str
    task_id: str
    owner: str
    owner_sequence: int
    actor: str
    time: datetime
    changes: tuple[FieldChange, ...]

    def encode(self) -> bytes:
        """The leaf data: RFC 8785 canonical JSON (see `todo.audit.v1.AuditEntry`)."""
        return canonical_json(
            {
                "v": LEAF_VERSION,
                "event_id": self.event_id,
                "type": self.type,
                "task_id": self.task_id,
                "owner": self.owner,
                "owner_sequence": self.owner_sequence,
                "actor": self.actor,
                "time": instant_text(self.time),
                "changes": [
                    {"field": change.field, "before": change.before, "after": change.after}
                    for change in self.changes
                ],
            }
        )

    def hash(self) -> bytes:
        """The Merkle leaf hash, SHA-256(0x00 || encode())."""
        return leaf_hash(self.encode())
