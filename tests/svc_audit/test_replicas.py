"""Two replicas appending at once: one global order, no fork, every checkpoint consistent with
every later one."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import asyncpg

from svc_audit import checkpoints
from tests.support.infra import eventually
from tests.svc_audit.conftest import (
    PUBLIC_KEY,
    Publisher,
    StartAudit,
    new_task,
    new_user,
    task_event,
    task_record,
    verify,
)
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_transparency import merkle

USERS = 12
EVENTS_PER_USER = 25


async def test_two_replicas_append_one_log(
    start_audit: StartAudit, publish: Publisher, tables: asyncpg.Pool[Any]
) -> None:
    # Small batches and frequent checkpoints, so the two sequencers take turns many times.
    settings = {"TODO_AUDIT_BATCH": "7", "TODO_AUDIT_CHECKPOINT_ENTRIES": "23"}
    replicas = [await start_audit(**settings), await start_audit(**settings)]
    users = [new_user() for _ in range(USERS)]
    records = [
        task_record(task_event(new_task(user, f"task {n}"), task_pb2.CHANGE_KIND_CREATED))
        for n, user in itertools.product(range(EVENTS_PER_USER), users)
    ]
    total = len(records)
    # Four producers at once, over every partition: both replicas consume and append.
    await asyncio.gather(*(publish.send(records[i::4]) for i in range(4)))

    async def all_signed() -> bool:
        latest = await tables.fetchval("SELECT max(tree_size) FROM checkpoints")
        return bool(latest == total)

    await eventually(all_signed, 60)

    rows = await tables.fetch(
        "SELECT leaf_index, owner_id, owner_sequence, leaf_hash FROM entries ORDER BY leaf_index"
    )
    assert [row["leaf_index"] for row in rows] == list(range(total))
    for user in users:
        numbers = [row["owner_sequence"] for row in rows if row["owner_id"] == user]
        assert numbers == list(range(1, EVENTS_PER_USER + 1))
    leaves = [bytes(row["leaf_hash"]) for row in rows]

    signed = [
        checkpoints.from_row(row)
        for row in await tables.fetch("SELECT * FROM checkpoints ORDER BY tree_size")
    ]
    assert len(signed) > 2
    for checkpoint in signed:  # each is the root of a prefix of the one log: no fork
        assert checkpoint.verifies_with(PUBLIC_KEY)
        assert checkpoint.root_hash == merkle.root_of(leaves[: checkpoint.tree_size])
    for old, new in itertools.pairwise(signed):
        for replica in replicas:
            proof: pb.GetConsistencyProofResponse = await replica.call(
                users[0],
                "GetConsistencyProof",
                pb.GetConsistencyProofRequest(
                    from_tree_size=old.tree_size, to_tree_size=new.tree_size
                ),
            )
            assert merkle.verify_consistency(
                old.tree_size, new.tree_size, old.root_hash, new.root_hash, list(proof.hashes)
            )
    held = await verify(replicas[0], users[0])
    assert held.entries == EVENTS_PER_USER
    assert (await verify(replicas[1], users[-1], None)).entries == EVENTS_PER_USER
