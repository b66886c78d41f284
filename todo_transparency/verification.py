"""Verifying one user's audit log against a signed checkpoint, trusting nothing else.

A `LogVerifier` holds what the verifier trusts: the public key it pinned and
the last checkpoint it verified (with how many of the owner's entries that
checkpoint covered). It is fed the server's answers, in order: the latest
checkpoint with a consistency proof from the held one, then the owner's
entries oldest first, each with an inclusion proof. The first thing that
does not verify raises `VerificationFailure` naming it:

- a checkpoint not signed by the pinned key (forged, or rewritten without the key);
- a checkpoint smaller than the held one, or not consistent with it (rolled back,
  truncated, or history rewritten);
- an entry whose content does not hash to a leaf of the signed tree (changed);
- a gap in the owner's entry numbers (an entry deleted);
- fewer entries than the held checkpoint covered (the tail cut off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from todo_transparency.checkpoints import SignedCheckpoint
from todo_transparency.entries import AuditLeaf
from todo_transparency.merkle import ProofError, check_consistency, root_from_inclusion_proof


class VerificationFailure(Exception):
    """What failed first: an entry (`entry_id`) or, when that is None, a checkpoint."""

    def __init__(self, reason: str, entry_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry_id = entry_id


@dataclass(frozen=True)
class Held:
    """What a verifier keeps between runs: the checkpoint it verified and how many of the
    owner's entries that checkpoint covered."""

    checkpoint: SignedCheckpoint
    entries: int


@dataclass(frozen=True)
class EntryProof:
    """One entry as served, with its position and an inclusion proof against the checkpoint."""

    entry_id: str
    leaf: AuditLeaf
    leaf_index: int
    proof: Sequence[bytes] | None  # None: the entry is newer than the checkpoint


class LogVerifier:
    """Checks one owner's log; see the module docstring. Parameters: `public_key` the pinned
    Ed25519 key, `owner` whose entries these must be, `held` the last verified state (if any)."""

    def __init__(self, public_key: bytes, owner: str, held: Held | None = None) -> None:
        self._public_key = public_key
        self._owner = owner
        self._held = held
        self._checkpoint: SignedCheckpoint | None = None
        self._covered = 0
        self._pending = 0
        self._last_index = -1

    @property
    def entries(self) -> int:
        """The owner's entries verified so far (covered by the checkpoint)."""
        return self._covered

    @property
    def pending(self) -> int:
        """The owner's entries seen that the checkpoint does not cover yet."""
        return self._pending

    def check_checkpoint(
        self, checkpoint: SignedCheckpoint, consistency_proof: Sequence[bytes] = ()
    ) -> None:
        """Accepts `checkpoint` if the pinned key signed it and it extends the held one."""
        size = checkpoint.tree_size
        if not checkpoint.verifies_with(self._public_key):
            raise VerificationFailure(
                f"the checkpoint of size {size} is not signed by the pinned key"
            )
        held = self._held
        if held is not None:
            old = held.checkpoint
            if size < old.tree_size:
                raise VerificationFailure(
                    f"the log shrank: the checkpoint you hold covers {old.tree_size} entries, "
                    f"the latest only {size} (rolled back or truncated)"
                )
            try:
                check_consistency(
                    old.tree_size, size, old.root_hash, checkpoint.root_hash, consistency_proof
                )
            except ProofError as error:
                raise VerificationFailure(
                    f"the checkpoint of size {size} is not consistent with the one you hold "
                    f"(size {old.tree_size}): {error} (history was rewritten)"
                ) from None
        self._checkpoint = checkpoint

    def check_entry(self, entry: EntryProof) -> None:
        """Checks the owner's next entry (entries must come oldest first, all of them)."""
        checkpoint = self._checkpoint
        if checkpoint is None:
            raise RuntimeError("check_checkpoint first")
        leaf = entry.leaf
        if leaf.owner != self._owner:
            raise VerificationFailure("the entry belongs to another user", entry.entry_id)
        expected = self._covered + self._pending + 1
        if leaf.owner_sequence != expected:
            raise VerificationFailure(
                f"entry number {expected} is missing: the next entry is number "
                f"{leaf.owner_sequence} (an entry was deleted)",
                entry.entry_id,
            )
        if entry.leaf_index <= self._last_index:
            raise VerificationFailure("the entry is out of log order", entry.entry_id)
        self._last_index = entry.leaf_index
        if entry.leaf_index >= checkpoint.tree_size:
            self._pending += 1
            return
        if self._pending:
            raise VerificationFailure(
                "the entry is inside the checkpoint but after entries that are not", entry.entry_id
            )
        if entry.proof is None:
            raise VerificationFailure("the entry has no inclusion proof", entry.entry_id)
        try:
            root = root_from_inclusion_proof(
                entry.leaf_index, checkpoint.tree_size, leaf.hash(), entry.proof
            )
        except ProofError as error:
            raise VerificationFailure(f"bad inclusion proof: {error}", entry.entry_id) from None
        if root != checkpoint.root_hash:
            raise VerificationFailure(
                "the entry's content is not the leaf the signed tree holds (it was changed)",
                entry.entry_id,
            )
        self._covered += 1

    def finish(self) -> Held:
        """After the last entry: the state to keep for next time."""
        checkpoint = self._checkpoint
        if checkpoint is None:
            raise RuntimeError("check_checkpoint first")
        held = self._held
        if held is not None and self._covered < held.entries:
            raise VerificationFailure(
                f"entries are missing at the end: the checkpoint you hold covered "
                f"{held.entries} of your entries, the log now has {self._covered} "
                "(tail truncated or rolled back)"
            )
        return Held(checkpoint, self._covered)
