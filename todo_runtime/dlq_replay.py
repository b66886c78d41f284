"""Sending dead letters back to the topic they came from, once the cause is fixed.

`todo dlq replay` reads `<topic>.dlq` from its own consumer group's committed
offsets, so each dead letter is replayed once however often the command runs, and produces each
record to its original topic with its original headers (the `dlq_*` ones
dropped). Every consumer of that topic sees it again and skips it by event id,
except the one that failed, which now gets another chance.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)

from todo_runtime.consumer import DLQ_HEADER_PREFIX, DLQ_ORIGINAL_TOPIC, header_pairs
from todo_runtime.kafka_settings import KafkaConfig, client_settings
from todo_runtime.producer import producer_settings
from todo_runtime.topics import dead_letter

log = logging.getLogger(__name__)

REPLAY_GROUP: Final = "todo-dlq-replay"


class ReplayError(RuntimeError):
    """The broker refused a replayed record or could not be reached."""


def replay_dead_letters(config: KafkaConfig, topic: str, *, idle: float = 3.0) -> int:
    """Replays every not yet replayed record of `topic`'s DLQ; returns how many. Blocking.

    Stops once no record arrived for `idle` seconds.
    """
    consumer = Consumer(
        client_settings(
            config,
            {
                "group.id": REPLAY_GROUP,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": config.session_timeout_ms,
                "fetch.wait.max.ms": 100,
            },
        )
    )
    producer = Producer(producer_settings(config, REPLAY_GROUP))
    replayed = 0
    try:
        if not _assign_from_committed(consumer, dead_letter(topic)):
            return 0
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle:
            message = consumer.poll(0.2)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                raise ReplayError(f"cannot read {dead_letter(topic)}: {error.str()}")
            headers = header_pairs(message)
            original = dict(headers).get(DLQ_ORIGINAL_TOPIC, topic.encode()).decode()
            kept = [
                (name, value) for name, value in headers if not name.startswith(DLQ_HEADER_PREFIX)
            ]
            _produce_acknowledged(producer, original, message.key(), message.value() or b"", kept)
            consumer.commit(message=message, asynchronous=False)
            replayed += 1
            quiet_since = time.monotonic()
    finally:
        consumer.close()
        producer.flush(5)
    log.info("replayed %d dead letters of %s", replayed, topic)
    return replayed


def _produce_acknowledged(
    producer: Producer,
    topic: str,
    key: bytes | None,
    value: bytes,
    headers: list[tuple[str, bytes]],
) -> None:
    """Produces one record and waits for the broker's acknowledgement."""
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    pairs: list[tuple[str, str | bytes | None]] = list(headers)
    producer.produce(topic, value=value, key=key, headers=pairs, on_delivery=delivered)
    if producer.flush(30) or failures:
        raise ReplayError(f"the broker did not take a replayed record: {failures}")


def _assign_from_committed(consumer: Consumer, topic: str) -> bool:
    """Assigns every partition of `topic` at the replay group's committed offset (no group join,
    which a broker like Tansu makes slow); False if the topic does not exist."""
    try:
        found = consumer.list_topics(topic, timeout=10).topics.get(topic)
    except KafkaException as error:
        raise ReplayError(f"cannot reach the broker: {error}") from None
    if found is None or found.error is not None:
        return False
    partitions = [TopicPartition(topic, partition) for partition in sorted(found.partitions)]
    committed = consumer.committed(partitions, timeout=10)
    consumer.assign(
        [
            TopicPartition(topic, p.partition, p.offset if p.offset >= 0 else OFFSET_BEGINNING)
            for p in committed
        ]
    )
    return True
