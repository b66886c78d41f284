"""Append-only, and provably so: the database refuses changes, and every change made behind its
back (triggers disabled by a superuser) is caught by a verifier holding an earlier checkpoint."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from svc_audit.history import leaf_of
from svc_audit.service import SERVICE as AUDIT
from tests.support.infra import eventually
from tests.svc_audit.conftest import (
    Publisher,
    RunningAudit,
    new_task,
    new_user,
    signed,
    task_event,
    task_record,
    verify,
)
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.db import Connection
from todo_runtime.migrations import migrate
from todo_runtime.service import RUNTIME_MIGRATIONS
from todo_transparency import merkle
from todo_transparency.checkpoints import Checkpoint, SigningKey
from todo_transparency.verification import Held, VerificationFailure

LOG_TABLES: Final = ("entries", "tree_nodes", "checkpoints")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET actor = 'someone else'",
        "DELETE FROM entries",
        "TRUNCATE entries",
        "UPDATE tree_nodes SET hash = hash",
        "DELETE FROM tree_nodes",
        "TRUNCATE tree_nodes",
        "UPDATE checkpoints SET tree_size = 0",
        "DELETE FROM checkpoints",
        "TRUNCATE checkpoints",
    ],
)
async def test_the_database_refuses_changes(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any], statement: str
) -> None:
    user = new_user()
    await _events(publish, user, 2)  # two leaves: a tree node too
    await signed(audit, user, 2)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await tables.execute(statement)
    assert (await verify(audit, user)).entries == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET actor = 'someone else'",
        "DELETE FROM entries",
        "TRUNCATE entries",
        "UPDATE tree_nodes SET hash = hash",
        "DELETE FROM tree_nodes",
        "TRUNCATE checkpoints",
    ],
)
async def test_a_plain_role_that_owns_the_log_may_not_change_it(
    database_url: str, statement: str
) -> None:
    # As in production: a role that is no superuser migrates and owns the schema. Privileges are
    # checked before triggers run, so with its guards disabled by their owner it is still refused.
    role = f"audit_owner_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(database_url)
    try:
        database = await admin.fetchval("SELECT current_database()")
        await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
        await admin.execute(f'GRANT CREATE ON DATABASE "{database}" TO {role}')
    finally:
        await admin.close()
    parts = urlsplit(database_url)
    owner_url = urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}"))
    schema = f"audit_{role}"
    try:
        await migrate(owner_url, schema, [RUNTIME_MIGRATIONS, AUDIT.migrations])
        owner = await asyncpg.connect(owner_url, server_settings={"search_path": schema})
        try:
            for table in LOG_TABLES:
                await owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await owner.execute(statement)
        finally:
            await owner.close()
    finally:
        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute(f"DROP OWNED BY {role}; DROP ROLE {role}")
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def triggers_disabled(tables: asyncpg.Pool[Any]) -> AsyncIterator[Connection]:
    """A superuser's connection with the log's guards off, as an attacker with the database would
    have it; the guards are back on afterwards."""
    async with tables.acquire() as conn:
        for table in LOG_TABLES:
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield conn
        finally:
            for table in LOG_TABLES:
                await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


async def _events(publish: Publisher, user: str, count: int) -> None:
    await publish.send(
        [
            task_record(task_event(new_task(user, f"task {n}"), task_pb2.CHANGE_KIND_CREATED))
            for n in range(count)
        ]
    )


async def _held(audit: RunningAudit, publish: Publisher, user: str, count: int) -> Held:
    """`user` with `count` entries, all signed, and what a verifier holds after checking them."""
    await _events(publish, user, count)
    await signed(audit, user, count)
    held = await verify(audit, user)
    assert held.entries == count
    return held


async def _detected(audit: RunningAudit, user: str, held: Held) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as failure:
        await verify(audit, user, held)
    return failure.value


async def test_a_changed_row(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    held = await _held(audit, publish, user, 6)
    entries = await audit.entries(user)
    async with triggers_disabled(tables) as conn:
        await conn.execute(
            "UPDATE entries SET changes = $1::jsonb WHERE leaf_index = $2",
            [{"field": "title", "before": None, "after": "something else"}],
            entries[3].leaf_index,
        )
    failure = await _detected(audit, user, held)
    assert failure.entry_id == entries[3].id
    assert "changed" in failure.reason
    on_server: pb.VerifyAuditLogResponse = await audit.call(
        user, "VerifyAuditLog", pb.VerifyAuditLogRequest()
    )
    assert not on_server.ok
    assert on_server.first_broken_entry_id == entries[3].id


async def test_a_deleted_row(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    held = await _held(audit, publish, user, 6)
    entries = await audit.entries(user)
    async with triggers_disabled(tables) as conn:
        await conn.execute("DELETE FROM entries WHERE leaf_index = $1", entries[2].leaf_index)
    failure = await _detected(audit, user, held)
    assert failure.entry_id == entries[3].id
    assert "number 3 is missing" in failure.reason


async def _cut_back_to(conn: Connection, size: int) -> None:
    """Removes every entry from `size` on, the tree nodes over them and the checkpoints of more:
    the log as it was at `size`, with every remaining checkpoint genuine."""
    await conn.execute("DELETE FROM entries WHERE leaf_index >= $1", size)
    await conn.execute("DELETE FROM tree_nodes WHERE (index + 1) * (1::bigint << level) > $1", size)
    await conn.execute("DELETE FROM checkpoints WHERE tree_size > $1", size)


async def test_the_tail_cut_off(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    early = await _held(audit, publish, user, 3)
    await _events(publish, user, 4)
    await signed(audit, user, 7)
    held = await verify(audit, user, early)
    async with triggers_disabled(tables) as conn:
        await _cut_back_to(conn, early.checkpoint.tree_size)
    failure = await _detected(audit, user, held)
    assert failure.entry_id is None
    assert "shrank" in failure.reason

    # The log grows again past the checkpoint held: now a fork, which no proof can hide.
    await _events(publish, user, 60)

    async def regrown() -> bool:
        latest: pb.GetCheckpointResponse = await audit.call(
            user, "GetCheckpoint", pb.GetCheckpointRequest()
        )
        return latest.checkpoint.tree_size > held.checkpoint.tree_size

    await eventually(regrown, 30)
    failure = await _detected(audit, user, held)
    assert "not consistent" in failure.reason or "missing" in failure.reason


async def test_an_older_copy_restored(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    user = new_user()
    await _held(audit, publish, user, 3)
    async with tables.acquire() as conn:
        for table in LOG_TABLES:
            await conn.execute(f"CREATE TABLE backup_{table} AS TABLE {table}")
    await _events(publish, user, 4)
    await signed(audit, user, 7)
    held = await verify(audit, user)
    async with triggers_disabled(tables) as conn:
        for table in LOG_TABLES:
            await conn.execute(f"DELETE FROM {table}")
            await conn.execute(f"INSERT INTO {table} SELECT * FROM backup_{table}")
    failure = await _detected(audit, user, held)
    assert "shrank" in failure.reason
    assert (await verify(audit, user)).entries == 3  # a verifier holding nothing is fooled


async def _recompute_every_hash(conn: Connection) -> bytes:
    """Rebuilds every leaf hash from the (edited) rows and every tree node from those leaves, as
    someone with the database but not the signing key can; returns the new root."""
    rows = await conn.fetch("SELECT * FROM entries ORDER BY leaf_index")
    leaves = [leaf_of(row, row["owner_sequence"]).hash() for row in rows]
    for row, leaf in zip(rows, leaves, strict=True):
        await conn.execute(
            "UPDATE entries SET leaf_hash = $1 WHERE leaf_index = $2", leaf, row["leaf_index"]
        )
    for node in await conn.fetch("SELECT level, index FROM tree_nodes"):
        subtree = merkle.Node(node["level"], node["index"])
        await conn.execute(
            "UPDATE tree_nodes SET hash = $1 WHERE level = $2 AND index = $3",
            merkle.root_of(leaves[subtree.start : subtree.end]),
            subtree.level,
            subtree.index,
        )
    return merkle.root_of(leaves)


@pytest.mark.parametrize("forge_checkpoint", [False, True], ids=["kept", "re-signed"])
async def test_every_hash_recomputed_without_the_key(
    audit: RunningAudit, publish: Publisher, tables: asyncpg.Pool[Any], forge_checkpoint: bool
) -> None:
    user = new_user()
    held = await _held(audit, publish, user, 6)
    entries = await audit.entries(user)
    async with triggers_disabled(tables) as conn:
        await conn.execute(
            "UPDATE entries SET actor = 'someone else' WHERE leaf_index = $1",
            entries[1].leaf_index,
        )
        root = await _recompute_every_hash(conn)
        if forge_checkpoint:  # signed with a key of the attacker's own, over the new root
            size = held.checkpoint.tree_size
            genuine = held.checkpoint.checkpoint
            forged = SigningKey(SigningKey.generate_text()).sign(
                Checkpoint(genuine.origin, size, root, genuine.signed_at)
            )
            await conn.execute(
                "UPDATE checkpoints SET root_hash = $1, signature = $2 WHERE tree_size = $3",
                root,
                forged.signature,
                size,
            )
            await conn.execute("DELETE FROM checkpoints WHERE tree_size > $1", size)
    failure = await _detected(audit, user, held)
    if forge_checkpoint:
        assert "not signed by the pinned key" in failure.reason
    else:  # the rewritten tree has another root: no entry proves against the signed one
        assert failure.entry_id == entries[0].id
        assert "not the leaf the signed tree holds" in failure.reason
