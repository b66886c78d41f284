"""`todo audit verify`'s verdict on each kind of answer, as its exit code and message: run as
the command, against a small GraphQL endpoint that serves a log held in memory, honestly or
with one answer forged as no real server gives it (tests/gateway/test_gateway_audit.py runs it
against the real gateway and services).

0: verified. 1: the log, or an answer about a checkpoint the server served, contradicts what
was signed (a refusal included). 2: it could not run (the network, HTTP 5xx, UNAVAILABLE, the
token refused)."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway import ids
from tests.svc_audit.test_rotation_verifier import K1, K2, K3, NOW, USER, MemoryLog
from todo_cli import audit_verify
from todo_cli.broker import free_port
from todo_cli.main import main
from todo_runtime.tokens import issue_token
from todo_transparency.canonical import instant_text
from todo_transparency.checkpoints import Checkpoint, SignedCheckpoint, SigningKey, public_key_text
from todo_transparency.entries import AuditLeaf
from todo_transparency.verification import RotationProof

TOKEN = issue_token("a test secret, only ever for this fake API", USER, 300)
QUERIES = {
    audit_verify.TREE: "tree",
    audit_verify.ROTATIONS: "rotations",
    audit_verify.CONSISTENCY: "consistency",
    audit_verify.ENTRIES: "entries",
}
Answer = tuple[int, Any]  # HTTP status, and the JSON body (a str: sent as plain text)
Forge = Callable[[dict[str, Any]], Answer]  # a forged answer to a query, by its variables
ENTRY_PROOF = ("auditLog", "edges", 0, "node", "inclusionProof")
SIGNED_AT = instant_text(NOW)
# Printed when the server signs with K2 and no rotation to it was followed.
ROTATED_WARNING = (
    f"warning: the server signs with key {public_key_text(K2.public_key)}, not the one you pinned\n"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _error(code: str, message: str, *path: str | int) -> dict[str, Any]:
    return {"message": message, "path": list(path), "extensions": {"code": code}}


def _refused(code: str, message: str, *path: str | int) -> Answer:
    """A whole answer refused, as the gateway refuses it (the error nulls a non-null field)."""
    return 200, {"data": None, "errors": [_error(code, message, *path)]}


def _checkpoint(signed: SignedCheckpoint) -> dict[str, Any]:
    checkpoint = signed.checkpoint
    return {
        "origin": checkpoint.origin,
        "treeSize": checkpoint.tree_size,
        "rootHash": _b64(checkpoint.root_hash),
        "signedAt": instant_text(checkpoint.signed_at),
        "signature": _b64(signed.signature),
        "keyId": signed.key_id,
    }


def _content(leaf: AuditLeaf, index: int) -> dict[str, Any]:
    return {
        "leafIndex": index,
        "eventId": leaf.event_id,
        "type": leaf.type,
        "actor": leaf.actor,
        "at": instant_text(leaf.time),
        "ownerId": leaf.owner,
        "ownerSequence": leaf.owner_sequence,
        "changes": [
            {"field": change.field, "before": change.before, "after": change.after}
            for change in leaf.changes
        ],
    }


class FakeAPI:
    """Answers the queries of `todo audit verify` from `log`, as the gateway would, except the
    ones `forged` answers instead (by name: tree, rotations, consistency, entries)."""

    def __init__(self) -> None:
        self.log = MemoryLog()
        self.key = K1  # the key that signs now
        self.latest: SignedCheckpoint | None = None
        self.rotations: list[RotationProof] = []
        self.forged: dict[str, Forge] = {}
        self.asked: list[str] = []

    def sign(self) -> None:
        self.latest = self.log.checkpoint(self.key)

    def rotate(self, new: SigningKey) -> None:
        self.rotations.append(self.log.rotation(self.key, new))
        self.key = new

    def answer(self, query: str, variables: dict[str, Any]) -> Answer:
        name = QUERIES[query]
        self.asked.append(name)
        forged = self.forged.get(name)
        if forged is not None:
            return forged(variables)
        honest: Forge = getattr(self, f"_{name}")
        return honest(variables)

    def _tree(self, variables: dict[str, Any]) -> Answer:
        checkpoint = None if self.latest is None else _checkpoint(self.latest)
        tree = {"publicKey": public_key_text(self.key.public_key), "checkpoint": checkpoint}
        return 200, {"data": {"auditTree": tree}}

    def _rotations(self, variables: dict[str, Any]) -> Answer:
        low, high = variables["from"], variables["to"] or len(self.log.leaves)
        edges = [
            {
                "node": {
                    **_content(rotation.leaf, rotation.leaf_index),
                    "taskId": rotation.leaf.task_id,
                    "checkpoint": _checkpoint(rotation.checkpoint),
                    "inclusionProof": {"hashes": [_b64(hash) for hash in rotation.proof]},
                }
            }
            for rotation in self.rotations
            if low <= rotation.leaf_index < high
        ]
        page = {"edges": edges, "pageInfo": {"hasNextPage": False, "endCursor": None}}
        return 200, {"data": {"auditTree": {"keyRotations": page}}}

    def _consistency(self, variables: dict[str, Any]) -> Answer:
        old, new = variables["from"], variables["to"]
        if new > len(self.log.leaves):  # what svc_audit answers, through the gateway
            message = "to_tree_size: must be at most the log's size"
            return _refused("BAD_USER_INPUT", message, "auditTree", "consistencyProof")
        hashes = [_b64(hash) for hash in self.log.consistency(old, new)]
        return 200, {"data": {"auditTree": {"consistencyProof": {"hashes": hashes}}}}

    def _entries(self, variables: dict[str, Any]) -> Answer:
        size = variables["treeSize"]
        edges: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, leaf in enumerate(self.log.leaves):
            if leaf.owner != USER:
                continue
            proof = None
            if index < size <= len(self.log.leaves):
                proof = {"hashes": [_b64(hash) for hash in self.log.inclusion(index, size)]}
            elif index < size:
                path = ("auditLog", "edges", len(edges), "node", "inclusionProof")
                message = (
                    "tree_size: must be more than the entry's leaf index and at most the log's size"
                )
                errors.append(_error("BAD_USER_INPUT", message, *path))
            node = {
                **_content(leaf, index),
                "id": ids.encode(ids.AUDIT_ENTRY, str(index)),
                "taskId": ids.encode(ids.TASK, leaf.task_id),
                "inclusionProof": proof,
            }
            edges.append({"node": node})
        page = {"edges": edges, "pageInfo": {"hasNextPage": False, "endCursor": None}}
        return 200, {"data": {"auditLog": page}, **({"errors": errors} if errors else {})}

    def honest(self, name: str, variables: dict[str, Any]) -> Any:
        """The honest answer's body (for a test to forge one part of it)."""
        honest: Forge = getattr(self, f"_{name}")
        return honest(variables)[1]


@contextlib.contextmanager
def _serving(api: FakeAPI) -> Iterator[str]:
    """`api` over HTTP on a free port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, body = api.answer(request["query"], request["variables"])
            text = isinstance(body, str)
            payload = (body if text else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the verdict, not the requests."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/graphql"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass
class Verifier:
    """`todo audit verify` against `url` with K1 pinned (its state in TODO_DATA_DIR)."""

    url: str
    key_file: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self) -> tuple[int, str]:
        argv = ["audit", "verify", "--url", self.url, "--token", TOKEN]
        code = main([*argv, "--public-key", str(self.key_file)])
        return code, self.capsys.readouterr().out


@pytest.fixture
def verifier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[FakeAPI, Verifier]]:
    """An honest log whose first checkpoint (3 entries, 2 of the user's) the verifier holds,
    grown by 2 more of the user's entries under a new checkpoint: for a test to forge."""
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(audit_verify.PUBLIC_KEY_ENV, raising=False)
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public_key_text(K1.public_key), encoding="utf-8")
    api = FakeAPI()
    api.log.entry()
    api.log.entry("bob")
    api.log.entry()
    api.sign()
    with _serving(api) as url:
        verify = Verifier(url, key_file, capsys)
        ok = f"ok: 2 entries verified against the checkpoint of 3 entries signed at {SIGNED_AT}\n"
        assert verify() == (0, ok)
        api.log.entry()
        api.log.entry()
        api.sign()
        api.asked.clear()
        yield api, verify


def _larger_than_the_log(api: FakeAPI, key: SigningKey) -> None:
    """A latest checkpoint, signed by `key`, of 100 entries more than the log holds."""
    size = len(api.log.leaves) + 100
    api.latest = key.sign(Checkpoint("todo.audit.v1", size, bytes(range(32)), NOW))


def test_honest_answers_verify_and_a_valid_rotation_is_followed(
    verifier: tuple[FakeAPI, Verifier],
) -> None:
    api, verify = verifier
    ok = f"ok: 4 entries verified against the checkpoint of 5 entries signed at {SIGNED_AT}\n"
    assert verify() == (0, ok)
    api.rotate(K2)
    api.log.entry()
    api.sign()
    code, output = verify()
    assert code == 0, output
    assert output.startswith("ok: 5 entries verified against the checkpoint of 7 entries")
    assert "followed 1 key rotation to key" in output
    assert "warning" not in output


def test_a_forged_checkpoint_fails_before_any_proof_is_asked(
    verifier: tuple[FakeAPI, Verifier],
) -> None:
    # The reported case: a checkpoint row claiming a larger tree than the log, not signed.
    api, verify = verifier
    _larger_than_the_log(api, K3)
    assert verify() == (
        1,
        "FAILED at the checkpoint: the checkpoint of size 105 is not signed by the pinned key\n",
    )
    assert api.asked == ["tree", "rotations"]  # no proof asked for it, no entries


def test_a_rotation_signed_by_another_key_fails_before_its_proof_is_asked(
    verifier: tuple[FakeAPI, Verifier],
) -> None:
    api, verify = verifier
    api.rotate(K2)
    [rotation] = api.rotations
    api.rotations = [replace(rotation, checkpoint=K3.sign(rotation.checkpoint.checkpoint))]
    api.sign()
    code, output = verify()
    assert code == 1
    assert output == (
        f"{ROTATED_WARNING}FAILED at the key rotation at leaf 5: the rotation's checkpoint "
        "(size 6) is not signed by the pinned key\n"
    )
    assert api.asked == ["tree", "rotations"]


def _always(answer: Answer) -> Callable[[FakeAPI], Forge]:
    """The same forged answer whatever is asked."""
    return lambda api: lambda variables: answer


def _no_checkpoint(size: int) -> Answer:
    """A consistency proof refused: there is no checkpoint of `size` (the one it served)."""
    message = f"no checkpoint of size {size}"
    return _refused("NOT_FOUND", message, "auditTree", "consistencyProof")


def _wrong_consistency(api: FakeAPI) -> Forge:
    def answer(variables: dict[str, Any]) -> Answer:
        proof = api.honest("consistency", variables)
        proof["data"]["auditTree"]["consistencyProof"]["hashes"][0] = _b64(bytes(32))
        return 200, proof

    return answer


def _wrong_inclusion(api: FakeAPI) -> Forge:
    def answer(variables: dict[str, Any]) -> Answer:
        entries = api.honest("entries", variables)
        entries["data"]["auditLog"]["edges"][0]["node"]["inclusionProof"]["hashes"][0] = _b64(
            bytes(32)
        )
        return 200, entries

    return answer


def _refused_inclusion(code: str, message: str) -> Callable[[FakeAPI], Forge]:
    """The first entry's inclusion proof refused with `code`, the rest of the page answered."""

    def forge(api: FakeAPI) -> Forge:
        def answer(variables: dict[str, Any]) -> Answer:
            entries = api.honest("entries", variables)
            entries["data"]["auditLog"]["edges"][0]["node"]["inclusionProof"] = None
            return 200, {**entries, "errors": [_error(code, message, *ENTRY_PROOF)]}

        return answer

    return forge


FIRST_ENTRY = ids.encode(ids.AUDIT_ENTRY, "0")
SIGNED = "the latest checkpoint of size 5 is signed by the pinned key, but the server refused"
UNAVAILABLE = "A service is temporarily unavailable; retry shortly."
PINNED = public_key_text(K1.public_key)
# What a forged answer does to the run (after a first run that verified the checkpoint of 3
# entries, with the log now at 5 under a new checkpoint): (query, forge, exit code, output).
VERDICTS: dict[str, tuple[str, Callable[[FakeAPI], Forge], int, str]] = {
    "wrong consistency proof": (
        "consistency",
        _wrong_consistency,
        1,
        "FAILED at the checkpoint: the latest checkpoint of size 5 is not consistent with the "
        "checkpoint you hold (size 3): the proof does not lead to the old root (history was "
        "rewritten)",
    ),
    "consistency proof refused": (
        "consistency",
        _always(_refused("BAD_USER_INPUT", "toTreeSize: no", "auditTree", "consistencyProof")),
        1,
        f"FAILED at the checkpoint: {SIGNED} to prove it extends the checkpoint you hold "
        "(size 3): toTreeSize: no",
    ),
    "served checkpoint denied": (
        "consistency",
        _always(_no_checkpoint(5)),
        1,
        f"FAILED at the checkpoint: {SIGNED} to prove it extends the checkpoint you hold "
        "(size 3): no checkpoint of size 5",
    ),
    "consistency proof lost (INTERNAL)": (
        "consistency",
        _always(_refused("INTERNAL", "Internal server error.", "auditTree", "consistencyProof")),
        1,
        f"FAILED at the checkpoint: {SIGNED} to prove it extends the checkpoint you hold "
        "(size 3): Internal server error.",
    ),
    "wrong inclusion proof": (
        "entries",
        _wrong_inclusion,
        1,
        f"FAILED at entry {FIRST_ENTRY}: the entry's content is not the leaf the signed tree "
        "holds (it was changed)",
    ),
    "inclusion proof refused": (
        "entries",
        _refused_inclusion("NOT_FOUND", "no checkpoint of size 5"),
        1,
        f"FAILED at entry {FIRST_ENTRY}: the server refused to prove the entry is in the signed "
        "checkpoint of size 5: no checkpoint of size 5",
    ),
    "entries refused": (
        "entries",
        _always(_refused("FORBIDDEN", "not yours", "auditLog")),
        1,
        "FAILED at the checkpoint: the server refused your entries for the checkpoint of size 5 "
        "signed by the pinned key: not yours",
    ),
    "key rotations refused": (
        "rotations",
        _always(_refused("BAD_USER_INPUT", "toTreeSize: too large", "auditTree", "keyRotations")),
        1,
        "FAILED at the checkpoint: the server refused the key rotations for the checkpoint of "
        "size 5 signed by the pinned key: toTreeSize: too large",
    ),
    "held checkpoint denied (no checkpoint)": (
        "tree",
        _always((200, {"data": {"auditTree": {"publicKey": PINNED, "checkpoint": None}}})),
        1,
        "FAILED at the checkpoint: the log has no checkpoint, but you hold one",
    ),
    "held checkpoint denied (refused)": (
        "tree",
        _always(_refused("NOT_FOUND", "no audit log", "auditTree")),
        1,
        "FAILED at the checkpoint: the server refused its latest checkpoint, though it signed "
        "the checkpoint you hold (size 3): no audit log",
    ),
    "HTTP 503": (
        "consistency",
        _always((503, "Service Unavailable")),
        2,
        "todo audit verify: {url} answered HTTP 503",
    ),
    "HTTP 502 with a GraphQL body": (
        "entries",
        lambda api: lambda variables: (502, api.honest("entries", variables)),
        2,
        "todo audit verify: {url} answered HTTP 502",
    ),
    "UNAVAILABLE": (
        "consistency",
        _always(_refused("UNAVAILABLE", UNAVAILABLE, "auditTree", "consistencyProof")),
        2,
        f"todo audit verify: the API answered UNAVAILABLE: {UNAVAILABLE}",
    ),
    "one inclusion proof UNAVAILABLE": (
        "entries",
        _refused_inclusion("UNAVAILABLE", UNAVAILABLE),
        2,
        f"todo audit verify: the API answered UNAVAILABLE: {UNAVAILABLE}",
    ),
    "RATE_LIMITED": (
        "entries",
        _always(_refused("RATE_LIMITED", "too costly; retry in 3 s")),
        2,
        "todo audit verify: the API answered RATE_LIMITED: too costly; retry in 3 s",
    ),
    "UNAUTHENTICATED": (
        "tree",
        _always(_refused("UNAUTHENTICATED", "the token expired", "auditTree")),
        2,
        "todo audit verify: the API answered UNAUTHENTICATED: the token expired",
    ),
    "401, the token refused before anything ran": (
        "tree",
        _always((401, {"errors": [_error("UNAUTHENTICATED", "token expired")]})),
        2,
        "todo audit verify: the API answered UNAUTHENTICATED: token expired",
    ),
    "401 without a GraphQL body": (
        "tree",
        _always((401, "Unauthorized")),
        2,
        "todo audit verify: {url} answered HTTP 401",
    ),
    "not GraphQL": (
        "tree",
        _always((404, "Not Found")),
        2,
        "todo audit verify: {url} answered HTTP 404, not GraphQL",
    ),
}


@pytest.mark.parametrize("verdict", VERDICTS.values(), ids=VERDICTS.keys())
def test_each_answer_gets_its_verdict(
    verifier: tuple[FakeAPI, Verifier],
    verdict: tuple[str, Callable[[FakeAPI], Forge], int, str],
) -> None:
    api, verify = verifier
    query, forge, expected_code, expected = verdict
    api.forged[query] = forge(api)
    code, output = verify()
    assert (code, output) == (expected_code, expected.format(url=verify.url) + "\n")
    api.forged.clear()  # the state kept is the first run's: honest answers verify again
    assert verify()[0] == 0


def test_a_proof_refused_for_a_signed_checkpoint_larger_than_the_log_fails(
    verifier: tuple[FakeAPI, Verifier],
) -> None:
    # What a key holder's checkpoint over a cut-off log gets: the server cannot prove it.
    api, verify = verifier
    _larger_than_the_log(api, K1)
    assert verify() == (
        1,
        "FAILED at the checkpoint: the latest checkpoint of size 105 is signed by the pinned "
        "key, but the server refused to prove it extends the checkpoint you hold (size 3): "
        "to_tree_size: must be at most the log's size\n",
    )


def test_a_refused_rotation_proof_fails_at_the_rotation(
    verifier: tuple[FakeAPI, Verifier],
) -> None:
    api, verify = verifier
    api.rotate(K2)
    api.log.entry()
    api.sign()
    size = api.rotations[0].checkpoint.tree_size
    api.forged["consistency"] = lambda variables: (
        _no_checkpoint(size)
        if variables["to"] == size
        else (200, api.honest("consistency", variables))
    )
    assert verify() == (
        1,
        f"{ROTATED_WARNING}FAILED at the key rotation at leaf 5: the rotation's checkpoint of "
        "size 6 is signed by the pinned key, but the server refused to prove it extends the "
        "checkpoint you hold (size 3): no checkpoint of size 6\n",
    )


def test_an_unreachable_gateway_could_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path))
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public_key_text(K1.public_key), encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}/graphql"
    code, output = Verifier(url, key_file, capsys)()
    assert code == 2
    assert output.startswith(f"todo audit verify: cannot reach {url}: ")
