"""Transactional outbox: exactly what committed gets published, in order, whatever fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support.infra import PostgresProxy, eventually, kafka_config
from tests.support.records import Published, read_exactly
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_runtime import inbox, retention
from todo_runtime.backoff import Backoff
from todo_runtime.cloudevents import read_headers
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.outbox import (
    OutboxError,
    OutgoingEvent,
    columns,
    enqueue,
    requeue_since,
    sequenced_insert,
)
from todo_runtime.outbox_relay import OutboxRelay
from todo_runtime.producer import DeliveryError, EventProducer
from todo_runtime.topics import TASK_EVENTS, ensure_topics

SCHEMA = "svc"
USERS = ("ann", "bob", "cyd")


def event(user: str, sequence: int) -> OutgoingEvent:
    event_id = str(uuid.uuid4())
    message = task_events_pb2.TaskEvent(event_id=event_id, user_id=user, sequence=sequence)
    return OutgoingEvent(
        topic=TASK_EVENTS,
        key=user,
        message=message,
        event_id=event_id,
        source="/svc_tasks",
        type="todo.task.updated",
        subject=f"task-{user}",
        time=datetime.now(UTC),
    )


async def change(pool: asyncpg.Pool[Any], *events: OutgoingEvent) -> None:
    """One state change and its events, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO things VALUES ($1)", str(uuid.uuid4()))
        await enqueue(conn, events)


async def backlog(pool: asyncpg.Pool[Any]) -> int:
    unsent: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return unsent


async def drained(pool: asyncpg.Pool[Any], within: float = 15.0) -> None:
    async def empty() -> bool:
        return await backlog(pool) == 0

    await eventually(empty, within)


def by_user(records: list[Published]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = {}
    for record in records:
        message = record.parse(task_events_pb2.TaskEvent)
        sequences.setdefault(message.user_id, []).append(message.sequence)
    return sequences


@contextlib.asynccontextmanager
async def running(*relays: OutboxRelay) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def producer(config: KafkaConfig, timeout_ms: int = 30_000) -> AsyncIterator[EventProducer]:
    instance = EventProducer(config, "relay-test", message_timeout_ms=timeout_ms)
    try:
        yield instance
    finally:
        await instance.close(1.0)


async def test_every_event_is_published_once_in_order_with_headers(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    # The topic does not exist yet: the relay creates it on the first failure.
    async with producer(config) as kafka, running(OutboxRelay(pool, SCHEMA, kafka, config)):
        sent = [event(user, sequence) for sequence in range(10) for user in USERS]
        for index in range(0, len(sent), 3):
            await change(pool, *sent[index : index + 3])
        await drained(pool)

    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 30)
    assert by_user(records) == {user: list(range(10)) for user in USERS}
    expected = {item.event_id: item for item in sent}
    for record in records:
        original = expected.pop(record.parse(task_events_pb2.TaskEvent).event_id)
        assert record.key == original.key.encode()
        assert record.parse(task_events_pb2.TaskEvent) == original.message
        headers = read_headers(record.headers.items())
        assert headers.id == original.event_id
        assert headers.source == "/svc_tasks"
        assert headers.type == "todo.task.updated"
        assert headers.subject == original.subject
        assert headers.time == original.time
        assert headers.message_name == "todo.events.v1.TaskEvent"
        assert record.headers["content-type"] == b"application/protobuf"
    assert expected == {}
    # One user's events share a partition, which is what keeps them in order.
    assert all(len({r.partition for r in records if r.key == u.encode()}) == 1 for u in USERS)
    sent_at = await pool.fetch("SELECT sent_at FROM outbox")
    assert len(sent_at) == 30
    assert all(row["sent_at"] is not None for row in sent_at)


async def test_rolled_back_transaction_publishes_nothing(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    kept = event("ann", 2)

    async def abandoned_change() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, [event("ann", 1)])
            raise RuntimeError("change abandoned")

    with pytest.raises(RuntimeError, match="abandoned"):
        await abandoned_change()
    await change(pool, kept)

    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config)
        assert await relay.publish_pending() == 1
        assert await relay.publish_pending() == 0

    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 1)
    assert [record.parse(task_events_pb2.TaskEvent).event_id for record in records] == [
        kept.event_id
    ]


async def test_enqueue_refuses_to_run_outside_a_transaction(pool: asyncpg.Pool[Any]) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(OutboxError, match="transaction"):
            await enqueue(conn, [event("ann", 1)])
    assert await backlog(pool) == 0


@pytest.mark.parametrize("sequence", [1, 127, 128, 300, 16_383, 16_384, 2**31, 2**63 - 1])
async def test_a_sequenced_insert_sets_the_sequence_its_own_statement_allocates(
    pool: asyncpg.Pool[Any], sequence: int
) -> None:
    sent = [dataclasses.replace(event("ann", 0), sequence_field="sequence"), event("bob", 5)]
    statement = f"""WITH counted AS (SELECT $6::bigint AS n),
        published AS ({sequenced_insert(source="counted", sequence="counted.n", first=1)})
        SELECT 1"""
    await pool.execute(statement, *columns(sent), sequence)  # one statement: no transaction block

    values = [row["value"] for row in await pool.fetch("SELECT value FROM outbox ORDER BY id")]
    parsed = [task_events_pb2.TaskEvent.FromString(value) for value in values]
    assert [message.sequence for message in parsed] == [sequence, 5]  # the second has no field
    assert [message.event_id for message in parsed] == [item.event_id for item in sent]


async def test_a_sequenced_insert_without_a_source_row_writes_no_event(
    pool: asyncpg.Pool[Any],
) -> None:
    statement = f"""WITH counted AS (SELECT 1 AS n WHERE false),
        published AS ({sequenced_insert(source="counted", sequence="counted.n", first=1)})
        SELECT 1"""
    await pool.execute(statement, *columns([event("ann", 1)]))
    assert await backlog(pool) == 0


async def test_publish_pending_reports_a_missing_topic_after_creating_it(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await change(pool, event("ann", 1))
    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config)
        with pytest.raises(DeliveryError) as failure:
            await relay.publish_pending()
        assert failure.value.topic_missing
        assert await backlog(pool) == 1
        assert await relay.publish_pending() == 1


async def test_broker_outage_loses_nothing(pool: asyncpg.Pool[Any], broker: EmbeddedBroker) -> None:
    config = kafka_config(broker.bootstrap_servers)
    async with producer(config, timeout_ms=3000) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config, backoff=lambda: Backoff(0.05, 0.5))
        async with running(relay) as (task,):
            await change(pool, event("ann", 0))
            await drained(pool)

            broker.stop()
            for sequence in range(1, 6):
                await change(pool, event("ann", sequence))
            # While the broker is away nothing may be marked sent, however often the relay tries.
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                assert await backlog(pool) == 5
                await asyncio.sleep(0.1)
            assert not task.done()

            broker.start()  # a new, empty in-memory broker: topics and records are gone
            await drained(pool, within=20)

    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 5)
    assert by_user(records) == {"ann": [1, 2, 3, 4, 5]}


async def test_one_leader_per_schema_and_takeover(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    async with producer(config) as first_kafka, producer(config) as second_kafka:
        first = OutboxRelay(pool, SCHEMA, first_kafka, config)
        second = OutboxRelay(pool, SCHEMA, second_kafka, config)
        async with running(first, second) as tasks:

            async def one_leader() -> bool:
                return [first.leading, second.leading].count(True) == 1

            await eventually(one_leader)
            for sequence in range(20):
                await change(pool, event("ann", sequence))
            await drained(pool)
            assert await one_leader()

            # The leader's session dies: its lock goes with it and a relay takes over.
            # pg_locks spans the cluster: only this test's database is ours to touch.
            holders = await pool.fetch(
                """SELECT pid FROM pg_locks
                   WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1
                     AND database = (SELECT oid FROM pg_database
                                     WHERE datname = current_database())""",
                0x70D0_0002,
            )
            assert len(holders) == 1
            assert await pool.fetchval("SELECT pg_terminate_backend($1)", holders[0]["pid"])
            for sequence in range(20, 25):
                await change(pool, event("ann", sequence))
            await drained(pool)
            await eventually(one_leader)
            assert not any(task.done() for task in tasks)

    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 25)
    assert by_user(records) == {"ann": list(range(25))}


async def test_relay_wakes_on_notify(pool: asyncpg.Pool[Any], broker: EmbeddedBroker) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config, idle_check=60.0)
        async with running(relay):
            await change(pool, event("ann", 0))  # the first pass also warms up the producer
            await drained(pool)

            started = time.monotonic()
            await change(pool, event("ann", 1))
            await drained(pool, within=5)
            assert time.monotonic() - started < 1.0


async def test_retention_sweep_deletes_old_sent_rows_and_applied_ids(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    await change(pool, event("ann", 0), event("ann", 1), event("ann", 2))
    async with producer(config) as kafka:
        assert await OutboxRelay(pool, SCHEMA, kafka, config).publish_pending() == 3
    async with pool.acquire() as conn, conn.transaction():
        await inbox.claim(conn, "worker", "old-event")
        await inbox.claim(conn, "worker", "new-event")
    await pool.execute(
        "UPDATE outbox SET sent_at = now() - interval '3 hours' WHERE id = (SELECT min(id) FROM outbox)"
    )
    await pool.execute(
        "UPDATE processed_events SET processed_at = now() - interval '4 hours'"
        " WHERE event_id = 'old-event'"
    )
    await change(pool, event("ann", 3))  # unsent: never deleted, however old

    sweeper = asyncio.create_task(retention.sweep(pool, timedelta(hours=2), interval=0.05))
    try:

        async def swept() -> bool:
            rows: int = await pool.fetchval("SELECT count(*) FROM outbox")
            return rows == 3

        await eventually(swept)
        # Applied ids are kept a margin longer than sent events, so a republished
        # event is still recognised.
        ids = await pool.fetch("SELECT event_id FROM processed_events ORDER BY event_id")
        assert [row["event_id"] for row in ids] == ["new-event"]
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)


async def test_relay_survives_a_postgres_outage(
    pool: asyncpg.Pool[Any],
    database_url: str,
    broker: EmbeddedBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="todo_runtime.outbox_relay")
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    proxy = PostgresProxy(database_url)
    await proxy.start()
    relay_pool = await create_pool(DatabaseConfig(proxy.url, 1, 2), SCHEMA)
    try:
        async with producer(config) as kafka:
            relay = OutboxRelay(
                relay_pool, SCHEMA, kafka, config, backoff=lambda: Backoff(0.05, 0.2)
            )
            async with running(relay) as (task,):
                await change(pool, event("ann", 0))
                await drained(pool)

                await proxy.cut()
                for sequence in range(1, 4):
                    await change(pool, event("ann", sequence))

                async def reported() -> bool:
                    return "Postgres unavailable" in caplog.text

                await eventually(reported)
                # Several reconnection attempts fail (backoff capped at 0.2 s) ...
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline:
                    assert not relay.leading
                    assert await backlog(pool) == 3
                    await asyncio.sleep(0.1)
                assert not task.done()

                await proxy.start()  # same port
                await drained(pool)
                assert not task.done()
    finally:
        await proxy.cut()
        await relay_pool.close()

    # ... but the outage is reported once, and so is the recovery.
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Postgres unavailable" in message for message in messages) == 1
    assert sum("Postgres reachable again" in message for message in messages) == 1
    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 4)
    assert by_user(records) == {"ann": [0, 1, 2, 3]}


async def test_a_broker_that_lost_its_topics_gets_the_retained_events_again(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    async with producer(config, timeout_ms=3000) as kafka:
        relay = OutboxRelay(
            pool, SCHEMA, kafka, config, topics=[TASK_EVENTS], backoff=lambda: Backoff(0.05, 0.5)
        )
        async with running(relay) as (task,):
            for sequence in range(3):
                await change(pool, event("ann", sequence))
            await drained(pool)

            broker.stop()
            broker.start()  # empty: the three published events are gone with it
            await change(pool, event("ann", 3))
            await drained(pool, within=30)
            assert not task.done()

    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 4)
    assert sorted(by_user(records)["ann"]) == [0, 1, 2, 3]
    assert "the broker lost task-events" in caplog.text


async def test_a_relay_that_restarts_notices_a_broker_that_was_replaced_meanwhile(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config, topics=[TASK_EVENTS])
        async with running(relay):
            await change(pool, event("ann", 0))
            await drained(pool)
    broker.stop()  # while no relay runs: only the recorded topic id can tell
    broker.start()
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])  # someone else recreated it
    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config, topics=[TASK_EVENTS])
        async with running(relay):
            await change(pool, event("ann", 1))
            await drained(pool)
    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 2)
    assert sorted(by_user(records)["ann"]) == [0, 1]


async def test_operator_replay_publishes_retained_events_since_a_time(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    await asyncio.to_thread(ensure_topics, config, [TASK_EVENTS])
    await change(pool, event("ann", 0))
    await pool.execute("UPDATE outbox SET created_at = now() - interval '2 hours'")
    await change(pool, event("ann", 1), event("ann", 2))
    async with producer(config) as kafka:
        relay = OutboxRelay(pool, SCHEMA, kafka, config)
        assert await relay.publish_pending() == 3
        async with pool.acquire() as conn:
            requeued = await requeue_since(conn, datetime.now(UTC) - timedelta(hours=1))
        assert requeued == 2
        assert await relay.publish_pending() == 2
    records = await asyncio.to_thread(read_exactly, broker.bootstrap_servers, TASK_EVENTS, 5)
    assert by_user(records) == {"ann": [0, 1, 2, 1, 2]}
