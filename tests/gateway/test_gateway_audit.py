"""A task's history through GraphQL, and `todo audit verify` against it, in front of the real
svc_tasks and svc_audit."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from svc_audit.service import SERVICE as AUDIT
from tests.support.gateway.gateway_harness import (
    COMPLETE,
    UPDATE,
    GatewayClient,
    create_task,
    make_config,
    new_user,
    running_client,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks, eventually, service_config
from tests.svc_audit.conftest import PUBLIC_KEY, SIGNING_KEY
from todo_cli import audit_verify
from todo_cli.broker import free_port
from todo_cli.main import main
from todo_runtime import endpoints
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.runner import RunningService, start_service
from todo_transparency import merkle
from todo_transparency.checkpoints import (
    Checkpoint,
    SignedCheckpoint,
    SigningKey,
    public_key_text,
)

WITHIN = 30.0

HISTORY = """query($taskId: ID, $first: Int, $after: String, $newestFirst: Boolean) {
  auditLog(taskId: $taskId, first: $first, after: $after, newestFirst: $newestFirst) {
    edges { cursor node { id eventId type taskId actor at leafIndex
      changes { field before after } } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on AuditEntry { type changes { field after } } } }"""
TREE = """query($from: Int!, $to: Int!) { auditTree {
  publicKey checkpoint { treeSize rootHash signature body }
  consistencyProof(fromTreeSize: $from, toTreeSize: $to) { fromTreeSize toTreeSize hashes }
} }"""
PROOF = """query($taskId: ID, $treeSize: Int!) { auditLog(taskId: $taskId) { edges { node {
  id eventId type taskId actor at ownerId ownerSequence leafIndex changes { field before after }
  inclusionProof(treeSize: $treeSize) { leafIndex treeSize hashes } } } } }"""
VERIFY = "{ verifyAuditLog { ok entries firstBrokenEntryId reason pendingEntries } }"


@pytest.fixture
async def audit_service(tasks_service: RunningTasks) -> AsyncIterator[RunningService]:
    config = service_config(
        endpoints.AUDIT,
        tasks_service.config.database.url,
        tasks_service.config.kafka.bootstrap_servers,
        TODO_AUDIT_SIGNING_KEY=SIGNING_KEY,
        TODO_AUDIT_CHECKPOINT_SECONDS="0.2",
    )
    service = await start_service(AUDIT, config)
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def client(
    tasks_service: RunningTasks, audit_service: RunningService
) -> AsyncIterator[GatewayClient]:
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        audit_address=f"127.0.0.1:{audit_service.port}",
    )
    async with running_client(config) as gateway:
        yield gateway


async def _history(client: GatewayClient, task_id: str, count: int) -> list[dict[str, Any]]:
    """The task's entries, oldest first, once there are `count` (consuming takes a moment)."""

    async def arrived() -> bool:
        data = await client.data(HISTORY, {"taskId": task_id})
        return len(data["auditLog"]["edges"]) == count

    await eventually(arrived, WITHIN)
    data = await client.data(HISTORY, {"taskId": task_id})
    return [edge["node"] for edge in data["auditLog"]["edges"]]


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_a_tasks_history_says_what_changed_who_and_when(client: GatewayClient) -> None:
    task = await create_task(client, title="Water the plants", tags=["home"])
    await client.data(
        UPDATE,
        {
            "input": {
                "id": task["id"],
                "title": "Water the ferns",
                "priority": "HIGH",
                "dueAt": "2026-03-01T09:00:00+01:00",
                "timeZone": "Europe/Berlin",
            },
        },
    )
    await client.data(COMPLETE, {"id": task["id"]})

    created, updated, completed = await _history(client, task["id"], 3)
    assert [created["type"], updated["type"], completed["type"]] == [
        "todo.task.created",
        "todo.task.updated",
        "todo.task.completed",
    ]
    assert {entry["taskId"] for entry in (created, updated, completed)} == {task["id"]}
    assert {entry["actor"] for entry in (created, updated, completed)} == {client.user}
    assert created["at"] <= updated["at"] <= completed["at"]
    changed = {change["field"]: change for change in updated["changes"]}
    assert changed["title"] == {
        "field": "title",
        "before": "Water the plants",
        "after": "Water the ferns",
    }
    assert changed["priority"]["before"] == "NONE"
    assert changed["priority"]["after"] == "HIGH"
    assert changed["due_time"] == {
        "field": "due_time",
        "before": None,
        "after": "2026-03-01T09:00:00+01:00[Europe/Berlin]",
    }
    assert {"field": "status", "before": "OPEN", "after": "COMPLETED"} in completed["changes"]

    newest = await client.data(HISTORY, {"taskId": task["id"], "newestFirst": True})
    assert [edge["node"]["id"] for edge in newest["auditLog"]["edges"]] == [
        completed["id"],
        updated["id"],
        created["id"],
    ]
    first = await client.data(HISTORY, {"taskId": task["id"], "first": 2})
    assert first["auditLog"]["totalCount"] == 3
    assert first["auditLog"]["pageInfo"]["hasNextPage"]
    rest = await client.data(
        HISTORY, {"taskId": task["id"], "after": first["auditLog"]["pageInfo"]["endCursor"]}
    )
    assert [edge["node"]["id"] for edge in rest["auditLog"]["edges"]] == [completed["id"]]
    assert not rest["auditLog"]["pageInfo"]["hasNextPage"]

    node = await client.data(NODE, {"id": updated["id"]})
    assert node["node"]["__typename"] == "AuditEntry"
    assert node["node"]["id"] == updated["id"]


async def test_another_users_history_is_never_shown(client: GatewayClient) -> None:
    task = await create_task(client)
    [entry] = await _history(client, task["id"], 1)
    stranger = new_user()
    data = await client.data(HISTORY, {"taskId": task["id"]}, user=stranger)
    assert data["auditLog"] == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 0,
    }
    foreign = await client.execute(NODE, {"id": entry["id"]}, user=stranger)
    assert foreign["data"] == {"node": None}
    assert _codes(foreign) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 0},
        {"first": 100_000},
        {"after": "not-a-cursor"},
        {"taskId": "not-an-id"},
    ],
    ids=["first 0", "first too big", "bad cursor", "bad task id"],
)
async def test_bad_input_is_bad_user_input(
    client: GatewayClient, variables: dict[str, Any]
) -> None:
    body = await client.execute(HISTORY, variables)
    assert body["data"] is None
    assert _codes(body) in (["BAD_USER_INPUT"], ["NOT_FOUND"])
    if "taskId" not in variables:
        assert _codes(body) == ["BAD_USER_INPUT"]


async def test_proofs_checkpoints_and_the_key_verify(client: GatewayClient) -> None:
    tasks = [await create_task(client, title=f"task {n}") for n in range(3)]
    for task in tasks:
        await _history(client, task["id"], 1)

    async def checkpointed() -> bool:
        data = await client.data(TREE, {"from": 0, "to": 0})
        checkpoint = data["auditTree"]["checkpoint"]
        return checkpoint is not None and checkpoint["treeSize"] >= 3

    await eventually(checkpointed, WITHIN)
    tree = (await client.data(TREE, {"from": 0, "to": 0}))["auditTree"]
    assert tree["publicKey"] == public_key_text(PUBLIC_KEY)
    size = tree["checkpoint"]["treeSize"]
    root = base64.b64decode(tree["checkpoint"]["rootHash"])
    assert tree["checkpoint"]["body"].splitlines()[1] == str(size)

    consistency = (await client.data(TREE, {"from": 1, "to": size}))["auditTree"]
    hashes = [base64.b64decode(h) for h in consistency["consistencyProof"]["hashes"]]
    assert consistency["consistencyProof"]["fromTreeSize"] == 1
    assert len(hashes) > 0

    data = await client.data(PROOF, {"taskId": tasks[1]["id"], "treeSize": size})
    [node] = [edge["node"] for edge in data["auditLog"]["edges"]]
    assert node["inclusionProof"]["treeSize"] == size
    entry = audit_verify.entry_from(node)  # the leaf recomputed from the content shown
    assert isinstance(entry.proof, list)  # a proof, not null nor refused
    assert merkle.verify_inclusion(entry.leaf_index, size, entry.leaf.hash(), entry.proof, root)
    node["changes"][0]["after"] = "something else"
    changed = audit_verify.entry_from(node)
    assert not merkle.verify_inclusion(
        changed.leaf_index, size, changed.leaf.hash(), entry.proof, root
    )

    verification = (await client.data(VERIFY))["verifyAuditLog"]
    assert verification == {
        "ok": True,
        "entries": 3,
        "firstBrokenEntryId": None,
        "reason": None,
        "pendingEntries": 0,
    }
    bad = await client.execute(TREE, {"from": size, "to": 1})
    assert _codes(bad) == ["BAD_USER_INPUT"]
    unsigned = await client.http.post("/graphql", json={"query": VERIFY})
    assert unsigned.status_code == 401
    assert _codes(unsigned.json()) == ["UNAUTHENTICATED"]


async def test_todo_audit_verify_keeps_the_checkpoint_and_catches_a_rollback(
    tasks_service: RunningTasks,
    audit_service: RunningService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        audit_address=f"127.0.0.1:{audit_service.port}",
    )
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path / "data"))
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public_key_text(PUBLIC_KEY) + "\n", encoding="utf-8")
    async with running_client(config) as client, serving(config) as ws_url:
        url = ws_url.replace("ws://", "http://")
        token = token_for(client.user)

        async def todo_audit_verify(key: Path = key_file) -> int:
            argv = ["audit", "verify", "--url", url, "--token", token, "--public-key", str(key)]
            return await asyncio.to_thread(main, argv)

        task = await create_task(client)
        await _history(client, task["id"], 1)
        await client.data(COMPLETE, {"id": task["id"]})
        await _history(client, task["id"], 2)

        async def all_verified() -> bool:
            assert await todo_audit_verify() == 0
            return "ok: 2 entries verified" in capsys.readouterr().out

        await eventually(all_verified, WITHIN)
        state = list((tmp_path / "data").rglob("*.json"))
        assert state, "the verified checkpoint is kept in the data directory"

        forged_key = tmp_path / "forged.pub"
        forged_key.write_text(public_key_text(bytes(32)), encoding="utf-8")
        assert await todo_audit_verify(forged_key) == 1
        assert "not signed by the pinned key" in capsys.readouterr().out

        # Someone with the database restores it as it was before the second entry.
        pool = await create_pool(DatabaseConfig(tasks_service.config.database.url, 1, 1), "audit")
        try:
            async with pool.acquire() as conn:
                size = await conn.fetchval(
                    "SELECT max(tree_size) FROM checkpoints WHERE tree_size < 2"
                )
                for table in ("entries", "tree_nodes", "checkpoints"):
                    await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                await conn.execute("DELETE FROM entries WHERE leaf_index >= $1", size)
                await conn.execute(
                    "DELETE FROM tree_nodes WHERE (index + 1) * (1::bigint << level) > $1", size
                )
                await conn.execute("DELETE FROM checkpoints WHERE tree_size > $1", size)
        finally:
            await pool.close()
        assert await todo_audit_verify() == 1
        assert "FAILED at the checkpoint: the log shrank" in capsys.readouterr().out


async def test_todo_audit_verify_fails_a_checkpoint_the_log_cannot_back(
    tasks_service: RunningTasks,
    audit_service: RunningService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A checkpoint row claiming more entries than the log holds: forged, it fails as forged
    before any proof is asked; signed with the log's key, it fails on the proof the server
    cannot give. Neither is "could not run" (2), which a token the gateway refuses is."""
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        audit_address=f"127.0.0.1:{audit_service.port}",
    )
    monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path / "data"))
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public_key_text(PUBLIC_KEY), encoding="utf-8")
    pool = await create_pool(DatabaseConfig(tasks_service.config.database.url, 1, 1), "audit")
    try:
        async with running_client(config) as client, serving(config) as ws_url:
            url = ws_url.replace("ws://", "http://")

            async def todo_audit_verify(token: str = token_for(client.user)) -> tuple[int, str]:
                argv = ["audit", "verify", "--url", url, "--token", token]
                code = await asyncio.to_thread(main, [*argv, "--public-key", str(key_file)])
                return code, capsys.readouterr().out

            task = await create_task(client)
            await _history(client, task["id"], 1)

            async def verified() -> bool:
                code, output = await todo_audit_verify()
                return code == 0 and output.startswith("ok: 1 entries verified")

            await eventually(verified, WITHIN)
            stranger = token_for(client.user, secret="not the gateway's secret, but long enough")
            code, output = await todo_audit_verify(stranger)
            assert code == 2, output
            assert output.startswith("todo audit verify: the API answered UNAUTHENTICATED: ")

            async def insert(signed: SignedCheckpoint) -> None:
                checkpoint = signed.checkpoint
                await pool.execute(
                    "INSERT INTO checkpoints (tree_size, origin, root_hash, signed_at, signature, "
                    "key_id) VALUES ($1, $2, $3, $4, $5, $6)",
                    checkpoint.tree_size,
                    checkpoint.origin,
                    checkpoint.root_hash,
                    checkpoint.signed_at,
                    signed.signature,
                    signed.key_id,
                )

            held = await pool.fetchval("SELECT max(tree_size) FROM checkpoints")
            origin = await pool.fetchval("SELECT origin FROM checkpoints LIMIT 1")
            key = SigningKey(SIGNING_KEY)
            forged = Checkpoint(origin, held + 100, bytes(32), datetime.now(UTC))
            await insert(SignedCheckpoint(forged, bytes(64), key.key_id))
            assert await todo_audit_verify() == (
                1,
                f"FAILED at the checkpoint: the checkpoint of size {held + 100} is not signed by "
                "the pinned key\n",
            )
            await insert(key.sign(Checkpoint(origin, held + 200, bytes(32), datetime.now(UTC))))
            assert await todo_audit_verify() == (
                1,
                f"FAILED at the checkpoint: the latest checkpoint of size {held + 200} is signed "
                "by the pinned key, but the server refused to prove it extends the checkpoint "
                f"you hold (size {held}): to_tree_size: must be at most the log's size\n",
            )
    finally:
        await pool.close()


async def test_todo_audit_verify_follows_the_key_through_two_rotations(
    tasks_service: RunningTasks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = str(free_port())  # svc_audit restarts on it with each new key; the gateway stays

    async def start_audit(**keys: str) -> RunningService:
        config = service_config(
            endpoints.AUDIT,
            tasks_service.config.database.url,
            tasks_service.config.kafka.bootstrap_servers,
            TODO_AUDIT_PORT=port,
            TODO_AUDIT_CHECKPOINT_SECONDS="0.2",
            **keys,
        )
        return await start_service(AUDIT, config)

    k2, k3 = SigningKey.generate_text(), SigningKey.generate_text()
    audit = await start_audit(TODO_AUDIT_SIGNING_KEY=SIGNING_KEY)
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        audit_address=f"127.0.0.1:{port}",
    )
    key_file = tmp_path / "audit.pub"
    key_file.write_text(public_key_text(PUBLIC_KEY), encoding="utf-8")  # pinned once: K1
    try:
        async with running_client(config) as client, serving(config) as ws_url:
            url = ws_url.replace("ws://", "http://")
            token = token_for(client.user)

            async def new_entry(entries: int) -> None:
                """One more task; waits until its entry and every other is signed."""
                await create_task(client)

                async def all_signed() -> bool:
                    body = await client.execute(VERIFY)  # errors while svc_audit restarts
                    check = (body.get("data") or {}).get("verifyAuditLog") or {}
                    return check.get("entries") == entries and check.get("pendingEntries") == 0

                await eventually(all_signed, WITHIN)

            async def verified(data: str = "data") -> str:
                """The output of `todo audit verify` with K1 pinned and `data` as data dir."""
                monkeypatch.setenv("TODO_DATA_DIR", str(tmp_path / data))
                argv = ["audit", "verify", "--url", url, "--token", token]
                code = await asyncio.to_thread(main, [*argv, "--public-key", str(key_file)])
                output = capsys.readouterr().out
                assert code == 0, output
                return output

            await new_entry(1)
            assert "followed" not in await verified()

            await audit.stop()  # K1 -> K2, on purpose
            audit = await start_audit(
                TODO_AUDIT_SIGNING_KEY=k2, TODO_AUDIT_PREVIOUS_SIGNING_KEY=SIGNING_KEY
            )
            await new_entry(2)
            output = await verified()
            assert "ok: 2 entries verified" in output
            assert f"followed 1 key rotation to key {SigningKey(k2).key_id}" in output
            assert "warning" not in output

            await audit.stop()  # K2 -> K3
            audit = await start_audit(TODO_AUDIT_SIGNING_KEY=k3, TODO_AUDIT_PREVIOUS_SIGNING_KEY=k2)
            await new_entry(3)
            output = await verified()  # from the kept state: K2 trusted, one more rotation
            assert "ok: 3 entries verified" in output
            assert f"followed 1 key rotation to key {SigningKey(k3).key_id}" in output
            output = await verified("fresh")  # nothing kept: K1 pinned, both rotations
            assert f"followed 2 key rotations to key {SigningKey(k3).key_id}" in output
            verification = (await client.data(VERIFY))["verifyAuditLog"]
            assert verification["ok"], verification

            state = json.loads(next((tmp_path / "data").rglob("*.json")).read_text("utf-8"))
            assert state["pinnedKey"] == public_key_text(PUBLIC_KEY)
            assert state["trustedKey"] == public_key_text(SigningKey(k3).public_key)
            assert "followed" not in await verified()  # nothing new to follow
    finally:
        await audit.stop()
