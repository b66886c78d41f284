"""`todo audit verify`: checks your audit log through the public GraphQL API, trusting no server.

What it trusts: the public key you pinned (a file or `TODO_AUDIT_PUBLIC_KEY`;
`todo up` writes its key to the data directory) and the last checkpoint it
verified, kept in the data directory with the key it followed the log's key
rotations to. What it checks, with `todo_transparency.verification` (the
check `verifyAuditLog` runs on the server): each key rotation since the kept
checkpoint (its checkpoint signed by the key trusted then, the rotation entry
included in it, consistent with the checkpoint before), after which it trusts
the new key; the latest checkpoint's signature; that it extends the kept one
(a consistency proof); and every one of your entries, its leaf recomputed
from the content the API shows and proven included in the signed tree,
numbered with no gaps and none missing at the end. It reports ok, or the
first rotation, entry or checkpoint that fails, and keeps the new checkpoint
(and key) only when all is well.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import jwt

from gateway import ids
from todo_cli.settings import AUDIT_PUBLIC_KEY_FILE
from todo_runtime import endpoints
from todo_runtime.config import Env
from todo_transparency.canonical import instant_text, parse_instant
from todo_transparency.checkpoints import (
    BadKey,
    Checkpoint,
    SignedCheckpoint,
    key_id,
    public_key_from_text,
    public_key_text,
)
from todo_transparency.entries import AuditLeaf, FieldChange
from todo_transparency.verification import (
    EntryProof,
    Held,
    LogVerifier,
    RotationProof,
    VerificationFailure,
)

PUBLIC_KEY_ENV: Final = "TODO_AUDIT_PUBLIC_KEY"
TOKEN_ENV: Final = "TODO_TOKEN"  # noqa: S105 - the variable's name, not a secret
PUBLIC_KEY_FILE: Final = AUDIT_PUBLIC_KEY_FILE  # in the data directory, written by `todo up`
PAGE: Final = (
    40  # entries per request (each with its changes and proof stays within the cost limit)
)
_CHECKPOINT_FIELDS: Final = "origin treeSize rootHash signedAt signature keyId"
TREE: Final = f"query {{ auditTree {{ publicKey checkpoint {{ {_CHECKPOINT_FIELDS} }} }} }}"
CONSISTENCY: Final = """query($from: Int!, $to: Int!) {
  auditTree { consistencyProof(fromTreeSize: $from, toTreeSize: $to) { hashes } }
}"""
ROTATIONS: Final = f"""query($from: Int!, $to: Int!, $after: String, $first: Int!) {{
  auditTree {{ keyRotations(fromTreeSize: $from, toTreeSize: $to, first: $first, after: $after) {{
    edges {{ node {{
      leafIndex eventId type taskId actor at ownerId ownerSequence
      changes {{ field before after }}
      checkpoint {{ {_CHECKPOINT_FIELDS} }}
      inclusionProof {{ hashes }}
    }} }}
    pageInfo {{ hasNextPage endCursor }}
  }} }}
}}"""
ENTRIES: Final = """query($after: String, $first: Int!, $treeSize: Int!) {
  auditLog(first: $first, after: $after) {
    edges { node {
      id eventId type taskId actor at ownerId ownerSequence leafIndex
      changes { field before after }
      inclusionProof(treeSize: $treeSize) { hashes }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class AuditVerifyError(RuntimeError):
    """The verification could not run (no key, no token, the API unreachable or refusing)."""


@dataclass(frozen=True)
class Outcome:
    """What a run found: `failure` is None when everything verified."""

    checkpoint: SignedCheckpoint | None
    entries: int
    pending: int
    failure: VerificationFailure | None
    served_key: str
    trusted_key: bytes  # the pinned key, or the key its rotations led to
    rotations: int  # key rotations followed in this run

    def report(self) -> str:
        failure = self.failure
        if failure is not None:
            where = "the checkpoint"
            if failure.entry_id:
                where = f"entry {failure.entry_id}"
            elif failure.rotation_index is not None:
                where = f"the key rotation at leaf {failure.rotation_index}"
            return f"FAILED at {where}: {failure.reason}"
        if self.checkpoint is None:
            return "ok: nothing to verify yet (no checkpoint has been signed)"
        checkpoint = self.checkpoint.checkpoint
        newer = f"; {self.pending} newer waiting for the next checkpoint" if self.pending else ""
        rotated = ""
        if self.rotations:
            plural = "s" if self.rotations > 1 else ""
            rotated = (
                f"; followed {self.rotations} key rotation{plural} to key "
                f"{key_id(self.trusted_key)} ({public_key_text(self.trusted_key)})"
            )
        return (
            f"ok: {self.entries} entries verified against the checkpoint of "
            f"{checkpoint.tree_size} entries signed at {instant_text(checkpoint.signed_at)}"
            f"{newer}{rotated}"
        )


def default_url(env: Env) -> str:
    """TODO_GATEWAY_URL (a base URL or host:port), else the local gateway's port."""
    address = endpoints.GATEWAY.address(env)
    base = address if "://" in address else f"http://{address}"
    return base if base.rstrip("/").endswith("/graphql") else base.rstrip("/") + "/graphql"


def pinned_key(path: Path | None, env: Env, data: Path) -> bytes:
    """The public key to trust: `--public-key` file, TODO_AUDIT_PUBLIC_KEY, or `todo up`'s file."""
    text = env.text(PUBLIC_KEY_ENV, "")
    source = PUBLIC_KEY_ENV
    if path is not None:
        text, source = _read(path), str(path)
    elif not text and (data / PUBLIC_KEY_FILE).exists():
        text, source = _read(data / PUBLIC_KEY_FILE), str(data / PUBLIC_KEY_FILE)
    if not text:
        raise AuditVerifyError(
            f"pin the audit log's public key: --public-key FILE or {PUBLIC_KEY_ENV} "
            "(base64 of the 32-byte Ed25519 key the operator publishes)"
        )
    try:
        return public_key_from_text(text)
    except BadKey as error:
        raise AuditVerifyError(f"{source}: {error}") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise AuditVerifyError(f"cannot read {path}: {error.strerror}") from None


def user_of(token: str) -> str:
    """The token's subject (read, not verified: the server verifies; this only names state)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AuditVerifyError(f"the token is not a JWT: {error}") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuditVerifyError("the token has no subject (sub)")
    return subject


class GraphQL:
    """POSTs operations to the gateway with the user's bearer token."""

    def __init__(self, url: str, token: str, http: httpx.Client) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = http

    def data(
        self, query: str, variables: Mapping[str, Any] | None = None, *, partial: bool = False
    ) -> Any:
        """The response's data; AuditVerifyError on errors unless `partial` (then the fields
        that failed are null, which the verifier treats as unproven, not as an outage)."""
        try:
            response = self._http.post(
                self._url,
                json={"query": query, "variables": dict(variables or {})},
                headers=self._headers,
            )
        except httpx.HTTPError as error:
            raise AuditVerifyError(f"cannot reach {self._url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            raise AuditVerifyError(f"{self._url} answered {response.status_code}") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(body, dict) or body.get("data") is None or (errors and not partial):
            message = errors[0].get("message") if errors else f"HTTP {response.status_code}"
            raise AuditVerifyError(f"the API refused: {message}")
        return body["data"]


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailure(f"the server sent {text[:60]!r} where base64 belongs") from None


def checkpoint_from(data: Mapping[str, Any]) -> SignedCheckpoint:
    """A checkpoint as the API shows it (fields only; its body is rebuilt, never trusted)."""
    try:
        checkpoint = Checkpoint(
            origin=data["origin"],
            tree_size=int(data["treeSize"]),
            root_hash=_b64(data["rootHash"]),
            signed_at=parse_instant(data["signedAt"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationFailure(f"the checkpoint is malformed: {error}") from None
    return SignedCheckpoint(checkpoint, _b64(data["signature"]), str(data["keyId"]))


def _leaf(node: Mapping[str, Any], task_id: str, where: str) -> AuditLeaf:
    """The leaf of an entry's content as the API shows it (never its hash)."""
    try:
        return AuditLeaf(
            event_id=str(node["eventId"]),
            type=str(node["type"]),
            task_id=task_id,
            owner=str(node["ownerId"]),
            owner_sequence=int(node["ownerSequence"]),
            actor=str(node["actor"]),
            time=parse_instant(str(node["at"])),
            changes=tuple(
                FieldChange(change["field"], change["before"], change["after"])
                for change in node["changes"]
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationFailure(f"{where} is malformed: {error}") from None


def entry_from(node: Mapping[str, Any]) -> EntryProof:
    """An entry as the API shows it, with its leaf rebuilt from the content shown."""
    entry_id = str(node["id"])
    task_id = ids.task_id(str(node["taskId"]))
    if task_id is None:
        raise VerificationFailure("the entry names no task", entry_id)
    try:
        leaf = _leaf(node, task_id, "the entry")
    except VerificationFailure as failure:
        raise VerificationFailure(failure.reason, entry_id) from None
    proof = node.get("inclusionProof")
    hashes = None if proof is None else [_b64(hash) for hash in proof["hashes"]]
    return EntryProof(entry_id, leaf, int(node["leafIndex"]), hashes)


def rotation_from(node: Mapping[str, Any]) -> RotationProof:
    """A key rotation as the API shows it, its leaf rebuilt from the content shown."""
    index = int(node["leafIndex"])
    try:
        leaf = _leaf(node, str(node["taskId"]), "the rotation entry")
        checkpoint = checkpoint_from(node["checkpoint"])
        hashes = [_b64(hash) for hash in node["inclusionProof"]["hashes"]]
    except VerificationFailure as failure:
        raise VerificationFailure(failure.reason, rotation_index=index) from None
    return RotationProof(leaf, index, checkpoint, hashes)


class StateFile:
    """The last verified checkpoint for one gateway and user, in the data directory, with the
    key later checkpoints must be signed by and the pinned key it was followed from."""

    def __init__(self, data: Path, url: str, user: str) -> None:
        name = hashlib.sha256(f"{url}\x00{user}".encode()).hexdigest()[:16]
        self.path = data / "audit" / f"verified-{name}.json"
        self._url, self._user = url, user

    def load(self) -> Held | None:
        if not self.path.exists():
            return None
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            keys = [stored.get(name) for name in ("trustedKey", "pinnedKey")]
            trusted, pinned = (None if key is None else public_key_from_text(key) for key in keys)
            return Held(
                checkpoint_from(stored["checkpoint"]), int(stored["entries"]), trusted, pinned
            )
        except (OSError, ValueError, KeyError, TypeError, VerificationFailure) as error:
            raise AuditVerifyError(f"{self.path} is unreadable ({error}); move it away") from None

    def save(self, held: Held) -> None:
        checkpoint = held.checkpoint.checkpoint
        stored = {
            "url": self._url,
            "user": self._user,
            "entries": held.entries,
            "checkpoint": {
                "origin": checkpoint.origin,
                "treeSize": checkpoint.tree_size,
                "rootHash": base64.b64encode(checkpoint.root_hash).decode(),
                "signedAt": instant_text(checkpoint.signed_at),
                "signature": base64.b64encode(held.checkpoint.signature).decode(),
                "keyId": held.checkpoint.key_id,
            },
        }
        for name, key in (("trustedKey", held.trusted_key), ("pinnedKey", held.pinned_key)):
            if key is not None:
                stored[name] = public_key_text(key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(stored, indent=2), encoding="utf-8")
        os.replace(temporary, self.path)


def _pages(
    api: GraphQL,
    query: str,
    path: tuple[str, ...],
    variables: Mapping[str, Any],
    *,
    partial: bool = False,
) -> Iterator[Any]:
    """The nodes of the connection at `path` in the answers to `query`, page after page."""
    after: str | None = None
    while True:
        connection = api.data(query, {**variables, "after": after, "first": PAGE}, partial=partial)
        for name in path:
            connection = connection[name]
        for edge in connection["edges"]:
            yield edge["node"]
        if not connection["pageInfo"]["hasNextPage"]:
            return
        after = connection["pageInfo"]["endCursor"]


def _consistency(api: GraphQL, old: int, new: int) -> list[bytes]:
    """The consistency proof from the tree of `old` entries to that of `new` (none needed
    from 0 or between equal sizes; a smaller `new` is for the verifier to refuse)."""
    if not 0 < old < new:
        return []
    answer = api.data(CONSISTENCY, {"from": old, "to": new})
    return [_b64(hash) for hash in answer["auditTree"]["consistencyProof"]["hashes"]]


def verify(api: GraphQL, public_key: bytes, user: str, state: StateFile) -> Outcome:
    """One run: see the module docstring. Keeps the new checkpoint only if all verified."""
    held = state.load()
    tree = api.data(TREE)["auditTree"]
    served_key = str(tree["publicKey"])
    verifier = LogVerifier(public_key, user, held)
    latest: SignedCheckpoint | None = None

    def outcome(failure: VerificationFailure | None) -> Outcome:
        return Outcome(
            latest,
            verifier.entries,
            verifier.pending,
            failure,
            served_key,
            verifier.trusted_key,
            verifier.rotations,
        )

    try:
        if tree["checkpoint"] is None:
            if held is not None:
                raise VerificationFailure("the log has no checkpoint, but you hold one")
            return outcome(None)
        latest = checkpoint_from(tree["checkpoint"])
        bounds = {"from": verifier.anchor_size, "to": latest.tree_size}
        for node in _pages(api, ROTATIONS, ("auditTree", "keyRotations"), bounds):
            rotation = rotation_from(node)
            size = rotation.checkpoint.tree_size
            verifier.follow_rotation(rotation, _consistency(api, verifier.anchor_size, size))
        proof = _consistency(api, verifier.anchor_size, latest.tree_size)
        verifier.check_checkpoint(latest, proof)
        # partial: an entry whose proof failed comes without it, and fails as unproven
        entries = {"treeSize": latest.tree_size}
        for node in _pages(api, ENTRIES, ("auditLog",), entries, partial=True):
            verifier.check_entry(entry_from(node))
        state.save(verifier.finish())
    except VerificationFailure as failure:
        return outcome(failure)
    return outcome(None)


def run(*, url: str, token: str, public_key: bytes, data: Path, timeout: float = 30.0) -> Outcome:
    user = user_of(token)
    with httpx.Client(timeout=timeout) as http:
        return verify(GraphQL(url, token, http), public_key, user, StateFile(data, url, user))
