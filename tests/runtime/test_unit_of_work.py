"""One event, one transaction: inbox claim, effect and outgoing events commit together or not at all."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from tests.runtime.test_consumer import (
    GROUP,
    TOPIC,
    consuming,
    fast_backoff,
    name_of,
    produce,
    read_all,
    record,
    single_partition,
)
from tests.support.infra import eventually
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_runtime import inbox
from todo_runtime.cloudevents import read_headers
from todo_runtime.consumer import EventConsumer
from todo_runtime.db import Connection
from todo_runtime.dead_letters import replay_dead_letters
from todo_runtime.outbox import OutgoingEvent, enqueue
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.topics import dead_letter
from todo_runtime.unit_of_work import transactional


def received(name: str, event_id: str) -> ReceivedEvent:
    produced = record(name, event_id)
    return ReceivedEvent(TOPIC, 0, 0, b"k", produced.value, read_headers(produced.headers))


def outgoing(name: str) -> OutgoingEvent:
    message = task_events_pb2.TaskEvent(event_id=str(uuid.uuid4()), actor=name)
    return OutgoingEvent(
        topic="echoes",
        key="k",
        message=message,
        event_id=message.event_id,
        source="/test",
        type="todo.test.echo",
        subject=name,
        time=datetime.now(UTC),
    )


async def test_effect_claim_and_outbox_commit_together_once(pool: asyncpg.Pool[Any]) -> None:
    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))
        await enqueue(conn, [outgoing(name_of(event))])

    run = transactional(pool, GROUP, handle)
    await run(received("a", "e-1"))
    await run(received("a", "e-1"))  # redelivered
    await run(received("b", "e-2"))
    assert [r["name"] for r in await pool.fetch("SELECT name FROM things ORDER BY name")] == [
        "a",
        "b",
    ]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2


async def test_a_failing_handler_leaves_no_claim_no_effect_and_no_event(
    pool: asyncpg.Pool[Any],
) -> None:
    failing = True

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))
        await enqueue(conn, [outgoing(name_of(event))])
        if failing:
            raise ConnectionError("the next dependency is down")

    run = transactional(pool, GROUP, handle)
    with pytest.raises(ConnectionError):
        await run(received("a", "e-1"))
    assert await pool.fetchval("SELECT count(*) FROM things") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 0
    failing = False
    await run(received("a", "e-1"))  # the retry applies it, once
    assert await pool.fetchval("SELECT count(*) FROM things") == 1


async def test_a_batch_applies_each_new_event_once_in_order_in_one_transaction(
    pool: asyncpg.Pool[Any],
) -> None:
    seen: list[str] = []

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        seen.append(name_of(event))
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))

    run = transactional(pool, GROUP, handle)
    await run(received("a", "e-1"))  # applied before: the batch skips it
    await run.batch(
        [received("a", "e-1"), received("b", "e-2"), received("c", "e-3"), received("b", "e-2")]
    )
    assert seen == ["a", "b", "c"]
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 3


async def test_a_failing_event_rolls_its_whole_batch_back(pool: asyncpg.Pool[Any]) -> None:
    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))
        if name_of(event) == "poison":
            raise ValueError("cannot apply this one")

    run = transactional(pool, GROUP, handle)
    with pytest.raises(ValueError, match="cannot apply"):
        await run.batch([received("a", "e-1"), received("poison", "e-2")])
    assert await pool.fetchval("SELECT count(*) FROM things") == 0
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 0


async def test_a_transient_failure_is_retried_past_max_attempts_and_never_dead_lettered(
    broker: EmbeddedBroker, pool: asyncpg.Pool[Any]
) -> None:
    config = single_partition(broker)
    await produce(config, record("waits"), record("next"))
    attempts: list[str] = []

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        attempts.append(name_of(event))
        if len(attempts) <= 8:  # far more than max_attempts
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))

    worker = EventConsumer(
        config,
        GROUP,
        [TOPIC],
        transactional(pool, GROUP, handle),
        max_attempts=2,
        backoff=fast_backoff,
    )
    async with consuming(worker):

        async def applied() -> bool:
            names = [r["name"] for r in await pool.fetch("SELECT name FROM things")]
            return names == ["waits", "next"]

        await eventually(applied)
    assert attempts == ["waits"] * 9 + ["next"]


async def test_dead_letters_replayed_after_the_fix_are_applied(
    broker: EmbeddedBroker, pool: asyncpg.Pool[Any]
) -> None:
    config = single_partition(broker)
    await produce(config, record("poison"), record("fine"))
    fixed = False

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        if name_of(event) == "poison" and not fixed:
            raise ValueError("a rule this event breaks")
        await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))

    worker = EventConsumer(
        config, GROUP, [TOPIC], transactional(pool, GROUP, handle), backoff=fast_backoff
    )

    async def names() -> list[str]:
        return [r["name"] for r in await pool.fetch("SELECT name FROM things")]

    async with consuming(worker):

        async def fine_only() -> bool:
            return await names() == ["fine"]

        await eventually(fine_only)
        fixed = True
        assert await asyncio.to_thread(replay_dead_letters, config, TOPIC) == 1
        # Replaying again sends nothing twice.
        assert await asyncio.to_thread(replay_dead_letters, config, TOPIC, idle=1.0) == 0

        async def both() -> bool:
            return sorted(await names()) == ["fine", "poison"]

        await eventually(both)


async def test_claim_rolls_back_with_the_effect(pool: asyncpg.Pool[Any]) -> None:
    async def failed_effect() -> None:
        async with pool.acquire() as conn, conn.transaction():
            assert await inbox.claim(conn, GROUP, "e-1")
            raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError, match="effect failed"):
        await failed_effect()
    async with pool.acquire() as conn, conn.transaction():
        assert await inbox.claim(conn, GROUP, "e-1")
        assert not await inbox.claim(conn, GROUP, "e-1")
        assert await inbox.claim(conn, "another-consumer", "e-1")
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await inbox.claim(conn, GROUP, "e-2")


async def test_a_consumer_applies_a_fetch_as_one_batch_and_isolates_a_poison_record(
    broker: EmbeddedBroker, pool: asyncpg.Pool[Any]
) -> None:
    config = single_partition(broker)
    names = [f"n{index}" for index in range(20)]
    # Produced before the consumer starts, so its first fetches hold several records.
    await produce(config, *(record(name) for name in names[:10]), record("poison"))
    await produce(config, *(record(name) for name in names[10:]))
    batches: list[int] = []
    apply = transactional(pool, GROUP, _things_but_poison)

    async def counted(events: Sequence[ReceivedEvent]) -> None:
        batches.append(len(events))
        await apply.batch(events)

    worker = EventConsumer(
        config, GROUP, [TOPIC], apply, backoff=fast_backoff, batch_handler=counted
    )
    async with consuming(worker):

        async def all_applied() -> bool:
            found = [r["name"] for r in await pool.fetch("SELECT name FROM things")]
            return sorted(found) == sorted(names)

        await eventually(all_applied)
    assert max(batches) > 1
    (dead,) = read_all(config, dead_letter(TOPIC), 1)
    assert task_events_pb2.TaskEvent.FromString(dead.value() or b"").actor == "poison"
    parked = REGISTRY.get_sample_value("todo_dead_letters_total", {"group": GROUP, "topic": TOPIC})
    assert parked is not None
    assert parked >= 1


async def _things_but_poison(event: ReceivedEvent, conn: Connection) -> None:
    if name_of(event) == "poison":
        raise ValueError("a rule this event breaks")
    await conn.execute("INSERT INTO things VALUES ($1)", name_of(event))
