"""What follows one request from process to process: its correlation id and its trace context.

The gateway accepts the client's `X-Request-Id` (or makes one up). Every gRPC call made on the
request's behalf carries it in metadata (`grpc_client`), the server restores it (`grpc_server`),
outbox rows keep it in their headers, so the relay publishes it as a Kafka header, and a consumer
restores it around that one event's handling: what the handler causes in turn (a gRPC call, more
outbox rows) carries the same id. `logs` puts it on every log line.

The W3C trace context (`traceparent`, `tracestate`) rides in the same carriers once `tracing`
turned tracing on (`start_tracing`): gRPC metadata gets it from the official interceptors, outbox
rows and consumed events from here. Off, nothing here touches OpenTelemetry.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar, Token
from typing import Final, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Tracer

CORRELATION_KEY: Final = "x-request-id"  # HTTP header, gRPC metadata key and Kafka header
TRACE_KEYS: Final = frozenset({"traceparent", "tracestate"})
MAX_LENGTH: Final = 128
# What a client's id may hold: enough for UUIDs, ULIDs and trace ids, nothing that could forge a
# log line, a header or a metadata value.
_VALID: Final = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")

_correlation: ContextVar[str | None] = ContextVar("todo_correlation_id", default=None)
_event: ContextVar[tuple[str, str] | None] = ContextVar("todo_event", default=None)
_tracer: Tracer | None = None  # set while tracing is on
T = TypeVar("T")
Header = str | bytes | None  # a header value as confluent-kafka takes and gives it


def correlation_id() -> str | None:
    """The id of the request being served, if any."""
    return _correlation.get()


def current_event() -> tuple[str, str] | None:
    """(event id, topic) of the consumed event being handled, if any."""
    return _event.get()


def accept(candidate: str | None) -> str:
    """`candidate` if it is a valid id (1 to 128 letters, digits or `._:-`), else a new one."""
    if candidate is not None and _VALID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound(correlation: str | None) -> Iterator[None]:
    """Runs the block as part of request `correlation` (None: of no request)."""
    token = _correlation.set(correlation)
    try:
        yield
    finally:
        _reset(_correlation, token)


def correlation_metadata() -> tuple[tuple[str, str], ...]:
    """gRPC metadata for a call made on the current request's behalf (trace context: interceptors)."""
    current = _correlation.get()
    return () if current is None else ((CORRELATION_KEY, current),)


def outgoing(correlation: str | None = None) -> list[tuple[str, str]]:
    """Headers for a message sent on the current request's behalf: its id and trace context.

    `correlation` names another request to carry the id of: work done later on its behalf (a
    reminder fires long after the request that scheduled it).
    """
    current = correlation or _correlation.get()
    pairs = [] if current is None else [(CORRELATION_KEY, current)]
    if _tracer is not None:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        pairs.extend(carrier.items())
    return pairs


@contextlib.contextmanager
def handling(carrier: Iterable[tuple[str, str]], *, event_id: str, topic: str) -> Iterator[None]:
    """Handles one consumed event as part of the request that caused it.

    Its correlation id (a new one if it carries none, or an invalid one) and the event are on
    every log line; with tracing on the block is a consumer span, a child of the span that
    published the event.
    """
    found = dict(carrier)
    correlation = _correlation.set(accept(found.get(CORRELATION_KEY)))
    event = _event.set((event_id, topic))
    try:
        if _tracer is None:
            yield
            return
        with _tracer.start_as_current_span(
            f"{topic} process",
            context=propagate.extract(found),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.message.id": event_id,
            },
        ):
            yield
    finally:
        _reset(_event, event)
        _reset(_correlation, correlation)


@contextlib.contextmanager
def publishing(headers: Sequence[tuple[str, bytes]]) -> Iterator[list[tuple[str, Header]]]:
    """Produces a stored record as part of the request that wrote it.

    With tracing on, the block runs in the trace context kept in `headers` and gets them without
    it, for the Kafka instrumentation to inject its publish span's context instead.
    """
    if _tracer is None:
        yield list(headers)
        return
    stored = {name: value.decode() for name, value in headers if name in TRACE_KEYS}
    token = otel_context.attach(propagate.extract(stored))
    try:
        yield [(name, value) for name, value in headers if name not in TRACE_KEYS]
    finally:
        otel_context.detach(token)


def trace_with(tracer: Tracer | None) -> None:
    """Turns trace propagation on with `tracer` for consumer spans, or off (None)."""
    global _tracer  # noqa: PLW0603 - process-wide, like OpenTelemetry's own provider
    _tracer = tracer


def pairs_of(
    headers: Mapping[str, Header] | Iterable[tuple[str, Header]],
) -> list[tuple[str, str]]:
    """The propagation headers among a record's or a request's headers, as text."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = {CORRELATION_KEY, *TRACE_KEYS}
    found: list[tuple[str, str]] = []
    for name, value in items:
        if name not in wanted or value is None:
            continue
        try:
            found.append((name, value.decode() if isinstance(value, bytes) else value))
        except UnicodeDecodeError:
            continue  # a forged header: ignored, the id is made anew
    return found


def _reset(variable: ContextVar[T], token: Token[T]) -> None:
    # A gRPC stream the client cancelled is closed from another context, where the variable was
    # never set: there is nothing to reset then.
    with contextlib.suppress(ValueError):
        variable.reset(token)
