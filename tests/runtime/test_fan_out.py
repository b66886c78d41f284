"""The fan-out consumer: every one sees every record published after it was placed, and hears
when records may have passed unseen."""

from __future__ import annotations

import asyncio

from tests.runtime.test_consumer import (
    GROUP,
    TOPIC,
    committed_offset,
    name_of,
    produce,
    record,
    single_partition,
)
from tests.support.infra import eventually
from todo_cli.broker import EmbeddedBroker
from todo_runtime.fan_out import FanOutConsumer
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.received_event import ReceivedEvent


class Replica:
    """What one replica's fan-out consumer delivered, and how often it was told to re-read."""

    def __init__(self, config: KafkaConfig) -> None:
        self.seen: list[str] = []
        self.reassigned = 0
        self.consumer = FanOutConsumer(
            config, GROUP, [TOPIC], self.handle, on_reassigned=self.on_reassigned
        )

    async def handle(self, event: ReceivedEvent) -> None:
        self.seen.append(name_of(event))

    def on_reassigned(self) -> None:
        self.reassigned += 1


async def test_each_replica_sees_every_record_from_its_start_under_a_group_of_its_own(
    broker: EmbeddedBroker,
) -> None:
    config = single_partition(broker)
    await produce(config, record("before"))
    first, second = Replica(config), Replica(config)
    running = [asyncio.create_task(replica.consumer.run()) for replica in (first, second)]
    try:
        await asyncio.gather(first.consumer.wait_assigned(15), second.consumer.wait_assigned(15))
        # Told to re-read once placed at the end, which is after what came before.
        await eventually(lambda: first.reassigned >= 1 and second.reassigned >= 1)
        await produce(config, record("after 1"), record("after 2"))
        await eventually(lambda: first.seen == second.seen == ["after 1", "after 2"])
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    assert committed_offset(config) < 0  # the group name alone was never joined or committed
