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

Each checkpoint's signature is checked before anything is asked on its behalf,
and a question the API refuses about a checkpoint (a proof, the rotations up to
it, your entries in it) goes to the verifier as `Refused`: a server that will
not show what it signed fails like one that shows it wrong. It could not run
(`AuditVerifyError`) only when the API cannot be reached or asked: the network,
HTTP 5xx, UNAVAILABLE or RATE_LIMITED, a token it does not take, or a refusal
before it served any checkpoint you could hold it to.
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
    Proof,
    Refused,
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


# Answers that say the API cannot be asked now (an outage, a rate limit: retry later) or not
# with this token: the run could not happen. Any other refusal is the verifier's to judge.
_CANNOT_ASK_STATUSES: Final = frozenset({401, 403, 429})  # and every 5xx
_CANNOT_ASK_CODES: Final = frozenset({"UNAVAILABLE", "RATE_LIMITED", "UNAUTHENTICATED"})


class AuditVerifyError(RuntimeError):
    """The verification could not run (no key, no token, the API unreachable or unavailable)."""


@dataclass(frozen=True)
class Outcome:
    """What a run found: `failure` is None when everything verified."""

    checkpoint: SignedCheckpoint | None
    entries: int
    pending: int
    failure: VerificationFailure | None
    served_key: str  # the key the server says it signs with ("" if it did not say)
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
        self, query: str, variables: Mapping[str, Any] | None = None, *, refusable: str = ""
    ) -> Any:
        """The answer's data. AuditVerifyError when the API could not be asked (see
        `_CANNOT_ASK_CODES`); Refused when it refused the question. A refused field named
        `refusable` leaves the rest standing: it holds the Refused in place of its null."""
        body = self._post(query, variables or {})
        errors = [error if isinstance(error, dict) else {} for error in body["errors"]]
        for error in errors:
            extensions = error.get("extensions")
            code = extensions.get("code") if isinstance(extensions, dict) else None
            if code in _CANNOT_ASK_CODES:
                raise AuditVerifyError(f"the API answered {code}: {_message(error)}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise Refused(_message(errors[0]) if errors else "an answer without data")
        for error in errors:
            _refuse_field(data, error, refusable)
        return data

    def _post(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The answer as a GraphQL body (its `errors` a list); AuditVerifyError if there is
        none: the API unreachable, HTTP 5xx, 401, 403 or 429, or not GraphQL."""
        try:
            response = self._http.post(
                self._url,
                json={"query": query, "variables": dict(variables)},
                headers=self._headers,
            )
        except httpx.HTTPError as error:
            raise AuditVerifyError(f"cannot reach {self._url}: {error}") from None
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 401 and isinstance(body, dict) and body.get("errors"):
            # The token was refused before anything ran (RFC 6750): say why, as the API does.
            errors = body["errors"]
            first = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {}
            raise AuditVerifyError(f"the API answered UNAUTHENTICATED: {_message(first)}")
        if status >= 500 or status in _CANNOT_ASK_STATUSES:
            raise AuditVerifyError(f"{self._url} answered HTTP {status}")
        if isinstance(body, dict):
            errors = body.get("errors") or []
            if isinstance(errors, list):
                return {**body, "errors": errors}
        raise AuditVerifyError(f"{self._url} answered HTTP {status}, not GraphQL")


def _message(error: Mapping[str, Any]) -> str:
    return str(error.get("message") or "refused, saying nothing")


def _refuse_field(data: Any, error: Mapping[str, Any], refusable: str) -> None:
    """Puts a Refused in the null of the `refusable` field `error` is about; raises it when
    the error is about anything else (the whole answer is refused)."""
    refused = Refused(_message(error))
    path = error.get("path")
    if not refusable or not isinstance(path, list) or not path or path[-1] != refusable:
        raise refused
    parent = data
    try:
        for step in path[:-1]:
            parent = parent[step]
        if parent[refusable] is not None:
            raise refused
        parent[refusable] = refused
    except (KeyError, IndexError, TypeError):
        raise refused from None


def _walk(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`; an answer without it fails (it is not what was asked)."""
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise VerificationFailure(f"the server's answer has no {name!r}")
        data = data[name]
    return data


def _b64(text: Any) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise VerificationFailure(
            f"the server sent {str(text)[:60]!r} where base64 belongs"
        ) from None


def _hashes(proof: Any) -> list[bytes]:
    """The hashes of a proof as the API shows it."""
    hashes = _walk(proof, "hashes")
    if not isinstance(hashes, list):
        raise VerificationFailure("the server sent a proof whose hashes are not a list")
    return [_b64(hash) for hash in hashes]


def checkpoint_from(data: Mapping[str, Any]) -> SignedCheckpoint:
    """A checkpoint as the API shows it (fields only; its body is rebuilt, never trusted)."""
    try:
        checkpoint = Checkpoint(
            origin=data["origin"],
            tree_size=int(data["treeSize"]),
            root_hash=_b64(data["rootHash"]),
            signed_at=parse_instant(data["signedAt"]),
        )
        return SignedCheckpoint(checkpoint, _b64(data["signature"]), str(data["keyId"]))
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationFailure(f"the checkpoint is malformed: {error}") from None


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
    """An entry as the API shows it, with its leaf rebuilt from the content shown (and in place
    of its inclusion proof, the API's refusal to give it, if it refused)."""
    entry_id = str(_walk(node, "id"))
    try:
        task_id = ids.task_id(str(node["taskId"]))
        index = int(node["leafIndex"])
        if task_id is None:
            raise VerificationFailure("the entry names no task")
        leaf = _leaf(node, task_id, "the entry")
        proof = node.get("inclusionProof")
        hashes = proof if proof is None or isinstance(proof, Refused) else _hashes(proof)
    except (KeyError, TypeError, ValueError) as error:
        raise VerificationFailure(f"the entry is malformed: {error}", entry_id) from None
    except VerificationFailure as failure:
        raise VerificationFailure(failure.reason, entry_id) from None
    return EntryProof(entry_id, leaf, index, hashes)


def rotation_from(node: Mapping[str, Any]) -> RotationProof:
    """A key rotation as the API shows it, its leaf rebuilt from the content shown."""
    index = _walk(node, "leafIndex")
    if not isinstance(index, int):
        raise VerificationFailure(f"the rotation is at leaf {str(index)[:20]!r}, not a number")
    try:
        leaf = _leaf(node, str(_walk(node, "taskId")), "the rotation entry")
        checkpoint = checkpoint_from(_walk(node, "checkpoint"))
        hashes = _hashes(_walk(node, "inclusionProof"))
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
    refusable: str = "",
) -> Iterator[Any]:
    """The nodes of the connection at `path` in the answers to `query`, page after page."""
    after: str | None = None
    while True:
        answer = api.data(query, {**variables, "after": after, "first": PAGE}, refusable=refusable)
        connection = _walk(answer, *path)
        edges = _walk(connection, "edges")
        if not isinstance(edges, list):
            raise VerificationFailure("the server sent a page whose edges are not a list")
        for edge in edges:
            yield _walk(edge, "node")
        if not _walk(connection, "pageInfo", "hasNextPage"):
            return
        after = _walk(connection, "pageInfo", "endCursor")


def _consistency(api: GraphQL, old: int, new: int) -> Proof:
    """The consistency proof from the tree of `old` entries to that of `new` (none needed
    from 0 or between equal sizes; a smaller `new` is for the verifier to refuse), or the
    API's refusal to give it, for the verifier to judge."""
    if not 0 < old < new:
        return []
    try:
        answer = api.data(CONSISTENCY, {"from": old, "to": new})
    except Refused as refused:
        return refused
    return _hashes(_walk(answer, "auditTree", "consistencyProof"))


def verify(api: GraphQL, public_key: bytes, user: str, state: StateFile) -> Outcome:
    """One run: see the module docstring. Keeps the new checkpoint only if all verified."""
    held = state.load()
    verifier = LogVerifier(public_key, user, held)
    latest: SignedCheckpoint | None = None
    served_key = ""

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
        try:
            tree = _walk(api.data(TREE), "auditTree")
        except Refused as refused:
            if held is None:  # nothing it signed to hold it to: a wrong URL, most likely
                raise AuditVerifyError(f"the API refused: {refused.answer}") from None
            raise verifier.refusal(held.checkpoint, "its latest checkpoint", refused) from None
        served_key = str(_walk(tree, "publicKey"))
        served = _walk(tree, "checkpoint")
        if served is None:
            if held is not None:
                raise VerificationFailure("the log has no checkpoint, but you hold one")
            return outcome(None)
        latest = checkpoint_from(served)
        # The rotations up to the latest checkpoint say which key must have signed it.
        bounds = {"from": verifier.anchor_size, "to": latest.tree_size}
        try:
            for node in _pages(api, ROTATIONS, ("auditTree", "keyRotations"), bounds):
                rotation = rotation_from(node)
                verifier.check_rotation(rotation)  # signed by the trusted key: ask its proof
                size = rotation.checkpoint.tree_size
                verifier.follow_rotation(rotation, _consistency(api, verifier.anchor_size, size))
        except Refused as refused:
            raise verifier.refusal(latest, "the key rotations", refused) from None
        verifier.check_signature(latest)  # before anything is asked on its behalf
        proof = _consistency(api, verifier.anchor_size, latest.tree_size)
        verifier.check_checkpoint(latest, proof)
        entries = {"treeSize": latest.tree_size}
        try:
            for node in _pages(api, ENTRIES, ("auditLog",), entries, refusable="inclusionProof"):
                verifier.check_entry(entry_from(node))
        except Refused as refused:
            raise verifier.refusal(latest, "your entries", refused) from None
        state.save(verifier.finish())
    except VerificationFailure as failure:
        return outcome(failure)
    return outcome(None)


def run(*, url: str, token: str, public_key: bytes, data: Path, timeout: float = 30.0) -> Outcome:
    user = user_of(token)
    with httpx.Client(timeout=timeout) as http:
        return verify(GraphQL(url, token, http), public_key, user, StateFile(data, url, user))
