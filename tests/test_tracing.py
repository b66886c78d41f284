"""Tracing: one trace from a GraphQL mutation through svc_tasks, its outbox relay and Kafka to a
consumer; and nothing at all installed while no OTLP endpoint is configured."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest
from confluent_kafka import Producer
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from tests.support.gateway.gateway_harness import create_task, make_config, running_client
from tests.support.infra import TEST_SECRET, eventually, service_config
from todo_cli.broker import EmbeddedBroker, free_port
from todo_runtime import endpoints, request_context, tracing
from todo_runtime.config import Env
from todo_runtime.runner import start_service

CREATE_TASK = "/todo.tasks.v1.TaskService/CreateTask"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on in this process, into memory, for one test."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


def ancestry(span: ReadableSpan, spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """`span`, its parent, its parent's parent... up to the root."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    chain = [span]
    while chain[-1].parent is not None:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_one_trace_from_the_gateway_through_svc_tasks_to_a_consumer(
    spans: InMemorySpanExporter, database_url: str, broker: EmbeddedBroker
) -> None:
    tasks = await start_service(
        TASKS, service_config(endpoints.TASKS, database_url, broker.bootstrap_servers)
    )
    tasks_address = f"127.0.0.1:{tasks.port}"
    recur = await start_service(
        RECUR,
        service_config(
            endpoints.RECUR, database_url, broker.bootstrap_servers, TODO_TASKS_ADDR=tasks_address
        ),
    )
    try:
        async with running_client(make_config(tasks_address, internal_secret=TEST_SECRET)) as gw:
            await create_task(gw, title="traced")

        def consumed() -> list[ReadableSpan]:
            return [
                span
                for span in spans.get_finished_spans()
                if span.kind == SpanKind.CONSUMER
                and span.name == "task-events process"
                and span.attributes is not None
                and span.attributes.get("messaging.message.id") is not None
            ]

        await eventually(lambda: bool(consumed()), 30.0)
    finally:
        await recur.stop()
        await tasks.stop()

    finished = list(spans.get_finished_spans())
    [consumer] = consumed()
    chain = ancestry(consumer, finished)
    names = [(span.kind, span.name) for span in chain]
    # consumer <- the relay's publish <- svc_tasks' server span <- the gateway's gRPC call <- its
    # resolver <- the GraphQL operation, the root.
    assert names == [
        (SpanKind.CONSUMER, "task-events process"),
        (SpanKind.PRODUCER, "task-events send"),
        (SpanKind.SERVER, CREATE_TASK),
        (SpanKind.CLIENT, CREATE_TASK),
        (SpanKind.INTERNAL, "GraphQL Resolving: createTask"),
        (SpanKind.SERVER, "GraphQL Query"),
    ]
    assert len({span.context.trace_id for span in chain if span.context is not None}) == 1
    # The svc_tasks work in between is traced too: its SQL on asyncpg, in the same trace.
    server = chain[2]
    assert any(
        span.kind == SpanKind.CLIENT
        and span.parent is not None
        and server.context is not None
        and span.parent.span_id == server.context.span_id
        and span.attributes is not None
        and span.attributes.get("db.system") == "postgresql"
        for span in finished
    )


async def test_off_without_an_endpoint_nothing_is_installed(database_url: str) -> None:
    assert tracing.start_tracing("svc_probe", Env({})) is None
    assert tracing.provider() is None
    assert tracing.client_interceptors() == []
    assert tracing.server_interceptors() == []
    client = Producer({"bootstrap.servers": "127.0.0.1:1"})
    assert tracing.kafka_producer(client) is client
    assert not hasattr(asyncpg.Connection.execute, "__wrapped__")
    with request_context.bound("req-1"):
        assert request_context.outgoing() == [("x-request-id", "req-1")]


@pytest.mark.integration
async def test_on_with_an_endpoint_and_off_again() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    provider = tracing.start_tracing(
        "svc_probe", Env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint})
    )
    assert provider is not None
    try:
        assert tracing.provider() is provider
        assert tracing.client_interceptors()
        assert tracing.server_interceptors()
        assert hasattr(asyncpg.Connection.execute, "__wrapped__")
        tracer = provider.get_tracer(__name__)
        with tracer.start_as_current_span("request"), request_context.bound("req-1"):
            names = [name for name, _ in request_context.outgoing()]
        assert names == ["x-request-id", "traceparent"]
    finally:
        tracing.uninstall()
        provider.shutdown()
    assert tracing.provider() is None
    assert not hasattr(asyncpg.Connection.execute, "__wrapped__")
