"""Prometheus metrics every component shares, and the endpoint that serves them.

A process serves its metrics on `TODO_METRICS_PORT` (unset: not served) at
`/metrics`, on the component's bind host. Labels are bounded by the contracts
(RPC method names, status codes, topics, GraphQL root fields and error codes),
never by what a client sends.
"""

from __future__ import annotations

import logging
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Histogram, start_http_server

from todo_runtime.config import Env

log = logging.getLogger(__name__)

PORT_ENV: Final = "TODO_METRICS_PORT"

RPC_REQUESTS: Final = Counter(
    "todo_grpc_requests", "gRPC calls answered, by method and status code", ["method", "code"]
)
RPC_SECONDS: Final = Histogram(
    "todo_grpc_request_seconds", "Time to answer a unary gRPC call", ["method"]
)
DEAD_LETTERS: Final = Counter(
    "todo_dead_letters", "Records parked on a dead-letter topic", ["group", "topic"]
)
GRAPHQL_OPERATIONS: Final = Counter(
    "todo_graphql_operations", "GraphQL operations answered, by root field", ["operation"]
)
GRAPHQL_SECONDS: Final = Histogram(
    "todo_graphql_operation_seconds", "Time to answer a GraphQL operation", ["operation"]
)
GRAPHQL_ERRORS: Final = Counter(
    "todo_graphql_errors", "Errors in GraphQL answers, by extensions.code", ["code"]
)


def serve_metrics(env: Env, host: str) -> WSGIServer | None:
    """Serves /metrics on `TODO_METRICS_PORT` (in a thread of its own, for the process's life);
    None when the setting is unset."""
    port = env.integer(PORT_ENV, 0)
    if not port:
        return None
    server, _ = start_http_server(port, addr=host)
    log.info("metrics at http://%s:%d/metrics", host, port)
    return server
