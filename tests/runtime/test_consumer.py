"""The consume loop: commit after the effect, bounded retries, dead letters, outages."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from tests.support.infra import eventually, kafka_config
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import reminder_events_pb2, task_events_pb2
from todo_runtime.backoff import Backoff
from todo_runtime.cloudevents import event_headers, read_headers
from todo_runtime.consume_loop import consumer_settings
from todo_runtime.consumer import EventConsumer
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.producer import EventProducer, Record
from todo_runtime.received_event import ReceivedEvent, UnexpectedMessageError
from todo_runtime.topics import dead_letter, ensure_topics

TOPIC = "things"
GROUP = "things-worker"


def fast_backoff() -> Backoff:
    return Backoff(0.01, 0.05)


def single_partition(broker: EmbeddedBroker) -> KafkaConfig:
    """One partition, so records arrive in the order they were produced."""
    return replace(kafka_config(broker.bootstrap_servers), partitions=1)


def record(name: str, event_id: str | None = None) -> Record:
    message = task_events_pb2.TaskEvent(event_id=event_id or str(uuid.uuid4()), actor=name)
    headers = event_headers(
        event_id=message.event_id,
        source="/test",
        type="todo.task.updated",
        subject=name,
        time=datetime.now(UTC),
        message_name=message.DESCRIPTOR.full_name,
    )
    return Record(TOPIC, b"user-1", message.SerializeToString(), headers)


async def produce(config: KafkaConfig, *records: Record) -> None:
    """Publishes and waits for the broker's ack, creating the topic if it is missing."""
    producer = EventProducer(config, "test-producer", message_timeout_ms=5000)
    try:
        deadline = time.monotonic() + 15
        while True:
            outcomes = await producer.send(records)
            if all(outcome is None for outcome in outcomes):
                return
            assert time.monotonic() < deadline, outcomes
            await asyncio.to_thread(ensure_topics, config, [r.topic for r in records])
    finally:
        await producer.close(1.0)


def name_of(event: ReceivedEvent) -> str:
    return event.parse(task_events_pb2.TaskEvent).actor


def offset_committed(config: KafkaConfig, offset: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(committed_offset, config) == offset

    return check


@contextlib.asynccontextmanager
async def consuming(consumer: EventConsumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        await consumer.wait_assigned(15)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def committed_offset(config: KafkaConfig) -> int:
    client = Consumer(consumer_settings(config, GROUP))
    try:
        [partition] = client.committed([TopicPartition(TOPIC, 0)], timeout=5)
        return partition.offset
    finally:
        client.close()


def read_all(config: KafkaConfig, topic: str, count: int) -> list[Message]:
    client = Consumer({"bootstrap.servers": config.bootstrap_servers, "group.id": "reader"})
    try:
        client.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        messages: list[Message] = []
        deadline = time.monotonic() + 10
        while len(messages) < count and time.monotonic() < deadline:
            message = client.poll(0.1)
            if message is not None and message.error() is None:
                messages.append(message)
        return messages
    finally:
        client.close()


def headers_of(message: Message) -> dict[str, bytes]:
    raw = message.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return {name: value for name, value in pairs if isinstance(value, bytes)}


def test_parse_checks_the_message_type() -> None:
    produced = record("a")
    event = ReceivedEvent(TOPIC, 0, 7, b"k", produced.value, read_headers(produced.headers))
    assert event.parse(task_events_pb2.TaskEvent).actor == "a"
    with pytest.raises(UnexpectedMessageError, match=r"todo\.events\.v1\.TaskEvent"):
        event.parse(reminder_events_pb2.ReminderFired)


async def test_offset_is_committed_only_after_the_handler_succeeded(
    broker: EmbeddedBroker,
) -> None:
    config = single_partition(broker)
    await produce(config, record("flaky"))
    calls: list[str] = []

    async def handler(event: ReceivedEvent) -> None:
        calls.append(name_of(event))
        if len(calls) <= 2:
            assert await asyncio.to_thread(committed_offset, config) < 0  # nothing committed yet
            raise ConnectionError("database unavailable")

    worker = EventConsumer(config, GROUP, [TOPIC], handler, backoff=fast_backoff)
    async with consuming(worker):
        await eventually(lambda: len(calls) == 3)
        await eventually(offset_committed(config, 1))

    # A new member of the group starts after the committed record.
    await produce(config, record("next"))
    seen: list[str] = []

    async def second(event: ReceivedEvent) -> None:
        seen.append(name_of(event))

    async with consuming(EventConsumer(config, GROUP, [TOPIC], second)):
        await eventually(lambda: seen == ["next"])
    assert calls == ["flaky", "flaky", "flaky"]


async def test_record_whose_handler_never_returned_is_redelivered(broker: EmbeddedBroker) -> None:
    config = single_partition(broker)
    await produce(config, record("slow"))
    started = asyncio.Event()

    async def hangs(event: ReceivedEvent) -> None:
        started.set()
        await asyncio.Event().wait()  # the process dies mid-effect

    async with consuming(EventConsumer(config, GROUP, [TOPIC], hangs)):
        await asyncio.wait_for(started.wait(), 10)

    seen: list[str] = []

    async def finishes(event: ReceivedEvent) -> None:
        seen.append(name_of(event))

    async with consuming(EventConsumer(config, GROUP, [TOPIC], finishes)):
        await eventually(lambda: seen == ["slow"])


async def test_poison_records_go_to_the_dead_letter_topic(broker: EmbeddedBroker) -> None:
    config = single_partition(broker)
    poison = record("poison")
    no_headers = Record(TOPIC, b"user-1", b"not an event", [("traceparent", b"00-1")])
    await produce(config, poison, no_headers, record("fine"))
    calls: list[str] = []

    async def handler(event: ReceivedEvent) -> None:
        calls.append(name_of(event))
        if name_of(event) == "poison":
            raise ValueError("cannot apply poison")

    worker = EventConsumer(config, GROUP, [TOPIC], handler, max_attempts=3, backoff=fast_backoff)
    async with consuming(worker):
        await eventually(lambda: "fine" in calls)
        # The dead-letter topic did not exist: the consumer created it.
        letters = await asyncio.to_thread(read_all, config, dead_letter(TOPIC), 2)
        await eventually(offset_committed(config, 3))

    assert calls == ["poison", "poison", "poison", "fine"]
    assert [letter.value() for letter in letters] == [poison.value, b"not an event"]
    first = headers_of(letters[0])
    assert first["dlq_error"] == b"ValueError: cannot apply poison"
    assert first["dlq_original_topic"] == TOPIC.encode()
    assert first["dlq_original_partition"] == b"0"
    assert first["dlq_original_offset"] == b"0"
    assert first["dlq_attempts"] == b"3"
    assert read_headers(letters[0].headers()) == read_headers(poison.headers)
    assert letters[0].key() == b"user-1"
    second = headers_of(letters[1])
    assert second["dlq_error"].startswith(b"EventHeadersError: missing CloudEvents headers")
    assert second["dlq_original_offset"] == b"1"
    assert second["dlq_attempts"] == b"0"
    assert second["traceparent"] == b"00-1"


async def test_consumer_keeps_going_across_a_broker_restart(broker: EmbeddedBroker) -> None:
    config = single_partition(broker)
    await produce(config, record("before"))
    seen: list[str] = []

    async def handler(event: ReceivedEvent) -> None:
        seen.append(name_of(event))

    async with consuming(EventConsumer(config, GROUP, [TOPIC], handler)) as task:
        await eventually(lambda: seen == ["before"])

        broker.stop()
        broker.start()  # empty: topics, records and the group's offsets are gone
        await produce(config, record("after"))

        await eventually(lambda: seen == ["before", "after"], within=20)
        assert not task.done()
