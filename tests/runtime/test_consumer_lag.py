"""Consumer lag against the real broker: it rises while a handler is stuck, falls to 0 once the
consumer caught up, and a partition no longer assigned (or a closed consumer) is not reported."""

from __future__ import annotations

import asyncio
import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from prometheus_client import REGISTRY

from tests.runtime.test_consumer import (
    TOPIC,
    consuming,
    fast_backoff,
    name_of,
    produce,
    record,
    single_partition,
)
from tests.support.infra import eventually
from todo_cli.broker import EmbeddedBroker
from todo_runtime.consume_loop import consumer_settings
from todo_runtime.consumer import EventConsumer
from todo_runtime.consumer_lag import ConsumerLag
from todo_runtime.received_event import ReceivedEvent


def lag(group: str, partition: int = 0) -> float | None:
    labels = {"group": group, "topic": TOPIC, "partition": str(partition)}
    return REGISTRY.get_sample_value("todo_consumer_lag", labels)


async def test_lag_rises_while_a_handler_is_stuck_and_falls_to_zero_after(
    broker: EmbeddedBroker,
) -> None:
    config = single_partition(broker)
    group = f"lagging-{uuid.uuid4().hex[:8]}"
    release = asyncio.Event()
    started: list[str] = []

    async def handler(event: ReceivedEvent) -> None:
        started.append(name_of(event))
        if name_of(event) == "stuck":
            await release.wait()

    consumer = EventConsumer(config, group, [TOPIC], handler, backoff=fast_backoff)
    await produce(config, record("first"))
    async with consuming(consumer):
        await eventually(lambda: lag(group) == 0)
        await produce(config, record("stuck"))
        await eventually(lambda: "stuck" in started)
        await produce(config, *(record(f"waiting {index}") for index in range(5)))
        # The handler is stuck on offset 1; offsets 1..6 are still to process.
        await eventually(lambda: lag(group) == 6)
        release.set()
        await eventually(lambda: lag(group) == 0)
        assert started[-1] == "waiting 4"
    assert lag(group) is None  # closed: its partitions are someone else's to report


async def test_a_partition_no_longer_assigned_is_no_longer_reported(
    broker: EmbeddedBroker,
) -> None:
    config = single_partition(broker)
    group = f"reassigned-{uuid.uuid4().hex[:8]}"
    await produce(config, *(record(f"r{index}") for index in range(3)))
    consumer = Consumer(consumer_settings(config, group))
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    tracked = ConsumerLag(group)
    try:
        deadline = time.monotonic() + 15
        message = consumer.poll(0.1)
        while message is None or message.error() is not None:
            assert time.monotonic() < deadline, "no record from the broker"
            message = consumer.poll(0.1)
        tracked.processed([message])
        tracked.sample(consumer)
        assert lag(group) == 2  # offsets 1 and 2 to go
        started = time.perf_counter()
        for _ in range(1000):
            tracked.sample(consumer)
        print(f"one lag sample: {(time.perf_counter() - started) * 1000:.1f} µs")

        tracked.forget([TopicPartition(TOPIC, 0)])  # what the revoke and lost callbacks do
        assert lag(group) is None
        tracked.sample(consumer)  # still assigned: the position stands in for what was processed
        assert lag(group) == 2
        consumer.unassign()  # as a rebalance that moved the partition elsewhere
        tracked.sample(consumer)
        assert lag(group) is None
    finally:
        consumer.close()
