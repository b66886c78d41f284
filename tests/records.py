"""Reads what actually reached the broker, for tests that check published events."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_topic(
    bootstrap: str, topic: str, *, at_least: int, timeout: float = 20.0
) -> list[Published]:
    """All records of `topic` from the beginning, once at least `at_least` arrived (or the timeout passed).

    Records come back ordered per partition; with one key per test they are in publish order.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        deadline = time.monotonic() + timeout
        partitions: list[int] = []
        while not partitions and time.monotonic() < deadline:
            metadata = consumer.list_topics(topic, timeout=5)
            found = metadata.topics.get(topic)
            if found is not None and found.error is None:
                partitions = sorted(found.partitions)
            else:
                time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[Published] = []
        while len(records) < at_least and time.monotonic() < deadline:
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            records.append(
                Published(
                    topic=message.topic(),
                    partition=message.partition(),
                    offset=message.offset(),
                    key=message.key(),
                    value=message.value(),
                    headers={name: value for name, value in message.headers() or []},
                )
            )
        return records
    finally:
        consumer.close()
