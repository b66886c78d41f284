"""An idempotent Kafka producer with an async, per-record outcome API.

confluent-kafka is callback based and blocking; `EventProducer.send` runs the
blocking parts in a worker thread and hands back one outcome per record, so
callers (the outbox relay, dead-lettering) know exactly which records the
broker acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from todo_runtime import request_context, tracing
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.kafka_settings import KafkaConfig, client_settings

log = logging.getLogger(__name__)

# Codes meaning "the broker does not know this topic": after a restart an
# in-memory broker answers UNKNOWN_TOPIC_OR_PART, librdkafka reports records
# queued for a vanished partition as _UNKNOWN_PARTITION and refuses new ones
# with _UNKNOWN_TOPIC until the client is recreated.
_TOPIC_MISSING: Final = frozenset(
    {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION}
)
_SLICE: Final = 0.2  # seconds per blocking call, so a cancelled send frees its thread quickly
# The connection to the broker dropped: it may come back without its state.
_DISCONNECTED: Final = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN})


@dataclass(frozen=True)
class Record:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class DeliveryError(Exception):
    """The broker did not acknowledge a record; `code` is librdkafka's error code."""

    def __init__(self, code: int, name: str, reason: str, *, fatal: bool = False) -> None:
        super().__init__(f"{name}: {reason}")
        self.code = code
        self.name = name
        self.fatal = fatal

    @property
    def topic_missing(self) -> bool:
        """True when creating the topic (`ensure_topics`) and retrying can help."""
        return self.code in _TOPIC_MISSING

    @classmethod
    def from_kafka(cls, error: KafkaError) -> DeliveryError:
        return cls(error.code(), error.name(), error.str(), fatal=error.fatal())

    @classmethod
    def from_exception(cls, exc: KafkaException) -> DeliveryError:
        first = exc.args[0] if exc.args else None
        if isinstance(first, KafkaError):
            return cls.from_kafka(first)
        return cls(KafkaError._FAIL, "_FAIL", str(exc))


NOT_ATTEMPTED: Final = -1000  # code of records skipped because an earlier record failed


def producer_settings(
    config: KafkaConfig, client_id: str, *, message_timeout_ms: int = 10_000
) -> dict[str, object]:
    """librdkafka settings: idempotent (ordered, no duplicates on retry), acks from all replicas.

    `message_timeout_ms` bounds how long a record may wait for a reachable broker
    before its delivery fails and the caller decides what to do (the outbox keeps
    it and retries with a fresh client; librdkafka's own default is 5 minutes).
    """
    return client_settings(
        config,
        {
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "max.in.flight.requests.per.connection": 5,
            "message.timeout.ms": message_timeout_ms,
            # Topics are created with the configured partition count by ensure_topics,
            # never implicitly by a produce to a missing topic.
            "allow.auto.create.topics": False,
            # Report a missing topic after 1 s instead of holding records for 30 s.
            "topic.metadata.propagation.max.ms": min(1000, message_timeout_ms),
        },
    )


class EventProducer:
    """Produces records and reports each one's fate; a send that failed replaces the client.

    An idempotent producer whose broker lost its state (an in-memory broker
    restarted) never recovers by itself: librdkafka answers the broker's
    UNKNOWN_PRODUCER_ID with a local epoch bump the broker does not know either
    and retries until the records time out, or fails fatally; and a topic it saw
    vanish stays "unknown" to it. So after any failed record the next `send`
    starts from a fresh client. Sends are serialized, which keeps order.

    A client that was idle while the broker restarted is as stale, and worse:
    the new broker hands its producer id to another client, takes this one's
    records for that client's duplicates, and acknowledges them without storing
    them. So a `send` after any lost connection also starts from a fresh client.
    """

    def __init__(
        self,
        config: KafkaConfig,
        client_id: str,
        *,
        message_timeout_ms: int = 10_000,
        broker: BrokerHealth | None = None,
    ) -> None:
        """`broker` hears of refusals (TLS, credentials, ACLs) and of deliveries that worked."""
        self._broker = broker
        self._source = f"producer {client_id}"
        self._settings = producer_settings(config, client_id, message_timeout_ms=message_timeout_ms)
        self._settings["error_cb"] = self._on_error
        self._report_wait = message_timeout_ms / 1000 + 5.0
        self._client = tracing.kafka_producer(Producer(self._settings))
        self._stale = False
        self._closed = False
        self._lock = asyncio.Lock()
        self.disconnects = 0
        self._disconnects_seen = 0  # `disconnects` when the current client was created

    def _on_error(self, error: KafkaError) -> None:
        """librdkafka's error callback; outages are reported by the caller, once.

        Counts lost broker connections in `disconnects`, so the outbox relay
        checks whether the broker came back without its topics.
        """
        if error.code() in _DISCONNECTED:
            self.disconnects += 1
        if self._broker is not None:
            self._broker.report(self._source, error)
        if error.fatal():
            log.error("Kafka producer failed fatally, will recreate it: %s", error.str())
            self._stale = True
        else:
            log.debug("Kafka producer error: %s", error.str())

    async def send(self, records: Sequence[Record]) -> list[BaseException | None]:
        """Produces `records` in order; returns None (acknowledged) or the error for each."""
        if self._closed:
            raise RuntimeError("producer is closed")
        if not records:
            return []
        async with self._lock:
            # Serves the error callbacks of an idle client: did its broker go away meanwhile?
            # A zero wait returns at once, so it is served here rather than by a worker thread.
            self._client.poll(0)
            if self._stale or self.disconnects != self._disconnects_seen:
                await self._recreate()
            outcomes: list[BaseException | None] = [None] * len(records)
            pending: set[int] = set()
            deadline = time.monotonic() + self._report_wait
            # One trip to a worker thread produces the records and waits for their reports (a
            # full local queue and the broker's answer block); a slow broker takes more trips.
            await asyncio.to_thread(self._produce_and_serve, records, outcomes, pending)
            while pending and time.monotonic() < deadline:
                await asyncio.to_thread(self._serve, outcomes, pending)
            for index in pending:
                outcomes[index] = DeliveryError(
                    KafkaError._TIMED_OUT, "_TIMED_OUT", "no delivery report"
                )
            failures = [outcome for outcome in outcomes if outcome is not None]
            if failures:
                self._stale = True
            self._report(failures)
            return outcomes

    def _report(self, failures: list[BaseException]) -> None:
        """Tells the broker health what the broker made of this send."""
        if self._broker is None:
            return
        if not failures:
            self._broker.cleared(self._source)
        for failure in failures:
            if isinstance(failure, DeliveryError):
                self._broker.report(self._source, KafkaError(failure.code, str(failure)))

    def _produce_and_serve(
        self,
        records: Sequence[Record],
        outcomes: list[BaseException | None],
        pending: set[int],
    ) -> None:
        self._produce_all(records, outcomes, pending)
        if pending:
            self._serve(outcomes, pending)

    def _produce_all(
        self,
        records: Sequence[Record],
        outcomes: list[BaseException | None],
        pending: set[int],
    ) -> None:
        for index, record in enumerate(records):
            try:
                self._produce_one(record, index, outcomes, pending)
            except KafkaException as exc:
                outcomes[index] = DeliveryError.from_exception(exc)
                # Producing later records now could reorder them around this one.
                for later in range(index + 1, len(records)):
                    outcomes[later] = DeliveryError(
                        NOT_ATTEMPTED, "NOT_ATTEMPTED", "an earlier record of the batch failed"
                    )
                return

    def _produce_one(
        self, record: Record, index: int, outcomes: list[BaseException | None], pending: set[int]
    ) -> None:
        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                outcomes[index] = DeliveryError.from_kafka(error)
            pending.discard(index)

        pending.add(index)
        while True:
            try:
                # In the trace of the request that stored the record (when tracing is on).
                with request_context.publishing(record.headers) as headers:
                    self._client.produce(
                        record.topic,
                        value=record.value,
                        key=record.key,
                        headers=headers,
                        on_delivery=delivered,
                    )
                return
            except BufferError:  # local queue full: let deliveries drain it
                self._client.poll(_SLICE)
            except KafkaException:
                pending.discard(index)
                raise

    def _serve(self, outcomes: list[BaseException | None], pending: set[int]) -> None:
        try:
            self._client.flush(_SLICE)
        except KafkaException as exc:  # fatal: nothing in flight will be delivered
            error = DeliveryError.from_exception(exc)
            for index in list(pending):
                outcomes[index] = error
            pending.clear()
            self._stale = True

    async def _recreate(self) -> None:
        old = self._client
        self._client = tracing.kafka_producer(Producer(self._settings))
        self._stale = False
        self._disconnects_seen = self.disconnects
        await asyncio.to_thread(_discard, old)
        log.info("recreated Kafka producer %s", self._settings["client.id"])

    async def close(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - a flush budget
        """Waits up to `timeout` seconds for records in flight, then releases the client.

        Short, so a stop is quick with the broker away: the outbox marks a record sent only
        once acknowledged, so one still in flight is published again after the restart.
        """
        self._closed = True
        remaining: int = await asyncio.to_thread(self._client.flush, timeout)
        if remaining:
            log.warning("closing Kafka producer with %d records undelivered", remaining)
        await asyncio.to_thread(_discard, self._client)


def _discard(client: Producer) -> None:
    """Drops queued records (their callbacks report a purge) and frees the client."""
    client = tracing.original_producer(client)
    try:
        client.purge()
        client.flush(0)
        client.close()
    except KafkaException as exc:
        log.debug("error while discarding Kafka producer: %s", exc)
