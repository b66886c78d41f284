"""The audit log: append throughput, and inclusion proofs in a log of 1M entries.

1. Appends: svc_audit runs in-process on a private PostgreSQL and broker;
   `APPEND_EVENTS` entries are put in its queue (`pending_entries`) in one
   statement, as its consumers leave them, and the rate is how fast its
   sequencer gives them their place in the log (batched, signed checkpoints
   included). Then the same number of events go through the broker, so the
   rate with the consumers in front (one transaction per event) is known too.
   Target: at least 2,000 events/s appended.
2. Proofs: a log of `LOG_SIZE` entries is written straight into the tables (in
   bulk, with its tree nodes and a signed checkpoint, as the sequencer would
   have left them), then `PROOFS` random entries are proven through
   `GetInclusionProof` over gRPC (the time to produce one) and verified the way
   `todo audit verify` does, the leaf recomputed from the entry's content (the
   time to verify one), and the proof's size is reported in bytes.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg
import grpc

from bench.support import (
    SECRET,
    postgres_server,
    scratch_database,
    service_config,
    summary,
    wait_for,
    write_results,
)
from svc_audit.service import SCHEMA
from svc_audit.service import SERVICE as AUDIT
from todo_cli.broker import EmbeddedBroker, free_port
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.audit.v1 import audit_service_pb2_grpc
from todo_contracts.events.v1 import task_events_pb2
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import endpoints, topics
from todo_runtime.cloudevents import event_headers
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.identity import identity_metadata
from todo_runtime.producer import EventProducer, Record
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import ServiceConfig
from todo_runtime.timestamps import timestamp
from todo_runtime.topics import ensure_topics
from todo_transparency import merkle
from todo_transparency.checkpoints import Checkpoint, SigningKey
from todo_transparency.entries import AuditLeaf, FieldChange

APPEND_EVENTS: Final = 20_000
LOG_SIZE: Final = 1_000_000
PROOFS: Final = 200
USERS: Final = 1000
CHUNK: Final = 50_000  # rows written per COPY while building the big log
SIGNING_KEY: Final = SigningKey.generate_text()
CHANGES: Final = (FieldChange("title", "Water the plants", "Water the ferns"),)
START: Final = datetime(2026, 1, 1, tzinfo=UTC)
_ENTRY_COLUMNS: Final = (
    "leaf_index",
    "event_id",
    "type",
    "task_id",
    "owner_id",
    "owner_sequence",
    "actor",
    "at",
    "changes",
    "leaf_hash",
)


@asynccontextmanager
async def audit_service(
    url: str, broker: EmbeddedBroker
) -> AsyncIterator[tuple[RunningService, ServiceConfig]]:
    """svc_audit in this process (its schema migrated), and its settings."""
    config = service_config(
        endpoints.AUDIT,
        url,
        broker.bootstrap_servers,
        TODO_AUDIT_SIGNING_KEY=SIGNING_KEY,
        TODO_LOG_LEVEL="WARNING",
    )
    service = await start_service(AUDIT, config)
    try:
        yield service, config
    finally:
        await service.stop()


async def _count(pool: asyncpg.Pool[Any], sql: str) -> int:
    return int(await pool.fetchval(sql))


async def appends_through_the_queue(pool: asyncpg.Pool[Any]) -> float:
    """Events/s the sequencer appends from a full queue."""
    before = await _count(pool, "SELECT count(*) FROM entries")
    started = time.perf_counter()
    await pool.execute(
        """INSERT INTO pending_entries (event_id, type, task_id, owner_id, actor, at, changes)
           SELECT gen_random_uuid()::text, 'todo.task.updated', gen_random_uuid(),
                  'user-' || (n % $2), 'user-' || (n % $2), now(), $3::jsonb
           FROM generate_series(1, $1) AS n""",
        APPEND_EVENTS,
        USERS,
        [{"field": c.field, "before": c.before, "after": c.after} for c in CHANGES],
    )

    async def appended() -> bool:
        return await _count(pool, "SELECT count(*) FROM entries") - before >= APPEND_EVENTS

    await wait_for(appended, 300, "the queue appended")
    return APPEND_EVENTS / (time.perf_counter() - started)


def _records() -> list[Record]:
    records = []
    for n in range(APPEND_EVENTS):
        user = f"user-{n % USERS}"
        task = task_pb2.Task(id=str(uuid.uuid4()), owner_id=user, title=f"task {n}")
        event = task_events_pb2.TaskEvent(
            event_id=str(uuid.uuid4()),
            kind=task_pb2.CHANGE_KIND_CREATED,
            user_id=user,
            actor=user,
            event_time=timestamp(datetime.now(UTC)),
            task=task,
            sequence=1,
        )
        headers = event_headers(
            event_id=event.event_id,
            source="/svc_tasks",
            type="todo.task.created",
            subject=task.id,
            time=datetime.now(UTC),
            message_name=event.DESCRIPTOR.full_name,
        )
        records.append(
            Record(topics.TASK_EVENTS, user.encode(), event.SerializeToString(), headers)
        )
    return records


async def appends_through_the_broker(pool: asyncpg.Pool[Any], producer: EventProducer) -> float:
    """Events/s from the broker into the log: the consumers (a transaction per event) and the
    sequencer together."""
    records = _records()
    before = await _count(pool, "SELECT count(*) FROM entries")
    started = time.perf_counter()
    for start in range(0, len(records), 5000):
        failed = [o for o in await producer.send(records[start : start + 5000]) if o is not None]
        if failed:
            raise RuntimeError(f"the broker refused records: {failed[0]}")

    async def appended() -> bool:
        return await _count(pool, "SELECT count(*) FROM entries") - before >= APPEND_EVENTS

    await wait_for(appended, 600, "the broker's events appended")
    return APPEND_EVENTS / (time.perf_counter() - started)


def _leaf(index: int) -> AuditLeaf:
    return AuditLeaf(
        event_id=f"bench-{index}",
        type="todo.task.updated",
        task_id=str(uuid.UUID(int=index % (USERS * 10) + 1)),
        owner=f"user-{index % USERS}",
        owner_sequence=index // USERS + 1,
        actor=f"user-{index % USERS}",
        time=START + timedelta(milliseconds=index),
        changes=CHANGES,
    )


def _rows(leaves: list[AuditLeaf], first: int, hashes: list[bytes]) -> Iterator[tuple[Any, ...]]:
    changes = json.dumps(
        [{"field": c.field, "before": c.before, "after": c.after} for c in CHANGES]
    )
    for offset, (leaf, leaf_hash) in enumerate(zip(leaves, hashes, strict=True)):
        yield (
            first + offset,
            leaf.event_id,
            leaf.type,
            uuid.UUID(leaf.task_id),
            leaf.owner,
            leaf.owner_sequence,
            leaf.actor,
            leaf.time,
            changes,
            leaf_hash,
        )


async def build_log(url: str) -> tuple[float, merkle.Frontier]:
    """Writes a log of LOG_SIZE entries, its tree and a signed checkpoint; returns the seconds
    it took and the tree. (A plain connection: asyncpg's own jsonb codec, JSON text, is the one
    binary COPY can use.)"""
    started = time.perf_counter()
    tree = merkle.Frontier(0, [])
    conn = await asyncpg.connect(url, server_settings={"search_path": SCHEMA})
    try:
        await _write_log(conn, tree)
    finally:
        await conn.close()
    return time.perf_counter() - started, tree


async def _write_log(conn: asyncpg.Connection[Any], tree: merkle.Frontier) -> None:
    async with conn.transaction():
        for first in range(0, LOG_SIZE, CHUNK):
            leaves = [_leaf(index) for index in range(first, min(first + CHUNK, LOG_SIZE))]
            hashes = [leaf.hash() for leaf in leaves]
            nodes = tree.append(hashes)
            await conn.copy_records_to_table(
                "entries",
                records=list(_rows(leaves, first, hashes)),
                columns=_ENTRY_COLUMNS,
                schema_name=SCHEMA,
            )
            await conn.copy_records_to_table(
                "tree_nodes",
                records=[(node.level, node.index, hash) for node, hash in nodes],
                columns=("level", "index", "hash"),
                schema_name=SCHEMA,
            )
        checkpoint = Checkpoint("todo.audit.v1", LOG_SIZE, tree.root(), datetime.now(UTC))
        signed = SigningKey(SIGNING_KEY).sign(checkpoint)
        await conn.execute(
            "INSERT INTO checkpoints (tree_size, origin, root_hash, signed_at, signature, key_id)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            LOG_SIZE,
            checkpoint.origin,
            checkpoint.root_hash,
            checkpoint.signed_at,
            signed.signature,
            signed.key_id,
        )
    await conn.execute("ANALYZE entries; ANALYZE tree_nodes")


async def proofs(address: str, root: bytes) -> dict[str, Any]:
    """Proves PROOFS random entries over gRPC, as their owners, and verifies each."""
    produce_ms, verify_ms, sizes, hash_counts = [], [], [], []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = audit_service_pb2_grpc.AuditServiceStub(channel)
        for index in random.Random(7).sample(range(LOG_SIZE), PROOFS):  # noqa: S311 - not a secret
            leaf = _leaf(index)
            metadata = identity_metadata(SECRET, leaf.owner)
            started = time.perf_counter()
            response = await stub.GetInclusionProof(
                pb.GetInclusionProofRequest(entry_id=str(index), tree_size=LOG_SIZE),
                metadata=metadata,
                timeout=10,
            )
            produce_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            ok = merkle.verify_inclusion(index, LOG_SIZE, leaf.hash(), response.hashes, root)
            verify_ms.append((time.perf_counter() - started) * 1000)
            if not ok:
                raise RuntimeError(f"the proof of entry {index} does not verify")
            hash_counts.append(len(response.hashes))
            sizes.append(response.ByteSize())
    return {
        "produce": summary(produce_ms),
        "verify": summary(verify_ms),
        "proof_hashes_max": max(hash_counts),
        "proof_bytes_max": max(hash_counts) * merkle.HASH_SIZE,
        "response_bytes_max": max(sizes),
    }


async def main() -> None:
    results: dict[str, Any] = {"append_events": APPEND_EVENTS, "log_size": LOG_SIZE}
    async with postgres_server() as admin_url:
        broker = EmbeddedBroker(port=free_port())
        broker.start()
        try:
            async with (
                scratch_database(admin_url) as url,
                audit_service(url, broker) as (_, config),
            ):
                pool = await create_pool(DatabaseConfig(url, 1, 2), SCHEMA)
                kafka = config.kafka
                await asyncio.to_thread(ensure_topics, kafka, [topics.TASK_EVENTS])
                producer = EventProducer(kafka, "bench-audit")
                try:
                    results["appended_per_s"] = round(await appends_through_the_queue(pool))
                    results["through_broker_per_s"] = round(
                        await appends_through_the_broker(pool, producer)
                    )
                finally:
                    await producer.close()
                    await pool.close()
            print(
                f"audit appends: {results['appended_per_s']} events/s from the queue, "
                f"{results['through_broker_per_s']} events/s from the broker "
                f"({APPEND_EVENTS} events, target 2000/s)"
            )
            async with (
                scratch_database(admin_url) as url,
                audit_service(url, broker) as (service, _),
            ):
                seconds, tree = await build_log(url)
                results["build_seconds"] = round(seconds, 1)
                results["proofs"] = await proofs(f"127.0.0.1:{service.port}", tree.root())
        finally:
            broker.stop()
    measured = results["proofs"]
    print(
        f"inclusion proofs in a log of {LOG_SIZE} entries (built in {results['build_seconds']} s): "
        f"produce p50 {measured['produce']['p50_ms']} ms, p99 {measured['produce']['p99_ms']} ms; "
        f"verify p50 {measured['verify']['p50_ms']} ms; {measured['proof_hashes_max']} hashes, "
        f"{measured['proof_bytes_max']} bytes ({measured['response_bytes_max']} bytes as a "
        "GetInclusionProofResponse)"
    )
    print(f"results: {write_results('audit_log', results)}")


if __name__ == "__main__":
    asyncio.run(main())
