"""What every consumer does, whichever offsets it keeps: the fetch loop and the handler's retries.

The two kinds of consumer (`consumer.EventConsumer`, a group member that resumes from committed
offsets; `fan_out.FanOutConsumer`, a group of one that sees everything from now on) differ only
in how they join, where an assignment starts, what becomes of a processed record's offset and
whether records can pass unseen; `ConsumeLoop` asks them through four hooks and does the rest.

Failures are classified by `failures.is_transient`: a dependency that is down
(Postgres, svc_tasks) is waited out with backoff for as long as it takes, and
the record is never dead-lettered for it; any other failure is retried
`max_attempts` times, then the record is parked on `<topic>.dlq` (`dead_letters`)
and consumption goes on. Every librdkafka call of a consumer runs on one thread
of its own; lag is sampled there every second (`consumer_lag`), and the broker's
refusals and recoveries go to `broker_health`.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from todo_runtime.backoff import Backoff
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.consumer_lag import ConsumerLag
from todo_runtime.dead_letters import DeadLetters
from todo_runtime.failures import describe, is_transient
from todo_runtime.kafka_settings import KafkaConfig, client_settings
from todo_runtime.missing_topics import create_missing_topics
from todo_runtime.producer import EventProducer
from todo_runtime.received_event import ReceivedEvent, position, received

log = logging.getLogger(__name__)

T = TypeVar("T")

COMMIT_INTERVAL_MS: Final = 1000  # how often stored offsets are committed
_BATCH: Final = 100  # records fetched from librdkafka per call
_LAG_INTERVAL: Final = 1.0  # seconds between consumer lag samples (see `consumer_lag`)
_TOPIC_RETRY: Final = 5.0  # seconds between attempts to create missing subscribed topics


def consumer_settings(
    config: KafkaConfig, group_id: str, *, fetch_wait_max_ms: int | None = None
) -> dict[str, object]:
    """A group member's settings: a new group starts at the earliest record; offsets are stored
    by hand after each effect and committed by librdkafka in the background."""
    return client_settings(
        config,
        {
            "group.id": group_id,
            "client.id": group_id,
            "enable.auto.commit": True,
            "auto.commit.interval.ms": COMMIT_INTERVAL_MS,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
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


class ConsumeLoop(abc.ABC):
    """Consumes `topics` for consumer group `group`, calling `handler` once per record until it
    succeeds (or the record is dead-lettered).

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
    """

    def __init__(
        self,
        config: KafkaConfig,
        group: str,
        topics: Sequence[str],
        handler: Callable[[ReceivedEvent], Awaitable[None]],
        *,
        max_attempts: int = 3,
        backoff: Callable[[], Backoff] = lambda: Backoff(0.2, 10.0),
        producer_for_dlq: EventProducer | None = None,
        poll_timeout: float = 1.0,
        fetch_wait_max_ms: int | None = None,
        batch_handler: Callable[[Sequence[ReceivedEvent]], Awaitable[None]] | None = None,
        broker: BrokerHealth | None = None,
    ) -> None:
        self._lag = ConsumerLag(group)
        self._broker = broker
        self._source = f"consumer {group}"  # the group's, whatever id this member joins with
        self._settings = self._joining(config, group, fetch_wait_max_ms)
        self._group_id = str(self._settings["group.id"])
        self._config = config
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._dead_letters = DeadLetters(
            config, self._group_id, producer=producer_for_dlq, broker=broker, backoff=backoff
        )
        self._poll_timeout = poll_timeout
        self._assigned = asyncio.Event()
        self._outage_since: float | None = None
        self._next_topic_check = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        # Every librdkafka call of this consumer runs on this one thread, so a
        # close after cancellation waits for the fetch still in flight.
        self._executor: ThreadPoolExecutor | None = None

    @abc.abstractmethod
    def _joining(
        self, config: KafkaConfig, group: str, fetch_wait_max_ms: int | None
    ) -> dict[str, object]:
        """How it joins `group`: its librdkafka settings, `group.id` (the id it joins with,
        which names it in the log and in its dead letters) included."""

    @abc.abstractmethod
    def _start_at(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Where newly assigned `partitions` start (called in the assignment callback)."""

    @abc.abstractmethod
    async def _done_with(self, consumer: Consumer, messages: list[Message]) -> None:
        """What becomes of the offsets of a fetch's records once they were processed."""

    @abc.abstractmethod
    def _may_have_missed_records(self) -> None:
        """Records may have passed unseen: partitions (re)assigned or lost, the broker back.

        Called on librdkafka's thread or the event loop."""

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
                    event = received(message)
                    if isinstance(event, ReceivedEvent):
                        ready.append((event, message))
                        continue
                    await self._apply(ready)  # what came before it first: dead letters keep order
                    ready = []
                    log.error(
                        "%s has invalid headers, dead-lettering it: %s", position(message), event
                    )
                    await self._dead_letters.park(message, event, attempts=0)
                await self._apply(ready)
                self._lag.processed(processed)
                if processed:
                    # Once per fetch, not per record: each call is a hop to the consumer's thread.
                    await self._done_with(consumer, processed)
        finally:
            sampler.cancel()
            await self._call(consumer.close)  # commits what was stored
            self._lag.clear()
            executor.shutdown(wait=False)
            await self._dead_letters.close()

    async def _sample_lag(self, consumer: Consumer) -> None:
        """Keeps the lag current, also while a handler is stuck (see `consumer_lag`)."""
        while True:
            try:
                await self._call(self._lag.sample, consumer)
            except KafkaException as exc:  # e.g. mid-rebalance: the next sample catches up
                log.debug("consumer %s: cannot sample lag: %s", self._group_id, exc)
            await asyncio.sleep(_LAG_INTERVAL)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """Runs a librdkafka call on the consumer's thread."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__}._call before run()")
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
            await self._handle(event, message, position(message))

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
                    await self._dead_letters.park(message, exc, attempts=failures)
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

    async def _on_message_error(self, error: KafkaError) -> None:
        self._report(error)
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            now = time.monotonic()
            if now >= self._next_topic_check:
                self._next_topic_check = now + _TOPIC_RETRY
                await create_missing_topics(
                    self._config, self._topics, f"consumer {self._group_id}"
                )

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
            self._may_have_missed_records()  # records may have come and gone meanwhile

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("consumer %s: assigned %d partitions", self._group_id, len(partitions))
        self._start_at(consumer, partitions)
        self._recovered()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._assigned.set)
            self._may_have_missed_records()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("consumer %s: %d partitions revoked", self._group_id, len(partitions))
        self._lag.forget(partitions)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.warning(
            "consumer %s: %d partitions lost (group state gone, e.g. broker restart)",
            self._group_id,
            len(partitions),
        )
        self._lag.forget(partitions)
        self._may_have_missed_records()


def _fetch(consumer: Consumer, timeout: float) -> list[Message]:
    """Waits up to `timeout` for one record, then takes what else is already there (up to a batch).

    `Consumer.consume(n, timeout)` would hold early records until `n` arrived
    or the timeout passed, which adds up to `timeout` to every record's latency.
    """
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(_BATCH - 1, 0)]
