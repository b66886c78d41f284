"""Running a service: start its parts in order, supervise them, publish its health, stop it.

`start_service` starts what a `ServiceDefinition` declares, in order:
migrations, pool, producer, outbox relay, topics, retention sweep, database
watch, the service's own parts (its `setup`), gRPC (health, reflection,
identity), and readiness. `stop()` undoes it in reverse: NOT_SERVING and drain,
cancel loops, flush the producer, close the pool. `serve` is a service
process's whole life around that, until SIGTERM or SIGINT.

Health names: the process (`todo.liveness`), what it serves now (readiness:
the empty name and each gRPC service's name; NOT_SERVING while its database is
unreachable), and its broker connection (`todo.broker`), which readiness does
not follow: writes go on into the outbox while the broker is away.

Background loops are supervised: a loop that crashes turns the service
NOT_SERVING, is logged, and restarts with backoff.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import uvloop

from todo_runtime import retention, topics
from todo_runtime.backoff import Backoff
from todo_runtime.broker_calls import off_loop
from todo_runtime.broker_health import HEALTH_NAME as BROKER_HEALTH_NAME
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.db_watch import watch_database
from todo_runtime.failures import describe, is_transient
from todo_runtime.grpc_server import GrpcServer, start_server
from todo_runtime.heap import freeze_startup_heap
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.logs import configure_logging, stop_on_bad_settings
from todo_runtime.metrics import serve_metrics
from todo_runtime.outbox_relay import OutboxRelay
from todo_runtime.producer import EventProducer
from todo_runtime.readiness import Readiness
from todo_runtime.service import ServiceConfig, ServiceDefinition, ServiceParts, migrate_service
from todo_runtime.tracing import start_tracing

log = logging.getLogger(__name__)


class _Runner:
    """The started parts of one service and their supervision (what `ServiceParts` builds on)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stack = AsyncExitStack()
        self.readiness = Readiness(name, self._publish)
        self.server: GrpcServer | None = None

    async def _publish(self, serving: bool) -> None:
        if self.server is not None:
            await self.server.set_serving(serving)

    def background(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.spawn(name, self._supervise(name, loop))

    def spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` as a task that stop() cancels (and awaits) if it is still running."""
        task = asyncio.create_task(work, name=f"{self.name}:{name}")
        self.stack.push_async_callback(_cancel, task)

    async def _supervise(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        backoff = Backoff(1.0, 30.0)
        while True:
            try:
                await loop()
                log.error("%s: %s ended unexpectedly; restarting it", self.name, name)
            except Exception:
                log.exception("%s: %s crashed; restarting it", self.name, name)
            self.readiness.set(name, False)
            await backoff.wait()
            self.readiness.set(name, True)


class RunningService:
    """A started service: its gRPC port, its readiness, its broker connection, and `stop()`."""

    def __init__(self, runner: _Runner, port: int, broker: BrokerHealth) -> None:
        self._runner = runner
        self.port = port
        self.broker = broker

    @property
    def readiness(self) -> Readiness:
        return self._runner.readiness

    async def stop(self) -> None:
        await self._runner.stack.aclose()
        log.info("%s stopped", self._runner.name)


async def start_service(definition: ServiceDefinition, config: ServiceConfig) -> RunningService:
    """Starts every part in order; on failure, stops the ones already started and re-raises."""
    runner = _Runner(definition.name)
    try:
        return await _start(definition, config, runner)
    except BaseException:
        await runner.stack.aclose()
        raise


async def _start(
    definition: ServiceDefinition, config: ServiceConfig, runner: _Runner
) -> RunningService:
    stack = runner.stack
    pool: asyncpg.Pool[Any] | None = None
    if definition.database:
        pool = await _until_available(
            definition.name, lambda: _open_database(definition, config.database)
        )
        stack.push_async_callback(pool.close)
    broker = BrokerHealth(definition.name, config.kafka, definition.topics)
    runner.background("broker watch", broker.run)
    producer = EventProducer(config.kafka, client_id=definition.name, broker=broker)
    stack.push_async_callback(producer.close)
    runner.spawn("readiness", runner.readiness.run())
    parts = ServiceParts(definition, config, pool, producer, runner=runner, broker=broker)
    runner.spawn("topics", _create_topics(config.kafka, definition.topics))
    if pool is not None:
        _start_database_parts(parts, pool, producer, runner)
    bindings = await definition.setup(parts)
    extra_names = [f"todo.run.{config.run_id}"] if config.run_id else []
    server = await start_server(config.grpc, config.internal_secret, bindings, extra_names)
    runner.server = server
    stack.push_async_callback(server.stop, config.grpc.grace_seconds)
    broker.use_publisher(functools.partial(server.set_status, BROKER_HEALTH_NAME))
    runner.readiness.mark_started()
    log.info("%s serving gRPC on %s:%d", definition.name, config.grpc.host, server.port)
    return RunningService(runner, server.port, broker)


def _start_database_parts(
    parts: ServiceParts, pool: asyncpg.Pool[Any], producer: EventProducer, runner: _Runner
) -> None:
    """The outbox relay, the retention sweep and the database watch of a service with a database."""
    definition, config = parts.definition, parts.config
    if definition.produces:
        relay = OutboxRelay(
            pool, definition.schema, producer, config.kafka, topics=definition.produces
        )
        parts.background("outbox relay", relay.run)
    parts.background("retention", lambda: retention.sweep(pool, config.retention, interval=300.0))
    parts.background(
        "database watch",
        lambda: watch_database(
            config.database.url,
            lambda up: runner.readiness.set("database", up),
            name=definition.name,
        ),
    )


async def _open_database(
    definition: ServiceDefinition, database: DatabaseConfig
) -> asyncpg.Pool[Any]:
    await migrate_service(database.url, definition)
    return await create_pool(database, definition.schema, dict(definition.database_settings))


async def _until_available(name: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
    """Retries `attempt` while its dependency is down (logged once), so start-up waits it out."""
    backoff = Backoff(0.2, 5.0)
    waiting = False
    while True:
        try:
            return await attempt()
        except Exception as error:
            if not is_transient(error):
                raise
            if not waiting:
                waiting = True
                log.warning("%s: waiting for the database: %s", name, describe(error))
            await backoff.wait()


async def _create_topics(kafka: KafkaConfig, wanted: Sequence[str]) -> None:
    """Creates the service's topics as soon as the broker answers (relays and consumers
    recreate them too, should the broker lose them later)."""
    backoff = Backoff(0.5, 10.0)
    while True:
        try:
            await off_loop(topics.ensure_topics, kafka, wanted)
            return
        except topics.TopicError as error:
            log.debug("cannot create topics yet: %s", error)
            await backoff.wait()


async def _cancel(task: asyncio.Task[None]) -> None:
    """Cancels `task` and waits for it; a failure it had is logged, not raised into stop()."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())


def serve(definition: ServiceDefinition) -> None:
    """A service process's whole life: logging, tracing, start, run until SIGTERM/SIGINT, stop in
    order (the tracer provider flushes its spans at exit).

    On uvloop, as the gateway runs under uvicorn: its socket I/O costs a
    service about a sixth less CPU per request than asyncio's default loop.
    """

    async def main() -> None:
        configure_logging(definition.name)
        config = ServiceConfig.from_env(definition.component.endpoint)
        start_tracing(definition.name, config.env)
        serve_metrics(config.env, config.grpc.host)
        service = await start_service(definition, config)
        freeze_startup_heap()
        try:
            await wait_for_stop_signal()
        finally:
            await service.stop()

    with (
        stop_on_bad_settings(definition.name),
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(main())


async def wait_for_stop_signal() -> None:
    """Returns on SIGTERM or SIGINT (the container stop and Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
