"""Prometheus metrics every component shares, and the endpoint that serves them.

A process serves its metrics on `TODO_METRICS_PORT` (unset: not served) at
`/metrics`, on the component's bind host, with `todo_build_info` saying which
build it runs (`TODO_REVISION`, set when the image is built). Labels are bounded by the contracts
and the code (RPC method names, status codes, topics and partitions, schemas,
GraphQL root fields and error codes, outcomes), never by what a client sends.
docs/operations.md#metrics lists them all.
"""

from __future__ import annotations

import json
import logging
from importlib import metadata
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from todo_runtime.config import Env

log = logging.getLogger(__name__)

PORT_ENV: Final = "TODO_METRICS_PORT"
REVISION_ENV: Final = "TODO_REVISION"  # the image's `ARG REVISION` (the source's commit)
DISTRIBUTION: Final = "todo-platform"
UNKNOWN: Final = "unknown"

BUILD_INFO: Final = Gauge(
    "todo_build_info",
    "Always 1: the version and source revision this process runs",
    ["version", "revision"],
)

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
GRAPHQL_USER_ERRORS: Final = Counter(
    "todo_graphql_user_errors",
    "Refusals of a mutation's input (its payload's userErrors), by mutation and code",
    ["mutation", "code"],
)

# The broker connection (todo_runtime.broker_health), apart from readiness.
BROKER_UP: Final = Gauge(
    "todo_broker_up", "1 while the broker accepts this component (reachable, TLS, SASL, ACLs)"
)
BROKER_FAILURES: Final = Counter(
    "todo_broker_failures",
    "Failed broker checks and refused client requests, by reason "
    "(unreachable, tls, authentication, authorization)",
    ["reason"],
)
# Consumers (todo_runtime.consumer_lag): one series per partition currently assigned.
CONSUMER_LAG: Final = Gauge(
    "todo_consumer_lag",
    "Records of an assigned partition the group has yet to process "
    "(high watermark minus the next offset to process)",
    ["group", "topic", "partition"],
)
# Outbox relays: only the leader knows the backlog; every other replica reports 0, so the
# sum or max over replicas is the backlog, and `todo_outbox_relay_leading` sums to 1.
OUTBOX_BACKLOG: Final = Gauge(
    "todo_outbox_backlog", "Unsent outbox rows (0 unless this relay leads)", ["schema"]
)
OUTBOX_AGE: Final = Gauge(
    "todo_outbox_oldest_age_seconds",
    "Age of the oldest unsent outbox row (0 unless this relay leads)",
    ["schema"],
)
OUTBOX_LEADING: Final = Gauge(
    "todo_outbox_relay_leading", "1 while this process's relay publishes the outbox", ["schema"]
)
# Reminders (svc_notify), counted once their transaction committed.
REMINDERS_SCHEDULED: Final = Counter("todo_reminders_scheduled", "Reminders added to the schedule")
REMINDERS_FIRED: Final = Counter("todo_reminders_fired", "Reminders fired")
REMINDERS_LATE: Final = Counter(
    "todo_reminders_late", "Reminders fired more than 1 s after their time (counted in fired too)"
)
REMINDERS_MISSED: Final = Counter(
    "todo_reminders_missed", "Reminders not fired: due longer than the grace window ago"
)
REMINDER_DELAY: Final = Histogram(
    "todo_reminder_delay_seconds",
    "From a reminder's time to its firing",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0, 60.0, 300.0, 600.0),
)
WEBHOOK_DELIVERIES: Final = Counter(
    "todo_webhook_deliveries",
    "Webhook delivery attempts recorded, by what they led to (see svc_notify.delivery)",
    ["outcome"],
)
# Live updates: open subscriptions in the gateway (by Subscription field), streams in svc_live.
LIVE_SUBSCRIPTIONS: Final = Gauge(
    "todo_live_subscriptions", "GraphQL subscriptions open, by field", ["field"]
)
LIVE_STREAMS: Final = Gauge("todo_live_streams", "LiveService.Subscribe streams open")


def version() -> str:
    """The installed package's version (`unknown` when run from a tree that is not installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def revision(env: Env) -> str:
    """The source revision: `TODO_REVISION` (the image sets it), else the commit pip recorded
    when it installed from a VCS URL, else `unknown`."""
    given = env.text(REVISION_ENV, "")
    if given:
        return given
    try:
        recorded = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return UNKNOWN
    if not recorded:
        return UNKNOWN
    commit = json.loads(recorded).get("vcs_info", {}).get("commit_id")
    return str(commit) if commit else UNKNOWN


def record_build_info(env: Env) -> None:
    """Sets `todo_build_info{version, revision}` to 1 (once per process: the labels never
    change while it runs)."""
    BUILD_INFO.clear()
    BUILD_INFO.labels(version=version(), revision=revision(env)).set(1)


def serve_metrics(env: Env, host: str) -> WSGIServer | None:
    """Serves /metrics on `TODO_METRICS_PORT` (in a thread of its own, for the process's life),
    with `todo_build_info`; None when the setting is unset."""
    port = env.integer(PORT_ENV, 0)
    if not port:
        return None
    record_build_info(env)
    server, _ = start_http_server(port, addr=host)
    log.info("metrics at http://%s:%d/metrics", host, port)
    return server
