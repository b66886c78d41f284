"""A producer that was idle while the broker restarted empty must not have its records dropped.

Found by the fault suite (tests/faults): after PostgreSQL restarted, the other
svc_tasks replica's relay took the lead with a producer idle since before a
broker restart; the new broker had given that producer's id to another client,
acknowledged its records as that client's duplicates, and stored none of them.
"""

from __future__ import annotations

import asyncio

from tests.support.infra import kafka_config
from tests.support.records import read_topic
from todo_cli.broker import EmbeddedBroker
from todo_runtime.producer import EventProducer, Record
from todo_runtime.topics import ensure_topics

TOPIC = "restarts"


def record(value: str) -> Record:
    return Record(TOPIC, b"one key", value.encode(), [])


async def sent(producer: EventProducer, values: list[str]) -> None:
    """Sends until the broker acknowledged every record (a failed send replaces the client)."""
    for _ in range(5):
        if not any(await producer.send([record(v) for v in values])):
            return
    raise AssertionError(f"{values} never acknowledged")


async def test_a_producer_idle_through_a_broker_restart_loses_nothing(
    broker: EmbeddedBroker,
) -> None:
    config = kafka_config(broker.bootstrap_servers)
    ensure_topics(config, [TOPIC])
    idle = EventProducer(config, "idle")
    fresh: list[EventProducer] = []
    try:
        await sent(idle, ["idle before"])

        await asyncio.to_thread(broker.kill)
        await asyncio.to_thread(broker.start)
        ensure_topics(config, [TOPIC])
        # Clients that connect only now take the new broker's first producer ids, which
        # include the idle client's old one.
        fresh.extend(EventProducer(config, f"fresh {n}") for n in range(3))
        for number, producer in enumerate(fresh):
            await sent(producer, [f"fresh {number}.{n}" for n in range(20)])
        await sent(idle, [f"idle after {n}" for n in range(5)])

        records = read_topic(broker.bootstrap_servers, TOPIC, at_least=65)
        values = [r.value.decode() for r in records]
        assert values[-5:] == [f"idle after {n}" for n in range(5)], values
        assert len(values) == 65
    finally:
        for producer in [idle, *fresh]:
            await producer.close()
