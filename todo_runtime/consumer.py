"""A thin at-least-once consume loop around a plain async handler.

The handler makes its effect durable (and idempotent, see `inbox.claim`); only
after it returned is the record's offset committed. A handler that keeps
failing gets bounded retries with backoff, then the record is parked on
`<topic>.dlq` with the error in headers and consumption goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from google.protobuf import message as protobuf

from todo_runtime.cloudevents import EventHeaders, EventHeadersError, read_headers
from todo_runtime.config import KafkaConfig
from todo_runtime.producer import DeliveryError, EventProducer, Record
from todo_runtime.topics import LIBRDKAFKA_LOG_LEVEL, dead_letter, ensure_topics

log = logging.getLogger(__name__)

M = TypeVar("M", bound=protobuf.Message)
T = TypeVar("T")

_TOPIC_RETRY: Final = 5.0  # seconds between attempts to create missing subscribed topics


class UnexpectedMessageError(ValueError):
    """The record holds another Protobuf message type than the handler expects."""


@dataclass(frozen=True)
class ReceivedEvent:
    """One consumed record with its CloudEvents attributes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: EventHeaders

    def parse(self, message_type: type[M]) -> M:
        """Decodes the value, checking the `proto_message` header names `message_type`."""
        expected = message_type.DESCRIPTOR.full_name
        if self.headers.message_name != expected:
            raise UnexpectedMessageError(
                f"expected {expected}, the record holds {self.headers.message_name}"
            )
        message = message_type()
        message.ParseFromString(self.value)
        return message


def consumer_settings(config: KafkaConfig, group_id: str) -> dict[str, object]:
    """Manual offset storage and commits: an offset is committed only after its effect."""
    return {
        "bootstrap.servers": config.bootstrap_servers,
        "group.id": group_id,
        "client.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": config.session_timeout_ms,
        "heartbeat.interval.ms": max(100, config.session_timeout_ms // 3),
        "fetch.wait.max.ms": config.fetch_wait_max_ms,
        "partition.assignment.strategy": config.assignment_strategy,
        # Notice topics created after subscribing (or recreated after a broker restart) soon.
        "topic.metadata.refresh.interval.ms": 5000,
        "log_level": LIBRDKAFKA_LOG_LEVEL,
    }


class EventConsumer:
    """Consumes `topics` as group `group_id`, calling `handler` once per record until it succeeds.

    Parameters: `max_attempts` handler calls per record before it is
    dead-lettered; `initial_backoff`/`max_backoff` bound the exponential wait
    between attempts (and between dead-letter publish retries);
    `producer_for_dlq` is used for dead letters (one is created if omitted);
    `poll_timeout` is how long one blocking poll may take.
    """

    def __init__(
        self,
        config: KafkaConfig,
        group_id: str,
        topics: Sequence[str],
        handler: Callable[[ReceivedEvent], Awaitable[None]],
        *,
        max_attempts: int = 5,
        initial_backoff: float = 0.2,
        max_backoff: float = 5.0,
        producer_for_dlq: EventProducer | None = None,
        poll_timeout: float = 0.2,
    ) -> None:
        self._config = config
        self._group_id = group_id
        self._topics = list(topics)
        self._handler = handler
        self._max_attempts = max(1, max_attempts)
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._dlq = producer_for_dlq
        self._poll_timeout = poll_timeout
        self._assigned = asyncio.Event()
        self._outage_since: float | None = None
        self._next_topic_check = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        # Every librdkafka call of this consumer runs on this one thread, so a
        # close after cancellation waits for the poll still in flight.
        self._executor: ThreadPoolExecutor | None = None

    async def wait_assigned(self, timeout: float) -> None:  # noqa: ASYNC109 - a test helper
        """Waits until the group gave this consumer its first assignment (for tests)."""
        async with asyncio.timeout(timeout):
            await self._assigned.wait()

    async def run(self) -> None:
        """Consumes until cancelled; broker outages are logged once and waited out."""
        self._loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(1, thread_name_prefix=f"consumer-{self._group_id}")
        self._executor = executor
        own_dlq = self._dlq is None
        settings = consumer_settings(self._config, self._group_id) | {"error_cb": self._on_error}
        consumer = await self._call(Consumer, settings)
        try:
            await self._call(
                functools.partial(
                    consumer.subscribe,
                    self._topics,
                    on_assign=self._on_assign,
                    on_revoke=self._on_revoke,
                    on_lost=self._on_lost,
                )
            )
            while True:
                message = await self._call(consumer.poll, self._poll_timeout)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    await self._on_message_error(error)
                    continue
                self._recovered()
                await self._process(consumer, message)
        finally:
            await self._call(consumer.close)
            executor.shutdown(wait=False)
            if own_dlq and self._dlq is not None:
                await self._dlq.close()
                self._dlq = None

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        assert self._loop is not None  # set by run()
        return await self._loop.run_in_executor(self._executor, function, *args)

    async def _process(self, consumer: Consumer, message: Message) -> None:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        # A consumed record always has all three.
        assert topic is not None
        assert partition is not None
        assert offset is not None
        where = f"{topic} [{partition}]@{offset}"
        try:
            headers = read_headers(message.headers())
        except EventHeadersError as exc:
            log.error("%s has invalid headers, dead-lettering it: %s", where, exc)
            await self._dead_letter(message, exc, attempts=0)
        else:
            event = ReceivedEvent(
                topic, partition, offset, message.key(), message.value() or b"", headers
            )
            await self._handle(event, message, where)
        try:
            await self._call(_store_and_commit, consumer, message)
        except KafkaException as exc:  # e.g. partition revoked meanwhile: redelivered, idempotent
            log.warning("cannot commit %s, it will be redelivered: %s", where, exc)

    async def _handle(self, event: ReceivedEvent, message: Message, where: str) -> None:
        delay = self._initial_backoff
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._handler(event)
                return
            except Exception as exc:
                if attempt == self._max_attempts:
                    log.exception(
                        "%s (event %s) failed %d times, dead-lettering it",
                        where,
                        event.headers.id,
                        attempt,
                    )
                    await self._dead_letter(message, exc, attempts=attempt)
                    return
                log.warning(
                    "%s (event %s) failed (attempt %d of %d), retrying: %r",
                    where,
                    event.headers.id,
                    attempt,
                    self._max_attempts,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    async def _dead_letter(self, message: Message, error: BaseException, *, attempts: int) -> None:
        """Publishes the record to its DLQ, retrying until the broker acknowledges it."""
        if self._dlq is None:  # created on first use: most consumers never dead-letter
            self._dlq = EventProducer(self._config, f"{self._group_id}-dlq")
        dlq = self._dlq
        topic = message.topic() or ""
        raw = message.headers() or []
        pairs = raw.items() if isinstance(raw, dict) else raw
        headers = [
            (name, value.encode() if isinstance(value, str) else value or b"")
            for name, value in pairs
        ]
        headers += [
            ("dlq_error", f"{type(error).__name__}: {error}".encode()),
            ("dlq_original_topic", topic.encode()),
            ("dlq_original_partition", str(message.partition()).encode()),
            ("dlq_original_offset", str(message.offset()).encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        record = Record(dead_letter(topic), message.key(), message.value() or b"", headers)
        delay = self._initial_backoff
        while True:
            [outcome] = await dlq.send([record])
            if outcome is None:
                return
            log.warning(
                "cannot dead-letter %s [%d]@%d, retrying: %s",
                topic,
                message.partition(),
                message.offset(),
                outcome,
            )
            if isinstance(outcome, DeliveryError) and outcome.topic_missing:
                await self._create_topics([record.topic])
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _create_topics(self, topics: Sequence[str]) -> None:
        """Creates topics an in-memory broker lost (or nobody created yet); best effort."""
        try:
            await asyncio.to_thread(ensure_topics, self._config, topics)
        except Exception as exc:  # retried on the next error
            log.debug("consumer %s: cannot create topics %s: %s", self._group_id, topics, exc)

    async def _on_message_error(self, error: KafkaError) -> None:
        self._report(error)
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            now = time.monotonic()
            if now >= self._next_topic_check:
                self._next_topic_check = now + _TOPIC_RETRY
                await self._create_topics(self._topics)

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback (on the poll thread): broker down, transport errors."""
        self._report(error)

    def _report(self, error: KafkaError) -> None:
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("consumer %s: %s; will keep retrying", self._group_id, error.str())
        else:
            log.debug("consumer %s: %s", self._group_id, error.str())

    def _recovered(self) -> None:
        if self._outage_since is not None:
            log.info(
                "consumer %s: consuming again after %.1f s",
                self._group_id,
                time.monotonic() - self._outage_since,
            )
            self._outage_since = None

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("consumer %s: assigned %d partitions", self._group_id, len(partitions))
        self._recovered()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._assigned.set)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commits what was stored before the partitions move to another member."""
        log.info("consumer %s: %d partitions revoked", self._group_id, len(partitions))
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if DeliveryError.from_exception(exc).code != KafkaError._NO_OFFSET:
                log.warning("consumer %s: commit on revoke failed: %s", self._group_id, exc)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning(
            "consumer %s: %d partitions lost (group state gone, e.g. broker restart)",
            self._group_id,
            len(partitions),
        )


def _store_and_commit(consumer: Consumer, message: Message) -> None:
    consumer.store_offsets(message)
    consumer.commit(asynchronous=False)
