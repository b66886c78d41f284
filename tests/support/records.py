"""Reads what actually reached the broker, for tests that check published events."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    def parse(self, message_type: type[M]) -> M:
        return message_type.FromString(self.value)


def read_topic(
    bootstrap: str, topic: str, *, at_least: int, timeout: float = 20.0, settle: float = 0.5
) -> list[Published]:
    """All records of `topic` from the beginning: read until `at_least` arrived, then `settle` s more.

    The extra read catches duplicates (Tansu's high watermark cannot be used to
    count records). Records come back ordered per partition; with one key per
    test they are in publish order.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4()}",
            "fetch.wait.max.ms": 10,
        }
    )
    try:
        deadline = time.monotonic() + timeout
        partitions: list[int] = []
        while not partitions and time.monotonic() < deadline:
            found = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if found is not None and found.error is None:
                partitions = sorted(found.partitions)
            else:
                time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[Published] = []
        settled: float | None = None
        while time.monotonic() < (deadline if settled is None else settled):
            if settled is None and len(records) >= at_least:
                settled = time.monotonic() + settle
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            value, partition, offset = message.value(), message.partition(), message.offset()
            assert value is not None
            assert partition is not None
            assert offset is not None
            raw = message.headers() or []
            pairs = raw.items() if isinstance(raw, dict) else raw
            records.append(
                Published(
                    topic=topic,
                    partition=partition,
                    offset=offset,
                    key=message.key(),
                    value=value,
                    headers={name: v for name, v in pairs if isinstance(v, bytes)},
                )
            )
        return records
    finally:
        consumer.close()


def read_exactly(bootstrap: str, topic: str, expected: int) -> list[Published]:
    """The records of `topic`, failing on fewer or more than `expected`."""
    records = read_topic(bootstrap, topic, at_least=expected)
    assert len(records) == expected, f"{len(records)} records on {topic}, expected {expected}"
    return records
