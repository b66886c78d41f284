"""What carrying the correlation id costs one createTask while tracing is off.

Runs, per simulated createTask, every propagation step the request goes through with
tracing off: the gateway accepting `X-Request-Id` and binding it, the gRPC metadata and the
server restoring it, the outbox adding it to its two rows (task-events, task-updates), the relay
producing both, the four consumers (svc_notify, svc_recur, svc_audit on task-events, svc_live on
task-updates) restoring it from the record headers, and the log filter on one line per process.
Target: far below the noise of one createTask (milliseconds), i.e. a few microseconds.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Final

from bench.support import write_results
from todo_runtime import request_context, tracing
from todo_runtime.cloudevents import event_headers
from todo_runtime.logs import ContextFilter

ROUNDS: Final = 20_000
CONSUMERS: Final = 4
ROWS: Final = 2  # task-events and task-updates
PROCESSES: Final = 6  # one log line each


def one_create_task(headers: list[tuple[str, bytes]], record: logging.LogRecord) -> None:
    """The off path's propagation work of one createTask, in the order it happens."""
    log_filter = ContextFilter()
    with request_context.bound(request_context.accept("bench-request-1")):  # gateway
        metadata = request_context.correlation_metadata()  # the call to svc_tasks
        with request_context.bound(request_context.accept(dict(metadata).get("x-request-id"))):
            propagation = request_context.outgoing()  # enqueue, once for both rows
            rows = [[[name, value] for name, value in propagation] for _ in range(ROWS)]
    stored = headers + [(name, value.encode()) for name, value in propagation]
    for _ in rows:  # the relay
        with request_context.publishing(stored):
            pass
    for _ in range(CONSUMERS):
        carrier = request_context.pairs_of(stored)
        with request_context.handling(carrier, event_id="e-1", topic="task-events"):
            log_filter.filter(record)
    for _ in range(PROCESSES - CONSUMERS):
        log_filter.filter(record)


async def main() -> None:
    if tracing.provider() is not None:
        raise RuntimeError("this measures the off path: run it without an OTLP endpoint")
    headers = event_headers(
        event_id="e-1",
        source="/svc_tasks",
        type="todo.task.created",
        subject="t-1",
        time=datetime.now(UTC),
        message_name="todo.events.v1.TaskEvent",
    )
    record = logging.LogRecord("bench", logging.INFO, __file__, 1, "line", None, None)
    for _ in range(1000):  # warm-up
        one_create_task(headers, record)
    started = time.perf_counter()
    for _ in range(ROUNDS):
        one_create_task(headers, record)
    per_call_us = (time.perf_counter() - started) / ROUNDS * 1e6
    path = write_results(
        "propagation", {"rounds": ROUNDS, "off_path_us_per_create_task": round(per_call_us, 2)}
    )
    print(f"propagation off path: {per_call_us:.1f} µs per createTask ({path})")
