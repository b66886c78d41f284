"""The verifier across key rotations, pure: logs built in memory, the server's answers (honest
or forged) constructed directly, and what `todo audit verify` keeps between runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from todo_cli.audit_verify import Outcome, StateFile
from todo_transparency import merkle
from todo_transparency.checkpoints import (
    Checkpoint,
    SignedCheckpoint,
    SigningKey,
    key_id,
    public_key_text,
)
from todo_transparency.entries import AuditLeaf, FieldChange
from todo_transparency.merkle import Node
from todo_transparency.rotations import KeyRotation, NotARotation
from todo_transparency.verification import (
    EntryProof,
    Held,
    LogVerifier,
    RotationProof,
    VerificationFailure,
)

USER = "alice"
K1, K2, K3 = (SigningKey(SigningKey.generate_text()) for _ in range(3))
NOW = datetime(2027, 2, 20, 10, 31, 7, 412000, tzinfo=UTC)


class MemoryLog:
    """A log held in memory: leaves, roots, proofs and signed checkpoints, as svc_audit serves
    them."""

    def __init__(self) -> None:
        self.leaves: list[AuditLeaf] = []
        self._sequences: dict[str, int] = {}

    def _sequence(self, owner: str) -> int:
        self._sequences[owner] = self._sequences.get(owner, 0) + 1
        return self._sequences[owner]

    def entry(self, owner: str = USER) -> int:
        """Appends an entry of `owner`'s; returns its index."""
        self.leaves.append(
            AuditLeaf(
                event_id=str(uuid.uuid4()),
                type="todo.task.created",
                task_id=str(uuid.uuid4()),
                owner=owner,
                owner_sequence=self._sequence(owner),
                actor=owner,
                time=NOW,
                changes=(FieldChange("title", None, "Water the plants"),),
            )
        )
        return len(self.leaves) - 1

    def rotation(self, old: SigningKey, new: SigningKey) -> RotationProof:
        """Appends a rotation from `old` to `new` and signs its checkpoint with `old`."""
        leaf = KeyRotation(old.public_key, new.public_key).leaf(
            event_id=str(uuid.uuid4()), owner_sequence=self._sequence(""), time=NOW
        )
        self.leaves.append(leaf)
        index = len(self.leaves) - 1
        return RotationProof(leaf, index, self.checkpoint(old), self.inclusion(index, index + 1))

    def _lookup(self, node: Node) -> bytes:
        return merkle.root_of([leaf.hash() for leaf in self.leaves[node.start : node.end]])

    def checkpoint(self, key: SigningKey, size: int | None = None) -> SignedCheckpoint:
        size = len(self.leaves) if size is None else size
        root = merkle.root_of([leaf.hash() for leaf in self.leaves[:size]])
        return key.sign(Checkpoint("todo.audit.v1", size, root, NOW))

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(index, size, self._lookup)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(old, new, self._lookup) if 0 < old < new else []

    def entries(self, size: int) -> list[EntryProof]:
        """The user's entries, each proven against the tree of `size`."""
        return [
            EntryProof(
                str(index),
                leaf,
                index,
                self.inclusion(index, size) if index < size else None,
            )
            for index, leaf in enumerate(self.leaves)
            if leaf.owner == USER
        ]


def _run(
    log: MemoryLog,
    pinned: bytes,
    held: Held | None,
    rotations: Sequence[RotationProof],
    latest: SignedCheckpoint,
) -> Held:
    """One verifier run over honest answers: what `todo audit verify` does, without the API."""
    verifier = LogVerifier(pinned, USER, held)
    for rotation in rotations:
        proof = log.consistency(verifier.anchor_size, rotation.checkpoint.tree_size)
        verifier.follow_rotation(rotation, proof)
    verifier.check_checkpoint(latest, log.consistency(verifier.anchor_size, latest.tree_size))
    for entry in log.entries(latest.tree_size):
        verifier.check_entry(entry)
    return verifier.finish()


@dataclass
class Rotated:
    """A log that held a checkpoint of K1's, then rotated to K2 and went on."""

    log: MemoryLog
    held: Held
    rotation: RotationProof
    latest: SignedCheckpoint


def _rotated() -> Rotated:
    log = MemoryLog()
    log.entry()
    log.entry()
    held = _run(log, K1.public_key, None, [], log.checkpoint(K1))
    log.entry()
    rotation = log.rotation(K1, K2)
    log.entry()
    log.entry("bob")
    return Rotated(log, held, rotation, log.checkpoint(K2))


def test_a_rotation_signed_by_the_pinned_key_is_followed() -> None:
    case = _rotated()
    held = _run(case.log, K1.public_key, case.held, [case.rotation], case.latest)
    assert held.entries == 4
    assert held.trusted_key == K2.public_key
    assert held.pinned_key == K1.public_key
    # The next run starts from what it kept: no rotation to follow, K2's checkpoints accepted.
    case.log.entry()
    later = case.log.checkpoint(K2)
    assert _run(case.log, K1.public_key, held, [], later).entries == 5


def test_two_rotations_are_followed_in_order() -> None:
    case = _rotated()
    second = case.log.rotation(K2, K3)
    case.log.entry()
    latest = case.log.checkpoint(K3)
    for held in (case.held, None):  # from a held checkpoint, and from nothing
        kept = _run(case.log, K1.public_key, held, [case.rotation, second], latest)
        assert kept.trusted_key == K3.public_key
        assert kept.entries == 5


def test_the_rotations_own_checkpoint_is_accepted_as_the_latest() -> None:
    # Nothing was appended since the rotation: the latest checkpoint is the old key's.
    log = MemoryLog()
    log.entry()
    rotation = log.rotation(K1, K2)
    held = _run(log, K1.public_key, None, [rotation], rotation.checkpoint)
    assert held.trusted_key == K2.public_key
    again = _run(log, K1.public_key, held, [], rotation.checkpoint)
    assert again.trusted_key == K2.public_key
    # Only under the pin it was verified with: pinned anew, it is checked like any other.
    with pytest.raises(VerificationFailure, match="not signed by the pinned key"):
        _run(log, K3.public_key, held, [], rotation.checkpoint)


def test_a_re_pinned_key_is_trusted_as_given() -> None:
    case = _rotated()
    held = _run(case.log, K1.public_key, case.held, [case.rotation], case.latest)
    # A lost K2 replaced by K3 out of band: the user pins K3; the kept checkpoint still counts.
    case.log.entry()
    replaced = case.log.checkpoint(K3)
    assert _run(case.log, K3.public_key, held, [], replaced).trusted_key == K3.public_key
    with pytest.raises(VerificationFailure, match="not signed by key"):
        _run(case.log, K1.public_key, held, [], replaced)


def test_a_hidden_rotation_leaves_the_new_keys_checkpoints_unsigned_by_the_pinned_key() -> None:
    case = _rotated()
    with pytest.raises(VerificationFailure, match="not signed by the pinned key") as failure:
        _run(case.log, K1.public_key, case.held, [], case.latest)
    assert failure.value.rotation_index is None


def _fork_of(case: Rotated) -> RotationProof:
    """A rotation K1 signed over a history that differs from the held one."""
    fork = MemoryLog()
    fork.entry("mallory")
    while len(fork.leaves) < case.rotation.leaf_index:
        fork.entry()
    return fork.rotation(K1, K2)


def _with_leaf(rotation: RotationProof, **fields: Any) -> RotationProof:
    return replace(rotation, leaf=replace(rotation.leaf, **fields))


def _change(before: bytes, after: bytes) -> tuple[FieldChange, ...]:
    return (FieldChange("signing_key", public_key_text(before), public_key_text(after)),)


def _named_another_old_key(case: Rotated) -> RotationProof:
    """A rotation from K3 to K2, included in a checkpoint K1 signed."""
    log = MemoryLog()
    log.leaves = case.log.leaves[: case.rotation.leaf_index]
    log.leaves.append(_with_leaf(case.rotation, changes=_change(K3.public_key, K2.public_key)).leaf)
    index = case.rotation.leaf_index
    return RotationProof(
        log.leaves[index], index, log.checkpoint(K1), log.inclusion(index, index + 1)
    )


FORGERIES: dict[str, tuple[Callable[[Rotated], RotationProof], str]] = {
    "not signed by the trusted key": (
        lambda case: replace(
            case.rotation, checkpoint=case.log.checkpoint(K2, case.rotation.checkpoint.tree_size)
        ),
        "the rotation's checkpoint (size 4) is not signed by the pinned key",
    ),
    "content not included": (
        lambda case: _with_leaf(case.rotation, changes=_change(K1.public_key, K3.public_key)),
        "the rotation entry is not a leaf of its checkpoint's tree",
    ),
    "inclusion proof missing": (
        lambda case: replace(case.rotation, proof=[]),
        "the rotation is not proven included in its checkpoint",
    ),
    "not consistent with the held checkpoint": (
        _fork_of,
        "the rotation's checkpoint of size 4 is not consistent with the checkpoint you hold",
    ),
    "names another old key": (
        _named_another_old_key,
        f"the rotation retires key {key_id(K3.public_key)}, not the key you trust "
        f"({key_id(K1.public_key)})",
    ),
    "not a rotation entry": (
        lambda case: _with_leaf(case.rotation, type="todo.task.updated"),
        "the entry is not a key rotation",
    ),
    "inside the held checkpoint": (
        lambda case: replace(case.rotation, leaf_index=1),
        "the rotation is not after the checkpoint you hold",
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_rotation_fails_naming_what_failed(
    forgery: tuple[Callable[[Rotated], RotationProof], str],
) -> None:
    forge, reason = forgery
    case = _rotated()
    rotation = forge(case)
    verifier = LogVerifier(K1.public_key, USER, case.held)
    proof = case.log.consistency(case.held.checkpoint.tree_size, rotation.checkpoint.tree_size)
    with pytest.raises(VerificationFailure) as failure:
        verifier.follow_rotation(rotation, proof)
    assert reason in failure.value.reason
    assert failure.value.rotation_index == rotation.leaf_index
    assert verifier.trusted_key == K1.public_key  # nothing forged is trusted
    outcome = Outcome(None, 0, 0, failure.value, "", K1.public_key, 0)
    assert outcome.report().startswith(
        f"FAILED at the key rotation at leaf {rotation.leaf_index}: "
    )


def test_a_rotation_leaf_reads_back_and_malformed_ones_are_refused() -> None:
    rotation = KeyRotation(K1.public_key, K2.public_key)
    leaf = rotation.leaf(event_id="e", owner_sequence=1, time=NOW)
    assert (leaf.owner, leaf.task_id, leaf.actor) == (
        "",
        "00000000-0000-0000-0000-000000000000",
        "operator",
    )
    assert KeyRotation.from_leaf(leaf) == rotation
    for bad, why in [
        (replace(leaf, owner=USER), "belongs to a user"),
        (replace(leaf, changes=()), "exactly one field"),
        (replace(leaf, changes=(FieldChange("signing_key", None, "x"),)), "names no key"),
        (replace(leaf, changes=_change(K1.public_key, K1.public_key)), "to itself"),
    ]:
        with pytest.raises(NotARotation, match=why):
            KeyRotation.from_leaf(bad)


def test_the_state_file_keeps_the_key_it_followed_to(tmp_path: Path) -> None:
    case = _rotated()
    held = _run(case.log, K1.public_key, case.held, [case.rotation], case.latest)
    state = StateFile(tmp_path, "http://gateway/graphql", USER)
    state.save(held)
    assert state.load() == held
    legacy = StateFile(tmp_path, "http://other/graphql", USER)  # written before rotations
    legacy.save(Held(held.checkpoint, held.entries))
    assert legacy.load() == Held(held.checkpoint, held.entries)
