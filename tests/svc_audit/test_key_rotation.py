"""The signing key at start: a key that did not sign the log is refused; a rotation on purpose
is one entry signed by the old key, however many replicas start with it; a replica left on the
old key stops signing; a lost key is replaced only when named, and verifiers must re-pin."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import grpc
import pytest

from svc_audit import checkpoints
from svc_audit.key_check import take_up_key
from svc_audit.key_entries import REPLACED
from svc_audit.sequencer import RetiredKey, Sequencer
from svc_audit.service import SCHEMA
from svc_audit.service import SERVICE as AUDIT
from svc_audit.settings import AuditSettings
from tests.support.infra import eventually
from tests.svc_audit.conftest import (
    PUBLIC_KEY,
    SIGNING_KEY,
    Publisher,
    RunningAudit,
    StartAudit,
    new_task,
    new_user,
    rotations,
    signed,
    task_event,
    task_record,
    verify,
)
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.config import ConfigError, DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.service import migrate_service
from todo_transparency.checkpoints import SignedCheckpoint, SigningKey, public_key_text
from todo_transparency.rotations import ROTATED
from todo_transparency.verification import VerificationFailure

K1 = SigningKey(SIGNING_KEY)  # what the other tests' logs are signed with
K2_TEXT, K3_TEXT = SigningKey.generate_text(), SigningKey.generate_text()
K2, K3 = SigningKey(K2_TEXT), SigningKey(K3_TEXT)
TO_K2 = {"TODO_AUDIT_SIGNING_KEY": K2_TEXT, "TODO_AUDIT_PREVIOUS_SIGNING_KEY": SIGNING_KEY}
TO_K3 = {"TODO_AUDIT_SIGNING_KEY": K3_TEXT, "TODO_AUDIT_PREVIOUS_SIGNING_KEY": K2_TEXT}


async def _events(publish: Publisher, user: str, count: int) -> None:
    await publish.send(
        [
            task_record(task_event(new_task(user, f"task {n}"), task_pb2.CHANGE_KIND_CREATED))
            for n in range(count)
        ]
    )


async def _log_entries(tables: asyncpg.Pool[Any]) -> list[asyncpg.Record]:
    """The log's entries about itself (owner ''), in order."""
    return await tables.fetch(
        "SELECT leaf_index, type, task_id, actor, owner_sequence, changes FROM entries"
        " WHERE owner_id = '' ORDER BY leaf_index"
    )


async def _checkpoints(tables: asyncpg.Pool[Any]) -> list[SignedCheckpoint]:
    rows = await tables.fetch("SELECT * FROM checkpoints ORDER BY tree_size")
    return [checkpoints.from_row(row) for row in rows]


async def _first_log(start_audit: StartAudit, publish: Publisher, user: str) -> RunningAudit:
    """svc_audit signing with K1, `user` with two entries covered by a checkpoint."""
    audit = await start_audit()
    await _events(publish, user, 2)
    await signed(audit, user, 2)
    return audit


async def test_a_key_that_did_not_sign_the_log_is_refused_at_start(
    start_audit: StartAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    audit = await _first_log(start_audit, publish, user)
    before = await _checkpoints(tables)

    with pytest.raises(ConfigError) as refused:
        await start_audit(TODO_AUDIT_SIGNING_KEY=K2_TEXT)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"TODO_AUDIT_SIGNING_KEY (key id {K2.key_id}) is not the audit log's")
    assert f"signed by key id {K1.key_id}" in message
    assert "verifiers that pinned that key would report a forged log" in message
    assert f"set TODO_AUDIT_SIGNING_KEY to the log's key (key id {K1.key_id})" in message
    assert "set TODO_AUDIT_PREVIOUS_SIGNING_KEY to that key" in message
    assert f"TODO_AUDIT_REPLACE_LOST_KEY={K1.key_id}" in message
    assert "docs/operations.md#rotating-the-signing-key" in message

    # A previous key that is not the log's either is named too; a wrong lost key id is refused.
    with pytest.raises(
        ConfigError, match=f"nor is TODO_AUDIT_PREVIOUS_SIGNING_KEY, key id {K3.key_id}"
    ):
        await start_audit(TODO_AUDIT_SIGNING_KEY=K2_TEXT, TODO_AUDIT_PREVIOUS_SIGNING_KEY=K3_TEXT)
    with pytest.raises(ConfigError, match="TODO_AUDIT_REPLACE_LOST_KEY=0badc0de does not name"):
        await start_audit(TODO_AUDIT_SIGNING_KEY=K2_TEXT, TODO_AUDIT_REPLACE_LOST_KEY="0badc0de")

    assert await _checkpoints(tables) == before  # refusing wrote nothing
    assert await _log_entries(tables) == []
    assert (await verify(audit, user)).entries == 2


async def test_an_empty_log_takes_any_key(database_url: str, start_audit: StartAudit) -> None:
    await migrate_service(database_url, AUDIT)
    pool = await create_pool(DatabaseConfig(database_url, 1, 2), SCHEMA)
    try:
        for key in (K2, K3):  # no checkpoint yet: nothing to match
            await take_up_key(pool, SCHEMA, AuditSettings(key))
        assert await pool.fetchval("SELECT count(*) FROM checkpoints") == 0
        audit = await start_audit(TODO_AUDIT_SIGNING_KEY=K3_TEXT)

        async def first_signed() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM checkpoints"))

        await eventually(first_signed, 30)
        [first] = [
            checkpoints.from_row(row) for row in await pool.fetch("SELECT * FROM checkpoints")
        ]
        assert first.tree_size == 0
        assert first.verifies_with(K3.public_key)
        response: pb.GetCheckpointResponse = await audit.call(
            new_user(), "GetCheckpoint", pb.GetCheckpointRequest()
        )
        assert response.public_key == K3.public_key
    finally:
        await pool.close()


async def test_two_replicas_with_a_new_key_rotate_once_signed_by_the_old(
    start_audit: StartAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    first = await _first_log(start_audit, publish, user)
    held = await verify(first, user)  # what a verifier pinning K1 holds
    await first.stop()

    replicas = await asyncio.gather(start_audit(**TO_K2), start_audit(**TO_K2))
    [rotation] = await _log_entries(tables)
    assert rotation["type"] == ROTATED
    assert str(rotation["task_id"]) == "00000000-0000-0000-0000-000000000000"
    assert rotation["actor"] == "operator"
    assert rotation["owner_sequence"] == 1
    assert rotation["changes"] == [
        {
            "field": "signing_key",
            "before": public_key_text(K1.public_key),
            "after": public_key_text(K2.public_key),
        }
    ]
    index = rotation["leaf_index"]
    signed_at_rotation = (await _checkpoints(tables))[-1]
    assert signed_at_rotation.tree_size == index + 1
    assert signed_at_rotation.verifies_with(K1.public_key)
    assert not signed_at_rotation.verifies_with(K2.public_key)
    # The rotation's checkpoint is the latest: the server's check and a K1 verifier accept it.
    verification: pb.VerifyAuditLogResponse = await replicas[0].call(
        user, "VerifyAuditLog", pb.VerifyAuditLogRequest()
    )
    assert verification.ok, verification.reason
    assert (await verify(replicas[1], user, held)).trusted_key == K2.public_key

    await _events(publish, user, 3)
    await signed(replicas[0], user, 5)
    later = [c for c in await _checkpoints(tables) if c.tree_size > index + 1]
    assert later
    assert all(c.verifies_with(K2.public_key) and not c.verifies_with(K1.public_key) for c in later)
    kept = await verify(replicas[1], user, held)
    assert (kept.entries, kept.trusted_key, kept.pinned_key) == (5, K2.public_key, PUBLIC_KEY)
    verification = await replicas[1].call(user, "VerifyAuditLog", pb.VerifyAuditLogRequest())
    assert verification.ok, verification.reason

    await start_audit(**TO_K2)  # a restart with the same pair finds the rotation done
    await start_audit(TODO_AUDIT_SIGNING_KEY=K2_TEXT)  # and so does the new key alone
    assert len(await _log_entries(tables)) == 1


async def test_a_replica_left_on_the_old_key_stops_signing(
    start_audit: StartAudit,
    publish: Publisher,
    tables: asyncpg.Pool[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    user = new_user()
    old = await _first_log(start_audit, publish, user)  # keeps running: a rolling update
    new = await start_audit(**TO_K2)
    [rotation] = await _log_entries(tables)

    await _events(publish, user, 4)  # both replicas' sequencers wake; only K2's may append
    await signed(new, user, 6)

    def refused() -> bool:
        return "is no longer the audit log's key" in caplog.text

    await eventually(refused, 30)
    assert f"TODO_AUDIT_SIGNING_KEY (key id {K1.key_id}) is no longer" in caplog.text
    after = [c for c in await _checkpoints(tables) if c.tree_size > rotation["leaf_index"] + 1]
    assert after
    assert not any(c.verifies_with(K1.public_key) for c in after)
    with pytest.raises(RetiredKey, match=f"was signed by key id {K2.key_id}"):
        await Sequencer(tables, SCHEMA, AuditSettings(K1)).append_batch()
    # Restarted with the old key alone, it is refused at start.
    with pytest.raises(ConfigError, match=f"was signed by key id {K2.key_id}"):
        await start_audit()
    assert (await verify(old, user)).trusted_key == K2.public_key  # reads still served


async def test_a_verifier_follows_two_rotations_page_by_page(
    start_audit: StartAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    first = await _first_log(start_audit, publish, user)
    await first.stop()
    second = await start_audit(**TO_K2)
    await _events(publish, user, 1)
    await signed(second, user, 3)
    with pytest.raises(
        ConfigError, match=f"nor is TODO_AUDIT_PREVIOUS_SIGNING_KEY, key id {K1.key_id}"
    ):
        await start_audit(
            TODO_AUDIT_SIGNING_KEY=K3_TEXT, TODO_AUDIT_PREVIOUS_SIGNING_KEY=SIGNING_KEY
        )
    await second.stop()
    third = await start_audit(**TO_K3)
    await _events(publish, user, 1)
    await signed(third, user, 4)

    one, two = await _log_entries(tables)
    assert [row["owner_sequence"] for row in (one, two)] == [1, 2]
    kept = await verify(third, user)  # pinned K1, nothing held: follows both
    assert (kept.entries, kept.trusted_key) == (4, K3.public_key)
    served = await rotations(third, user, one["leaf_index"] + 1, 0)
    assert [rotation.leaf_index for rotation in served] == [two["leaf_index"]]
    assert await rotations(third, user, 0, two["leaf_index"]) == await rotations(
        third, user, 0, one["leaf_index"] + 1
    )
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await third.call(user, "ListKeyRotations", pb.ListKeyRotationsRequest(from_tree_size=-1))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_lost_key_is_replaced_only_when_named_and_verifiers_must_re_pin(
    start_audit: StartAudit,
    publish: Publisher,
    tables: asyncpg.Pool[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = new_user()
    first = await _first_log(start_audit, publish, user)
    held = await verify(first, user)
    await first.stop()
    lost = {"TODO_AUDIT_SIGNING_KEY": K3_TEXT}

    with pytest.raises(
        ConfigError,
        match=f"may replace only that key \\(TODO_AUDIT_REPLACE_LOST_KEY={K1.key_id}\\)",
    ):
        await start_audit(**lost, TODO_AUDIT_REPLACE_LOST_KEY=K2.key_id)
    replaced = await start_audit(**lost, TODO_AUDIT_REPLACE_LOST_KEY=K1.key_id)
    [warning] = [r for r in caplog.records if "replaced the lost audit signing key" in r.message]
    assert warning.levelno == logging.WARNING
    assert "re-pin" in warning.message

    [entry] = await _log_entries(tables)
    assert entry["type"] == REPLACED
    assert entry["changes"] == [
        {"field": "key_id", "before": K1.key_id, "after": K3.key_id},
        {"field": "signing_key", "before": None, "after": public_key_text(K3.public_key)},
    ]
    latest = (await _checkpoints(tables))[-1]
    assert latest.tree_size == entry["leaf_index"] + 1
    assert latest.verifies_with(K3.public_key)
    assert await rotations(replaced, user, 0, 0) == []  # not a rotation: nothing to follow

    with pytest.raises(VerificationFailure, match="not signed by the pinned key"):
        await verify(replaced, user, held)  # still pinning K1
    kept = await verify(replaced, user, held, public_key=K3.public_key)  # re-pinned
    assert kept.entries == 2

    await start_audit(**lost, TODO_AUDIT_REPLACE_LOST_KEY=K1.key_id)  # left set: nothing more
    assert len(await _log_entries(tables)) == 1
