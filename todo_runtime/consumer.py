"""A thin at-least-once consume loop around a plain async handler.

The handler makes its effect durable and idempotent (see `unit_of_work`); only
after it returned is the record's offset stored, and librdkafka commits stored
offsets every `COMMIT_INTERVAL_MS` and on revoke and close. A crash therefore
redelivers at most that interval's records, which the inbox skips.

Failures are classified by `failures.is_transient`: a dependency that is down
(Postgres, svc_tasks) is waited out with backoff for as long as it takes, and
the record is never dead-lettered for it; any other failure is retried
`max_attempts` times, then the record is parked on `<topic>.dlq` with the
reason in headers and consumption goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from google.protobuf import message as protobuf
from google.protobuf.message import DecodeError

from todo_runtime import metrics, request_context
from todo_runtime.backoff import Backoff
from todo_runtime.broker_calls import off_loop
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.cloudevents import EventHeaders, EventHeadersError, read_headers
from todo_runtime.consumer_lag import ConsumerLag
from todo_runtime.failures import PermanentError, describe, is_transient
from todo_runtime.kafka_settings import KafkaConfig, client_settings
from todo_runtime.producer import DeliveryError, EventProducer, Record
from todo_runtime.topics import dead_letter, ensure_topics

log = logging.getLogger(__name__)

M = TypeVar("M", bound=protobuf.Message)
T = TypeVar("T")

COMMIT_INTERVAL_MS: Final = 1000  # how often stored offsets are committed
_BATCH: Final = 100  # records fetched from librdkafka per call
_LAG_INTERVAL: Final = 1.0  # seconds between consumer lag samples (see `consumer_lag`)
_TOPIC_RETRY: Final = 5.0  # seconds between attempts to create missing subscribed topics
# Headers a dead letter gets besides the original ones (see `dlq_replay`).
DLQ_HEADER_PREFIX: Final = "dlq_"
DLQ_ERROR: Final = "dlq_error"
DLQ_ORIGINAL_TOPIC: Final = "dlq_original_topic"


class UnexpectedMessageError(PermanentError):
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
    # The correlation id and trace context it was published with (see `request_context`).
    propagation: tuple[tuple[str, str], ...] = ()

    def handling(self) -> contextlib.AbstractContextManager[None]:
        """The block handles this event as part of the request that caused it."""
        return request_context.handling(
            self.propagation, event_id=self.headers.id, topic=self.topic
        )

    def parse(self, message_type: type[M]) -> M:
        """Decodes the value, checking the `proto_message` header names `message_type`."""
        expected = message_type.DESCRIPTOR.full_name
        if self.headers.message_name != expected:
            raise UnexpectedMessageError(
                f"expected {expected}, the record holds {self.headers.message_name}"
            )
        message = message_type()
        try:
            message.ParseFromString(self.value)
        except DecodeError as error:
            raise PermanentError(f"cannot decode {expected}: {error}") from None
        return message


def consumer_settings(
    config: KafkaConfig,
    group_id: str,
    *,
    fetch_wait_max_ms: int | None = None,
    fan_out: bool = False,
) -> dict[str, object]:
    """Offsets are stored by hand after each effect and committed by librdkafka in the background.

    A `fan_out` consumer (a group of one, see `EventConsumer`) starts at the end
    of every partition and commits nothing: nobody ever resumes from its offsets.
    """
    return client_settings(
        config,
        {
            "group.id": group_id,
            "client.id": group_id,
            "enable.auto.commit": not fan_out,
            "auto.commit.interval.ms": COMMIT_INTERVAL_MS,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "latest" if fan_out else "earliest",
            "session.timeout.ms": config.session_timeout_ms,
            "heartbeat.interval.ms": max(100, config.session_timeout_ms // 3),
            "fetch.wait.max.ms": config.fetch_wait_max_ms
            if fetch_wait_max_ms is None
            else fetch_wait_max_ms,
            "partition.assignment.strategy": config.assignment_strategy,
            # Notice topics created after subscribing (or recreated after a broker restart) soon.
            "topic.metadata.refresh.interval.ms": 5000,
        },
    )


class EventConsumer:
    """Consumes `topics` as group `group_id`, calling `handler` once per record until it succeeds.

    Parameters: `max_attempts` handler calls per record for a permanent
    failure before it is dead-lettered (transient failures are retried without
    limit); `backoff` bounds the waits between attempts; `producer_for_dlq` is
    used for dead letters (one is created on first use if omitted);
    `poll_timeout` is how long one blocking fetch from librdkafka may take;
    `fetch_wait_max_ms` overrides the broker fetch wait of `config` (low for
    latency-sensitive consumers on brokers without long-poll wake-up);
    `batch_handler`, when given, applies the records of one fetch together (all
    or none); if it fails they go through `handler` one at a time. `broker`
    hears of the broker's refusals (TLS, credentials, ACLs) and of recoveries.

    `fan_out=True` makes a consumer that sees every record of every partition,
    from the moment it joined, whatever other processes consume: its group id
    gets a unique suffix (so it is the group's only member), it starts at the
    end and commits nothing. `on_reassigned` is then called (on the event loop)
    whenever its partitions were (re)assigned or lost, i.e. whenever records may
    have passed unseen (start-up, broker restart): the caller re-reads them
    from its source of truth.
    """

    def __init__(
        self,
        config: KafkaConfig,
        group_id: str,
        topics: Sequence[str],
        handler: Callable[[ReceivedEvent], Awaitable[None]],
        *,
        max_attempts: int = 3,
        backoff: Callable[[], Backoff] = lambda: Backoff(0.2, 10.0),
        producer_for_dlq: EventProducer | None = None,
        poll_timeout: float = 1.0,
        fetch_wait_max_ms: int | None = None,
        fan_out: bool = False,
        on_reassigned: Callable[[], None] | None = None,
        batch_handler: Callable[[Sequence[ReceivedEvent]], Awaitable[None]] | None = None,
        broker: BrokerHealth | None = None,
    ) -> None:
        self._lag = ConsumerLag(group_id)
        self._broker = broker
        self._source = f"consumer {group_id}"  # without a fan-out consumer's unique suffix
        if fan_out:
            group_id = f"{group_id}-{uuid.uuid4().hex[:12]}"
        self._config = config
        self._group_id = group_id
        self._fan_out = fan_out
        self._on_reassigned = on_reassigned
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._dlq = producer_for_dlq
        self._poll_timeout = poll_timeout
        self._settings = consumer_settings(
            config, group_id, fetch_wait_max_ms=fetch_wait_max_ms, fan_out=fan_out
        )
        self._assigned = asyncio.Event()
        self._outage_since: float | None = None
        self._next_topic_check = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        # Every librdkafka call of this consumer runs on this one thread, so a
        # close after cancellation waits for the fetch still in flight.
        self._executor: ThreadPoolExecutor | None = None

    async def wait_assigned(self, timeout: float) -> None:  # noqa: ASYNC109 - a test helper
        """Waits until the group gave this consumer its first assignment (for tests)."""
        async with asyncio.timeout(timeout):
            await self.assigned()

    async def assigned(self) -> None:
        """Returns once the group gave this consumer its first assignment."""
        await self._assigned.wait()

    async def run(self) -> None:
        """Consumes until cancelled; broker outages are logged once and waited out."""
        self._loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(1, thread_name_prefix=f"consumer-{self._group_id}")
        self._executor = executor
        own_dlq = self._dlq is None
        consumer = await self._call(Consumer, self._settings | {"error_cb": self._on_error})
        sampler = asyncio.create_task(self._sample_lag(consumer), name=f"lag {self._group_id}")
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
                messages = await self._call(_fetch, consumer, self._poll_timeout)
                processed = []
                ready: list[tuple[ReceivedEvent, Message]] = []
                for message in messages:
                    error = message.error()
                    if error is not None:
                        await self._on_message_error(error)
                        continue
                    self._recovered()
                    processed.append(message)
                    event = _received(message)
                    if isinstance(event, ReceivedEvent):
                        ready.append((event, message))
                        continue
                    await self._apply(ready)  # what came before it first: dead letters keep order
                    ready = []
                    log.error(
                        "%s has invalid headers, dead-lettering it: %s", _where(message), event
                    )
                    await self._dead_letter(message, event, attempts=0)
                await self._apply(ready)
                self._lag.processed(processed)
                if processed and not self._fan_out:
                    # Once per fetch, not per record: each call is a hop to the consumer's thread.
                    await self._call(_store_offsets, consumer, processed)
        finally:
            sampler.cancel()
            await self._call(consumer.close)  # commits what was stored
            self._lag.clear()
            executor.shutdown(wait=False)
            if own_dlq and self._dlq is not None:
                await self._dlq.close()
                self._dlq = None

    async def _sample_lag(self, consumer: Consumer) -> None:
        """Keeps the lag current, also while a handler is stuck (see `consumer_lag`)."""
        while True:
            try:
                await self._call(self._lag.sample, consumer)
            except KafkaException as exc:  # e.g. mid-rebalance: the next sample catches up
                log.debug("consumer %s: cannot sample lag: %s", self._group_id, exc)
            await asyncio.sleep(_LAG_INTERVAL)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        if self._loop is None:
            raise RuntimeError("EventConsumer._call before run()")
        return await self._loop.run_in_executor(self._executor, function, *args)

    async def _apply(self, ready: list[tuple[ReceivedEvent, Message]]) -> None:
        """Applies a fetch's events: together when there is a batch handler and more than one,
        else (and when the batch fails, to retry or dead-letter each alone) one at a time."""
        if self._batch_handler is not None and len(ready) > 1:
            try:
                await self._batch_handler([event for event, _ in ready])
                return
            except Exception as exc:
                log.info(
                    "%d events failed as a batch (%s); applying them one at a time",
                    len(ready),
                    describe(exc),
                )
        for event, message in ready:
            await self._handle(event, message, _where(message))

    async def _handle(self, event: ReceivedEvent, message: Message, where: str) -> None:
        with event.handling():
            await self._handle_in_context(event, message, where)

    async def _handle_in_context(self, event: ReceivedEvent, message: Message, where: str) -> None:
        backoff = self._backoff()
        failures = 0
        waiting_since: float | None = None
        while True:
            try:
                await self._handler(event)
            except Exception as exc:
                if is_transient(exc):
                    if waiting_since is None:
                        waiting_since = time.monotonic()
                        log.warning(
                            "%s (event %s) waits for a dependency, retrying until it is back: %s",
                            where,
                            event.headers.id,
                            describe(exc),
                        )
                    await backoff.wait()
                    continue
                failures += 1
                if failures >= self._max_attempts:
                    log.error(
                        "%s (event %s) failed %d times, dead-lettering it: %s",
                        where,
                        event.headers.id,
                        failures,
                        describe(exc),
                    )
                    await self._dead_letter(message, exc, attempts=failures)
                    return
                log.warning(
                    "%s (event %s) failed (attempt %d of %d): %s",
                    where,
                    event.headers.id,
                    failures,
                    self._max_attempts,
                    describe(exc),
                )
                await backoff.wait()
                continue
            if waiting_since is not None:
                log.info(
                    "%s (event %s) processed after waiting %.1f s",
                    where,
                    event.headers.id,
                    time.monotonic() - waiting_since,
                )
            return

    async def _dead_letter(self, message: Message, error: BaseException, *, attempts: int) -> None:
        """Publishes the record to its DLQ, retrying until the broker acknowledges it."""
        if self._dlq is None:  # created on first use: most consumers never dead-letter
            self._dlq = EventProducer(self._config, f"{self._group_id}-dlq", broker=self._broker)
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
            [outcome] = await self._dlq.send([record])
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
                await self._create_topics([record.topic])
            await backoff.wait()

    async def _create_topics(self, topics: Sequence[str]) -> None:
        """Creates topics an in-memory broker lost (or nobody created yet); best effort."""
        try:
            await off_loop(ensure_topics, self._config, topics)
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
        """librdkafka's error callback (on the fetch thread): broker down, transport errors."""
        self._report(error)

    def _report(self, error: KafkaError) -> None:
        if self._broker is not None:
            self._broker.report(self._source, error)
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("consumer %s: %s; will keep retrying", self._group_id, error.str())
        else:
            log.debug("consumer %s: %s", self._group_id, error.str())

    def _recovered(self) -> None:
        if self._broker is not None:
            self._broker.cleared(self._source)
        if self._outage_since is not None:
            log.info(
                "consumer %s: consuming again after %.1f s",
                self._group_id,
                time.monotonic() - self._outage_since,
            )
            self._outage_since = None
            self._reassigned()  # records may have come and gone while the broker was away

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("consumer %s: assigned %d partitions", self._group_id, len(partitions))
        if self._fan_out:
            _position_at_end(consumer, partitions, self._group_id)
        self._recovered()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._assigned.set)
            self._reassigned()

    def _reassigned(self) -> None:
        if self._loop is not None and self._on_reassigned is not None:
            self._loop.call_soon_threadsafe(self._on_reassigned)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Commits what was stored before the partitions move to another member."""
        log.info("consumer %s: %d partitions revoked", self._group_id, len(partitions))
        self._lag.forget(partitions)
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
        self._lag.forget(partitions)
        self._reassigned()


def _position_at_end(consumer: Consumer, partitions: list[TopicPartition], group_id: str) -> None:
    """Starts a fan-out consumer at each partition's end as of now, before its owner re-reads its
    source of truth (`on_reassigned`, scheduled after this returns).

    `auto.offset.reset=latest` would find the end only at the first fetch, later: a record
    published in between would be neither re-read (it came after the re-read) nor fetched (it
    lies before the end found). Asked here, the end is below every record the re-read misses.
    """
    for partition in partitions:
        try:
            _low, high = consumer.get_watermark_offsets(partition, timeout=5.0, cached=False)
        except KafkaException as exc:  # the re-read on the next reassignment or heartbeat covers it
            log.warning(
                "consumer %s: cannot find the end of %s [%d], starting at the latest: %s",
                group_id,
                partition.topic,
                partition.partition,
                exc,
            )
            continue
        partition.offset = high
    consumer.assign(partitions)


def header_pairs(message: Message) -> list[tuple[str, bytes]]:
    """A consumed record's headers as (name, bytes) pairs."""
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [
        (name, value.encode() if isinstance(value, str) else value or b"") for name, value in pairs
    ]


def _received(message: Message) -> ReceivedEvent | EventHeadersError:
    """The record as an event, or why its headers are not CloudEvents."""
    try:
        headers = read_headers(message.headers())
    except EventHeadersError as exc:
        return exc
    return ReceivedEvent(
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        message.key(),
        message.value() or b"",
        headers,
        tuple(request_context.pairs_of(message.headers() or ())),
    )


def _where(message: Message) -> str:
    return f"{message.topic()} [{message.partition()}]@{message.offset()}"


def _store_offsets(consumer: Consumer, messages: list[Message]) -> None:
    """Stores the offsets of processed records, for librdkafka's next commit."""
    for message in messages:
        try:
            consumer.store_offsets(message)
        except KafkaException as exc:  # e.g. partition revoked meanwhile: redelivered, idempotent
            log.warning(
                "cannot store the offset of %s, it will be redelivered: %s", _where(message), exc
            )


def _fetch(consumer: Consumer, timeout: float) -> list[Message]:
    """Waits up to `timeout` for one record, then takes what else is already there (up to a batch).

    `Consumer.consume(n, timeout)` would hold early records until `n` arrived
    or the timeout passed, which adds up to `timeout` to every record's latency.
    """
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(_BATCH - 1, 0)]
