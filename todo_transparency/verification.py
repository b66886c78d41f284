"""Verifying one user's audit log against a signed checkpoint, trusting nothing else.

A `LogVerifier` holds what the verifier trusts: the public key it pinned (or
the key it followed the log's key rotations to) and the last checkpoint it
verified (with how many of the owner's entries that checkpoint covered). It is
fed the server's answers, in order: the key rotations after the held
checkpoint, each with the checkpoint the retiring key signed at it (see
`todo_transparency.rotations`); the latest checkpoint with a consistency proof
from the last one trusted; then the owner's entries oldest first, each with an
inclusion proof. A checkpoint's signature is checked first (`check_rotation`,
`check_signature`), before anything is asked on its behalf, so a forged one
fails as forged whatever the server answers next. A proof the server refuses
is given as `Refused` in its place: a tree the trusted key signed can always be
proven, so refusing contradicts the signature and fails like a wrong proof.
The first thing that does not verify raises `VerificationFailure` naming it:

- a key rotation whose checkpoint the trusted key did not sign, that is not
  included in that checkpoint, whose checkpoint is not consistent with the one
  trusted before, or that retires another key than the trusted one (forged);
- a checkpoint not signed by the trusted key (forged, or rewritten without the key);
- a checkpoint smaller than the held one, or not consistent with it (rolled back,
  truncated, or history rewritten);
- an entry whose content does not hash to a leaf of the signed tree (changed);
- a proof, or a list, refused for a checkpoint the trusted key signed (the
  server will not show what it signed);
- a gap in the owner's entry numbers (an entry deleted);
- fewer entries than the held checkpoint covered (the tail cut off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from todo_transparency.checkpoints import SignedCheckpoint, key_id
from todo_transparency.entries import AuditLeaf
from todo_transparency.merkle import ProofError, check_consistency, root_from_inclusion_proof
from todo_transparency.rotations import KeyRotation, NotARotation


class VerificationFailure(Exception):
    """What failed first: an entry (`entry_id`), a key rotation (`rotation_index`, its leaf
    index) or, when both are None, a checkpoint."""

    def __init__(
        self, reason: str, entry_id: str | None = None, *, rotation_index: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entry_id = entry_id
        self.rotation_index = rotation_index


class Refused(Exception):
    """The server's refusal to answer a question asked for a checkpoint (`answer`: what it said
    instead). Raised by whoever asks, and given to the verifier in place of the proof: whether
    it is a failure is the verifier's to judge, not an outage to retry."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


Proof: TypeAlias = Sequence[bytes] | Refused


@dataclass(frozen=True)
class Held:
    """What a verifier keeps between runs: the checkpoint it verified, how many of the
    owner's entries that checkpoint covered, and the key later checkpoints must be signed by
    (`trusted_key`, followed through rotations from `pinned_key`; None: the pinned key)."""

    checkpoint: SignedCheckpoint
    entries: int
    trusted_key: bytes | None = None
    pinned_key: bytes | None = None


@dataclass(frozen=True)
class EntryProof:
    """One entry as served, with its position and an inclusion proof against the checkpoint."""

    entry_id: str
    leaf: AuditLeaf
    leaf_index: int
    proof: Proof | None  # None: the entry is newer than the checkpoint


@dataclass(frozen=True)
class RotationProof:
    """A key rotation entry as served: its leaf (rebuilt from the content shown), its position,
    the checkpoint signed at the rotation (by the key it retires) and the entry's inclusion
    proof in that checkpoint."""

    leaf: AuditLeaf
    leaf_index: int
    checkpoint: SignedCheckpoint
    proof: Sequence[bytes]


class LogVerifier:
    """Checks one owner's log; see the module docstring. Parameters: `public_key` the pinned
    Ed25519 key, `owner` whose entries these must be, `held` the last verified state (if any;
    the key it followed to counts only while the same key is pinned: a re-pinned key is
    trusted as given)."""

    def __init__(self, public_key: bytes, owner: str, held: Held | None = None) -> None:
        self._pinned = public_key
        self._trusted = public_key
        if held is not None and held.trusted_key is not None and held.pinned_key == public_key:
            self._trusted = held.trusted_key
        self._owner = owner
        self._held = held
        self._anchor = held.checkpoint if held is not None else None
        # Whether the anchor was verified under this pin (then it is accepted as it is).
        self._anchor_pinned = held is not None and held.pinned_key == public_key
        self._rotations = 0
        self._checkpoint: SignedCheckpoint | None = None
        self._covered = 0
        self._pending = 0
        self._last_index = -1

    @property
    def trusted_key(self) -> bytes:
        """The key the next checkpoint must be signed by."""
        return self._trusted

    @property
    def anchor_size(self) -> int:
        """The size of the last checkpoint trusted (held, or a followed rotation's; 0: none):
        the next rotation comes after it, the next checkpoint extends it."""
        return self._anchor.tree_size if self._anchor is not None else 0

    @property
    def rotations(self) -> int:
        """Key rotations followed in this run."""
        return self._rotations

    @property
    def entries(self) -> int:
        """The owner's entries verified so far (covered by the checkpoint)."""
        return self._covered

    @property
    def pending(self) -> int:
        """The owner's entries seen that the checkpoint does not cover yet."""
        return self._pending

    def _trusted_name(self) -> str:
        if self._trusted == self._pinned:
            return "the pinned key"
        return f"key {key_id(self._trusted)}, which the pinned key was rotated to"

    def _anchor_name(self) -> str:
        return (
            "the checkpoint you hold" if self._rotations == 0 else "the last rotation's checkpoint"
        )

    def _is_anchor(self, checkpoint: SignedCheckpoint) -> bool:
        """Whether `checkpoint` is the last one trusted, verified under this pin: accepted as it
        is (a rotation's checkpoint is signed by the key it retired, not the trusted one)."""
        return self._anchor_pinned and checkpoint == self._anchor

    def _check_extends(
        self, checkpoint: SignedCheckpoint, consistency_proof: Proof, what: str
    ) -> None:
        """Raises unless `checkpoint` (its signature checked) extends the last one trusted."""
        old = self._anchor
        if old is None:
            return
        size = checkpoint.tree_size
        if size < old.tree_size:
            raise VerificationFailure(
                f"the log shrank: {self._anchor_name()} covers {old.tree_size} entries, "
                f"{what} only {size} (rolled back or truncated)"
            )
        if isinstance(consistency_proof, Refused):
            raise VerificationFailure(
                f"{what} of size {size} is signed by {self._trusted_name()}, but the server "
                f"refused to prove it extends {self._anchor_name()} (size {old.tree_size}): "
                f"{consistency_proof.answer}"
            )
        try:
            check_consistency(
                old.tree_size, size, old.root_hash, checkpoint.root_hash, consistency_proof
            )
        except ProofError as error:
            raise VerificationFailure(
                f"{what} of size {size} is not consistent with {self._anchor_name()} "
                f"(size {old.tree_size}): {error} (history was rewritten)"
            ) from None

    def check_rotation(self, rotation: RotationProof) -> KeyRotation:
        """Checks what a rotation states and that the trusted key signed its checkpoint, before
        any proof is asked on its behalf (`follow_rotation` checks the proofs); returns it."""
        index = rotation.leaf_index
        if index < self.anchor_size:
            raise VerificationFailure(
                f"the rotation is not after {self._anchor_name()} (size {self.anchor_size})",
                rotation_index=index,
            )
        try:
            change = KeyRotation.from_leaf(rotation.leaf)
        except NotARotation as error:
            raise VerificationFailure(
                f"the entry is not a key rotation: {error}", rotation_index=index
            ) from None
        if change.old_key != self._trusted:
            raise VerificationFailure(
                f"the rotation retires key {key_id(change.old_key)}, not the key you trust "
                f"({key_id(self._trusted)})",
                rotation_index=index,
            )
        if not rotation.checkpoint.verifies_with(self._trusted):
            raise VerificationFailure(
                f"the rotation's checkpoint (size {rotation.checkpoint.tree_size}) is not signed "
                f"by {self._trusted_name()}",
                rotation_index=index,
            )
        return change

    def follow_rotation(self, rotation: RotationProof, consistency_proof: Proof = ()) -> None:
        """Trusts the rotation's new key once the key trusted now has signed the rotation's
        checkpoint, which includes the rotation entry and extends the last checkpoint trusted
        (`consistency_proof` from it). Rotations come oldest first, before `check_checkpoint`."""
        if self._checkpoint is not None:
            raise RuntimeError("follow rotations before check_checkpoint")
        change = self.check_rotation(rotation)
        index = rotation.leaf_index
        checkpoint = rotation.checkpoint
        size = checkpoint.tree_size
        try:
            self._check_extends(checkpoint, consistency_proof, "the rotation's checkpoint")
        except VerificationFailure as failure:
            raise VerificationFailure(failure.reason, rotation_index=index) from None
        try:
            root = root_from_inclusion_proof(index, size, rotation.leaf.hash(), rotation.proof)
        except ProofError as error:
            raise VerificationFailure(
                f"the rotation is not proven included in its checkpoint: {error}",
                rotation_index=index,
            ) from None
        if root != checkpoint.root_hash:
            raise VerificationFailure(
                f"the rotation entry is not a leaf of its checkpoint's tree (size {size})",
                rotation_index=index,
            )
        self._trusted = change.new_key
        self._anchor = checkpoint
        self._anchor_pinned = True
        self._rotations += 1

    def check_signature(self, checkpoint: SignedCheckpoint) -> None:
        """Raises unless the trusted key signed `checkpoint` (the last one trusted passes as it
        is): checked before anything is asked on its behalf."""
        if not self._is_anchor(checkpoint) and not checkpoint.verifies_with(self._trusted):
            raise VerificationFailure(
                f"the checkpoint of size {checkpoint.tree_size} is not signed by "
                f"{self._trusted_name()}"
            )

    def check_checkpoint(self, checkpoint: SignedCheckpoint, consistency_proof: Proof = ()) -> None:
        """Accepts `checkpoint` if the trusted key signed it and it extends the last one trusted
        (the held one or the last rotation's). That one itself, verified under the same pin, is
        accepted as it is: a rotation's checkpoint is signed by the key it retired."""
        self.check_signature(checkpoint)
        if not self._is_anchor(checkpoint):
            self._check_extends(checkpoint, consistency_proof, "the latest checkpoint")
        self._checkpoint = checkpoint

    def refusal(
        self, checkpoint: SignedCheckpoint, what: str, refused: Refused
    ) -> VerificationFailure:
        """The failure a refusal to show `what` for `checkpoint` is: the checkpoint's, unless
        the trusted key signed it (or it was trusted before); then the refusal's, since a
        server must be able to show what it signed."""
        size = checkpoint.tree_size
        if checkpoint == self._anchor:
            return VerificationFailure(
                f"the server refused {what}, though it signed {self._anchor_name()} "
                f"(size {size}): {refused.answer}"
            )
        if not checkpoint.verifies_with(self._trusted):
            return VerificationFailure(
                f"the checkpoint of size {size} is not signed by {self._trusted_name()}, and "
                f"the server refused {what}: {refused.answer}"
            )
        return VerificationFailure(
            f"the server refused {what} for the checkpoint of size {size} signed by "
            f"{self._trusted_name()}: {refused.answer}"
        )

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
        if isinstance(entry.proof, Refused):
            raise VerificationFailure(
                f"the server refused to prove the entry is in the signed checkpoint of size "
                f"{checkpoint.tree_size}: {entry.proof.answer}",
                entry.entry_id,
            )
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
        return Held(checkpoint, self._covered, self._trusted, self._pinned)
