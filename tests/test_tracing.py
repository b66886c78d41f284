"""Tracing: one trace from a client's `traceparent` through the gateway, svc_tasks, its outbox relay
and Kafka to a consumer and on to the webhook call it causes; log lines carry the span's ids; and
nothing at all installed while no OTLP endpoint is configured."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import grpc
import pytest
from confluent_kafka import Producer
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.app import create_app
from svc_notify.sender import Sender
from svc_notify.service import SERVICE as NOTIFY
from svc_notify.webhook_settings import WebhookSettings
from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from tests.support.gateway.gateway_harness import (
    CREATE,
    create_task,
    make_config,
    running_client,
    token_for,
)
from tests.support.infra import TEST_SECRET, RunningTasks, eventually, service_config
from tests.support.svc_notify.receiver import receiving
from todo_cli.broker import EmbeddedBroker, free_port
from todo_contracts.notify.v1 import notification_service_pb2 as notify_pb
from todo_contracts.notify.v1 import notification_service_pb2_grpc
from todo_runtime import endpoints, request_context, tracing
from todo_runtime.config import Env
from todo_runtime.identity import identity_metadata
from todo_runtime.logs import ContextFilter, JsonFormatter, TextFormatter
from todo_runtime.runner import start_service

CREATE_TASK = "/todo.tasks.v1.TaskService/CreateTask"
# A createTask's spans from its event's consumer up to the root: consumer <- the relay's publish
# <- svc_tasks' server span <- the gateway's gRPC call <- its resolver <- the GraphQL operation
# <- the gateway's HTTP request.
CONSUMER_TO_ROOT = [
    (SpanKind.CONSUMER, "task-events process"),
    (SpanKind.PRODUCER, "task-events send"),
    (SpanKind.SERVER, CREATE_TASK),
    (SpanKind.CLIENT, CREATE_TASK),
    (SpanKind.INTERNAL, "GraphQL Resolving: createTask"),
    (SpanKind.SERVER, "GraphQL Query"),
    (SpanKind.SERVER, "POST /graphql"),
]
WITHIN = 60.0  # generous: the machine is shared; what is checked is the trace, not the speed


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
    """`span`, its parent, its parent's parent... up to the root, or to the first whose parent is
    not among `spans` (a client's span, which this process never saw)."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    chain = [span]
    while (parent := chain[-1].parent) is not None and parent.span_id in by_id:
        chain.append(by_id[parent.span_id])
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
    assert [(span.kind, span.name) for span in chain] == CONSUMER_TO_ROOT
    assert chain[-1].parent is None
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


async def test_one_trace_from_a_client_traceparent_to_the_webhook_call_it_causes(
    spans: InMemorySpanExporter, tasks_service: RunningTasks
) -> None:
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)  # the client's
    notify = await start_service(
        NOTIFY,
        service_config(
            endpoints.NOTIFY,
            tasks_service.config.database.url,
            tasks_service.config.kafka.bootstrap_servers,
            TODO_WEBHOOK_ALLOW_PRIVATE="1",  # the receiver listens on 127.0.0.1
        ),
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{notify.port}")
    stub = notification_service_pb2_grpc.NotificationServiceStub(channel)
    config = make_config(tasks_service.address, internal_secret=TEST_SECRET)
    try:
        async with receiving() as receiver, running_client(config) as gw:
            as_user = identity_metadata(TEST_SECRET, gw.user)
            created = await stub.CreateWebhook(
                notify_pb.CreateWebhookRequest(webhook=notify_pb.Webhook(url=receiver.url)),
                metadata=as_user,
                timeout=10,
            )
            remind_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
            response = await gw.http.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {"input": {"title": "t", "remindAt": [remind_at]}},
                },
                headers={
                    "authorization": f"Bearer {token_for(gw.user)}",
                    "traceparent": f"00-{trace_id}-{client_span}-01",
                },
            )
            assert response.status_code == 200, response.text
            assert "errors" not in response.json(), response.text

            def delivered() -> list[ReadableSpan]:
                return [s for s in spans.get_finished_spans() if s.name == "webhook delivery"]

            await eventually(lambda: bool(delivered()), WITHIN)  # ends once its attempt is kept
            for path in ("/healthz", "/readyz", "/web/board.js", "/graphql/assets/x.js", "/"):
                await gw.http.get(path)
        attempts = await stub.ListWebhookDeliveries(
            notify_pb.ListWebhookDeliveriesRequest(webhook_id=created.webhook.id),
            metadata=as_user,
            timeout=10,
        )
    finally:
        await channel.close(None)
        await notify.stop()

    # The receiver got the trace to continue: the client's trace id, the POST's span as parent.
    [hook] = receiver.received
    _, received_trace, received_parent, _ = hook.headers["traceparent"].split("-")
    assert received_trace == trace_id
    finished = list(spans.get_finished_spans())
    [post] = [
        s
        for s in finished
        if s.context is not None and s.context.span_id == int(received_parent, 16)
    ]
    chain = ancestry(post, finished)
    # The webhook's POST <- its delivery <- svc_notify handling the event (which scheduled the
    # reminder) <- the relay's publish <- svc_tasks <- the gateway's call, resolver, operation and
    # HTTP request <- the client's span.
    assert [(span.kind, span.name) for span in chain] == [
        (SpanKind.CLIENT, "POST"),
        (SpanKind.INTERNAL, "webhook delivery"),
        *CONSUMER_TO_ROOT,
    ]
    root = chain[-1].parent
    assert root is not None
    assert root.is_remote
    assert root.span_id == int(client_span, 16)
    assert {span.context.trace_id for span in chain if span.context} == {int(trace_id, 16)}
    [attempt] = attempts.deliveries
    delivery = chain[1].attributes or {}
    assert delivery["todo.webhook.delivery_id"] == attempt.delivery_id
    assert delivery["todo.webhook.message_id"] == hook.headers["webhook-id"]
    assert delivery["todo.webhook.attempt"] == 1
    # The URL in the trace keeps no path, which may hold the receiver's secret.
    urls = [v for k, v in (post.attributes or {}).items() if k in ("url.full", "http.url")]
    assert urls, post.attributes
    assert all(str(url).endswith("/REDACTED") for url in urls), urls
    # The probes and static assets are left out; the board's page is not.
    served = sorted(
        s.name for s in finished if s.kind == SpanKind.SERVER and s.name.startswith("GET")
    )
    assert served == ["GET /"]


async def webhook_client_traced() -> bool:
    """Whether a new webhook sender's HTTP client is instrumented (its transport wrapped)."""
    async with Sender(WebhookSettings.from_env(Env({}))) as sender:
        return "handle_async_request" in vars(sender._client._transport)


def log_line(formatter: logging.Formatter) -> str:
    """A line as a configured handler writes it (`ContextFilter`, then `formatter`)."""
    record = logging.LogRecord("probe", logging.INFO, __file__, 1, "a line", None, None)
    ContextFilter().filter(record)
    return formatter.format(record)


def test_a_log_line_written_in_a_span_carries_its_ids(spans: InMemorySpanExporter) -> None:
    provider = tracing.provider()
    assert provider is not None
    with provider.get_tracer(__name__).start_as_current_span("work") as span:
        line = json.loads(log_line(JsonFormatter("probe")))
        text = log_line(TextFormatter("probe"))
    ids = span.get_span_context()
    trace_id, span_id = f"{ids.trace_id:032x}", f"{ids.span_id:016x}"
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert f"[trace_id={trace_id} span_id={span_id}]: a line" in text
    outside = json.loads(log_line(JsonFormatter("probe")))
    assert "trace_id" not in outside
    assert "span_id" not in outside
    assert "trace_id" not in log_line(TextFormatter("probe"))


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
    app = create_app(make_config())
    classes: list[object] = [m.cls for m in app.user_middleware]
    assert OpenTelemetryMiddleware not in classes
    assert not await webhook_client_traced()
    assert tracing.trace_context() is None
    with TracerProvider().get_tracer(__name__).start_as_current_span("elsewhere"):
        assert "trace_id" not in json.loads(log_line(JsonFormatter("probe")))


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
        assert await webhook_client_traced()
        tracer = provider.get_tracer(__name__)
        with tracer.start_as_current_span("request"), request_context.bound("req-1"):
            names = [name for name, _ in request_context.outgoing()]
        assert names == ["x-request-id", "traceparent"]
    finally:
        tracing.uninstall()
        provider.shutdown()
    assert tracing.provider() is None
    assert not hasattr(asyncpg.Connection.execute, "__wrapped__")
