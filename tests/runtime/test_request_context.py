"""The correlation id follows a request: outbox row, Kafka header, consumer, and what it causes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from tests.runtime.conftest import SCHEMA
from tests.runtime.test_consumer import GROUP, TOPIC, consuming, fast_backoff, single_partition
from tests.support.infra import eventually
from todo_cli.broker import EmbeddedBroker
from todo_contracts.events.v1 import task_events_pb2
from todo_runtime import request_context
from todo_runtime.cloudevents import event_headers, read_headers
from todo_runtime.consumer import EventConsumer
from todo_runtime.db import Connection
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.logs import ContextFilter
from todo_runtime.outbox import OutgoingEvent, enqueue
from todo_runtime.outbox_relay import OutboxRelay
from todo_runtime.producer import EventProducer
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.topics import ensure_topics
from todo_runtime.unit_of_work import transactional

HEX_ID = r"[0-9a-f]{32}"


@pytest.mark.parametrize(
    "candidate",
    [
        "req-1",
        "01J9ZQ3V6Y8W0000000000000",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "a.b:c_d-e",
        "x" * 128,
    ],
)
def test_a_valid_id_is_kept(candidate: str) -> None:
    assert request_context.accept(candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [None, "", "x" * 129, "has space", "new\nline", 'quote"d', "ünïcode", "a/b", "<script>"],
)
def test_an_invalid_or_missing_id_is_replaced(candidate: str | None) -> None:
    replaced = request_context.accept(candidate)
    assert replaced != candidate
    assert request_context.accept(replaced) == replaced  # the new one is itself valid


def test_bound_sets_the_id_for_the_block_only() -> None:
    assert request_context.correlation_id() is None
    with request_context.bound("req-1"):
        assert request_context.correlation_id() == "req-1"
        assert request_context.correlation_metadata() == (("x-request-id", "req-1"),)
        # Tracing is off: only the id travels.
        assert request_context.outgoing() == [("x-request-id", "req-1")]
    assert request_context.correlation_id() is None
    assert request_context.outgoing() == []


def test_pairs_of_keeps_only_propagation_headers_as_text() -> None:
    headers: list[tuple[str, str | bytes | None]] = [
        ("ce_id", b"e-1"),
        ("x-request-id", b"req-1"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("tracestate", b"\xff"),  # not UTF-8: ignored
        ("x-request-id", None),
    ]
    assert request_context.pairs_of(headers) == [
        ("x-request-id", "req-1"),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ]


def event_with(correlation: str | None, name: str) -> ReceivedEvent:
    message = task_events_pb2.TaskEvent(event_id=str(uuid.uuid4()), actor=name)
    headers = event_headers(
        event_id=message.event_id,
        source="/test",
        type="todo.task.updated",
        subject=name,
        time=datetime.now(UTC),
        message_name=message.DESCRIPTOR.full_name,
    )
    propagation = () if correlation is None else (("x-request-id", correlation),)
    return ReceivedEvent(
        TOPIC, 0, 0, b"k", message.SerializeToString(), read_headers(headers), propagation
    )


async def test_a_batch_handles_each_event_under_its_own_id(
    pool: asyncpg.Pool[Any], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str | None, tuple[str, str] | None]] = []

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        seen.append((request_context.correlation_id(), request_context.current_event()))

    events = [event_with("req-a", "a"), event_with("req-b", "b"), event_with(None, "c")]
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG, logger="todo_runtime.unit_of_work")
    await transactional(pool, GROUP, handle).batch(events)

    assert [correlation for correlation, _ in seen][:2] == ["req-a", "req-b"]
    assert seen[2][0] is not None  # an event without an id gets a new one, its own
    assert seen[2][0] not in {"req-a", "req-b"}
    assert [event for _, event in seen] == [(e.headers.id, TOPIC) for e in events]
    applied = [r for r in caplog.records if r.getMessage().startswith(f"{GROUP}: applied")]
    # ContextFilter's fields, as every log line has them
    assert [(r.__dict__["correlation_id"], r.__dict__["event_id"]) for r in applied] == [
        (correlation, event.headers.id)
        for (correlation, _), event in zip(seen, events, strict=True)
    ]
    assert request_context.correlation_id() is None  # nothing leaks past the batch


async def test_the_id_goes_from_outbox_row_to_kafka_header_to_the_consumer_and_on(
    pool: asyncpg.Pool[Any], broker: EmbeddedBroker
) -> None:
    """The consumer handles each event under the id of the request that wrote it, and the events
    its handler writes carry that id on."""
    config = single_partition(broker)
    await ensure_topics_now(config)
    first = event_with(None, "first")
    async with pool.acquire() as conn, conn.transaction():
        with request_context.bound("req-origin"):
            await enqueue(conn, [outgoing_of(first, TOPIC)])
    stored = json.loads(await pool.fetchval("SELECT headers::text FROM outbox"))
    assert ["x-request-id", "req-origin"] in stored

    seen: dict[str, str | None] = {}

    async def handle(event: ReceivedEvent, conn: Connection) -> None:
        name = event.parse(task_events_pb2.TaskEvent).actor
        seen[name] = request_context.correlation_id()
        if name == "first":  # what handling it causes: another event, on another topic
            await enqueue(conn, [outgoing_of(event_with(None, "second"), TOPIC)])

    producer = EventProducer(config, "relay", message_timeout_ms=5000)
    relay = OutboxRelay(pool, SCHEMA, producer, config)
    apply = transactional(pool, GROUP, handle)
    consumer = EventConsumer(
        config, GROUP, [TOPIC], apply, backoff=fast_backoff, batch_handler=apply.batch
    )
    try:
        async with consuming(consumer):
            await relay.publish_pending()

            async def published_second() -> bool:
                await relay.publish_pending()
                return "second" in seen

            await eventually(published_second)
    finally:
        await producer.close(1.0)
    assert seen == {"first": "req-origin", "second": "req-origin"}


def outgoing_of(event: ReceivedEvent, topic: str) -> OutgoingEvent:
    return OutgoingEvent(
        topic=topic,
        key="k",
        message=event.parse(task_events_pb2.TaskEvent),
        event_id=event.headers.id,
        source=event.headers.source,
        type=event.headers.type,
        subject=event.headers.subject,
        time=event.headers.time,
    )


async def ensure_topics_now(config: KafkaConfig) -> None:
    await asyncio.to_thread(ensure_topics, config, [TOPIC])
