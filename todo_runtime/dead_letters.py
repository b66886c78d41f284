"""Dead letters: a record that can never be applied, parked on `<topic>.dlq`, and sent back.

One module for both ends, so the headers a dead letter is written with and the ones its replay
reads and drops are defined once. A consumer parks a record (`DeadLetters.park`) once its handler
failed `max_attempts` times for a reason no retry fixes, or when its headers are not CloudEvents:
the original key, value and headers, plus the reason and where it came from in `dlq_*` headers.

`todo dlq replay` (`replay_dead_letters`) reads `<topic>.dlq` from its own consumer group's
committed offsets, so each dead letter is replayed once however often the command runs, and
produces each record to its original topic with its original headers (the `dlq_*` ones dropped).
Every consumer of that topic sees it again and skips it by event id, except the one that failed,
which now gets another chance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from todo_runtime import metrics
from todo_runtime.backoff import Backoff
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.failures import describe
from todo_runtime.kafka_settings import KafkaConfig, client_settings
from todo_runtime.missing_topics import create_missing_topics
from todo_runtime.producer import DeliveryError, EventProducer, Record, producer_settings
from todo_runtime.topics import dead_letter

log = logging.getLogger(__name__)

# Headers a dead letter gets besides the original ones; a replay drops them.
DLQ_HEADER_PREFIX: Final = "dlq_"
DLQ_ERROR: Final = "dlq_error"
DLQ_ORIGINAL_TOPIC: Final = "dlq_original_topic"
REPLAY_GROUP: Final = "todo-dlq-replay"


class DeadLetters:
    """The dead letters of one consumer, group id `group_id`.

    Parameters: `producer` publishes them (if it is None, one is created on
    first use and closed by `close`); `broker` hears of that producer's
    refusals; `backoff` bounds the waits between attempts.
    """

    def __init__(
        self,
        config: KafkaConfig,
        group_id: str,
        *,
        producer: EventProducer | None,
        broker: BrokerHealth | None,
        backoff: Callable[[], Backoff],
    ) -> None:
        self._config = config
        self._group_id = group_id
        self._producer = producer
        self._own: EventProducer | None = None
        self._broker = broker
        self._backoff = backoff

    async def park(self, message: Message, error: BaseException, *, attempts: int) -> None:
        """Publishes the record to its DLQ, retrying until the broker acknowledges it."""
        if self._producer is None:  # created on first use: most consumers never dead-letter
            self._producer = self._own = EventProducer(
                self._config, f"{self._group_id}-dlq", broker=self._broker
            )
        producer = self._producer
        topic = message.topic() or ""
        metrics.DEAD_LETTERS.labels(self._group_id, topic).inc()
        headers = [
            (name, value)
            for name, value in header_pairs(message)
            if not name.startswith(DLQ_HEADER_PREFIX)
        ]
        headers += [
            (DLQ_ERROR, describe(error).encode()),
            (DLQ_ORIGINAL_TOPIC, topic.encode()),
            (DLQ_HEADER_PREFIX + "original_partition", str(message.partition()).encode()),
            (DLQ_HEADER_PREFIX + "original_offset", str(message.offset()).encode()),
            (DLQ_HEADER_PREFIX + "attempts", str(attempts).encode()),
            (DLQ_HEADER_PREFIX + "consumer", self._group_id.encode()),
        ]
        record = Record(dead_letter(topic), message.key(), message.value() or b"", headers)
        backoff = self._backoff()
        while True:
            [outcome] = await producer.send([record])
            if outcome is None:
                return
            log.warning(
                "cannot dead-letter %s [%s]@%s, retrying: %s",
                topic,
                message.partition(),
                message.offset(),
                outcome,
            )
            if isinstance(outcome, DeliveryError) and outcome.topic_missing:
                await create_missing_topics(
                    self._config, [record.topic], f"consumer {self._group_id}"
                )
            await backoff.wait()

    async def close(self) -> None:
        """Closes the producer `park` created, if any (a given one is its owner's to close)."""
        if self._own is not None:
            await self._own.close()
            self._producer = self._own = None


def header_pairs(message: Message) -> list[tuple[str, bytes]]:
    """A consumed record's headers as (name, bytes) pairs."""
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [
        (name, value.encode() if isinstance(value, str) else value or b"") for name, value in pairs
    ]


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
