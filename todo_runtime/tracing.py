"""OpenTelemetry tracing: on only when an OTLP endpoint is configured, and then set up once here.

With `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set, `start_tracing`
exports spans there over OTLP/gRPC (the exporter reads the other standard `OTEL_EXPORTER_OTLP_*`
settings itself) and turns the official instrumentations on: the gRPC aio client and server
interceptors (`grpc_client`, `grpc_server`), asyncpg, confluent-kafka's producer (`producer`),
httpx clients (`http_client`: svc_notify's webhook deliveries), and in the gateway the ASGI
middleware and Strawberry's extension. W3C `traceparent` travels in HTTP, gRPC metadata and Kafka
headers; outbox rows keep their request's (`request_context`), and a reminder keeps the context of
the event that scheduled it for the webhook deliveries it causes when it fires (`trace_context`,
`continuing`). Log lines carry the current span's ids (`span_ids`).

Consumers continue the publisher's trace by hand (`request_context.handling`): confluent-kafka's
consumer instrumentation starts its span in the fetching thread when a fetch returns, linked to
(not a child of) the records' contexts, and ends it at the next fetch, so it neither encloses one
event's handling, which runs on the event loop, nor continues the publisher's trace.

Unset, nothing is installed: the interceptor lists are empty, the producer and the HTTP client are
the libraries' own, and no span is ever made.
"""

from __future__ import annotations

# The SDK and the instrumentations are imported where they are used, only once tracing is on.
# ruff: noqa: PLC0415
import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from confluent_kafka import Producer
from grpc.aio import ClientInterceptor, ServerInterceptor
from opentelemetry import propagate, trace
from opentelemetry.util.types import AttributeValue

from todo_runtime import request_context
from todo_runtime.config import Env

if TYPE_CHECKING:
    import httpx
    from opentelemetry.instrumentation.httpx import AsyncRequestHook
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_ENVS: Final = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: TracerProvider | None = None


def start_tracing(component: str, env: Env | None = None) -> TracerProvider | None:
    """Traces this process as `component` to the configured OTLP endpoint; None when none is set."""
    env = env or Env()
    if not any(env.text(name, "") for name in ENDPOINT_ENVS):
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: component}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    install(provider)
    return provider


def install(provider: TracerProvider) -> None:
    """Traces with `provider` from now on (tests pass one with an in-memory exporter).

    Channels and servers made before keep what they had: call it before starting anything.
    """
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    global _provider  # noqa: PLW0603 - process-wide, as OpenTelemetry's own provider is
    _provider = provider
    request_context.trace_with(provider.get_tracer(__name__))
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]


def uninstall() -> None:
    """Stops tracing (and flushes nothing: `provider.shutdown()` is the owner's)."""
    global _provider  # noqa: PLW0603 - see install
    if _provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    request_context.trace_with(None)
    _provider = None


def provider() -> TracerProvider | None:
    """The provider spans go to, or None while tracing is off."""
    return _provider


def client_interceptors() -> list[ClientInterceptor]:
    """Interceptors for an outgoing channel: a client span per call and `traceparent` in its
    metadata; none while tracing is off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    interceptors: list[ClientInterceptor] = aio_client_interceptors(  # type: ignore[no-untyped-call]
        tracer_provider=_provider, filter_=_traced()
    )
    return interceptors


def server_interceptors() -> list[ServerInterceptor[object, object]]:
    """The interceptor that makes a server span per call, a child of the caller's span; none while
    tracing is off."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider, filter_=_traced())]  # type: ignore[no-untyped-call]


def kafka_producer(client: Producer) -> Producer:
    """`client`, instrumented when tracing is on: a publish span per record, whose context is
    injected into the record's headers."""
    if _provider is None:
        return client
    from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor

    return ConfluentKafkaInstrumentor.instrument_producer(client, tracer_provider=_provider)


def original_producer(client: Producer) -> Producer:
    """The librdkafka client under an instrumented one (whose proxy has no `close`)."""
    if type(client) is Producer:  # never instrumented: tracing was off when it was made
        return client
    from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor

    return ConfluentKafkaInstrumentor.uninstrument_producer(client)


def _traced() -> Any:  # a filters.Condition, for client and server calls alike
    """Every call but the health probes' and reflection's, which would drown the traces."""
    from opentelemetry.instrumentation.grpc import filters

    return filters.negate(
        filters.any_of(filters.health_check(), filters.service_prefix("grpc.reflection."))
    )


def http_client(client: httpx.AsyncClient, request_hook: AsyncRequestHook | None = None) -> None:
    """Instruments `client` when tracing is on: a client span per request, `traceparent` in its
    headers; `request_hook(span, request)` runs as each span starts."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=_provider, request_hook=request_hook
    )


def span_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in W3C hex, for log lines; None while tracing is off
    or outside any span."""
    if _provider is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def trace_context() -> dict[str, str] | None:
    """The current trace context as W3C headers, for a row whose work is done later (a reminder's
    webhook deliveries); None while tracing is off or outside any span."""
    if _provider is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def continuing(
    carrier: Mapping[str, str] | None, name: str, attributes: Mapping[str, AttributeValue]
) -> Iterator[trace.Span]:
    """Runs the block in a span `name`, a child of the context `trace_context` kept in `carrier`
    (the root of a trace of its own when there is none); a non-recording span while tracing is
    off."""
    if _provider is None:
        yield trace.INVALID_SPAN
        return
    with _provider.get_tracer(__name__).start_as_current_span(
        name, context=propagate.extract(carrier or {}), attributes=attributes
    ) as span:
        yield span
