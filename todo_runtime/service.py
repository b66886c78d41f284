"""What a service is: declared once, and the parts its `setup` builds on.

A service declares a `ServiceDefinition`: its component (name, module,
endpoint), its schema and migrations, the topics it produces and consumes,
and a `setup` that wires its servicers and consumers from `ServiceParts`.
`todo up`, `todo serve`, `todo migrate` and the test fixtures all work from
that declaration. Starting, supervising and stopping it is `runner`'s; this
module only says what a runner must offer the parts (`Supervision`), so a
service's declaration never depends on how it is run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Protocol

import asyncpg
import grpc

from todo_runtime import topics
from todo_runtime.broker_health import BrokerHealth
from todo_runtime.config import (
    RUN_ID_ENV,
    DatabaseConfig,
    Env,
    GrpcServerConfig,
    internal_secret,
)
from todo_runtime.consume_loop import ConsumeLoop
from todo_runtime.consumer import EventConsumer
from todo_runtime.endpoints import Endpoint
from todo_runtime.fan_out import FanOutConsumer
from todo_runtime.grpc_client import CallContext, open_channel
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.migrations import MigrationSet, migrate
from todo_runtime.offload import Offload
from todo_runtime.producer import EventProducer
from todo_runtime.readiness import Readiness
from todo_runtime.received_event import ReceivedEvent
from todo_runtime.unit_of_work import Handler, transactional

RUNTIME_MIGRATIONS: Final = MigrationSet("runtime", "todo_runtime")


@dataclass(frozen=True)
class Component:
    """A process of the system: `todo serve <name>` runs `python -m <module>`, listening on `endpoint`."""

    name: str
    module: str
    endpoint: Endpoint
    http: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    """What every service reads from the environment (service-specific settings come from `env`).

    run_id: set by `todo up` so its readiness probes recognise their own processes.
    retention: how long sent events and applied event ids are kept.
    """

    database: DatabaseConfig
    kafka: KafkaConfig
    grpc: GrpcServerConfig
    internal_secret: str
    grpc_timeout: float
    retention: timedelta
    run_id: str
    env: Env

    @classmethod
    def from_env(cls, endpoint: Endpoint, env: Env | None = None) -> ServiceConfig:
        env = env or Env()
        return cls(
            database=DatabaseConfig.from_env(env),
            kafka=KafkaConfig.from_env(env),
            grpc=GrpcServerConfig(
                host=env.text("TODO_BIND_HOST", "127.0.0.1"),
                port=endpoint.port(env),
                grace_seconds=env.number("TODO_GRPC_GRACE_SECONDS", 5.0),
            ),
            internal_secret=internal_secret(env),
            grpc_timeout=env.number("TODO_GRPC_TIMEOUT_SECONDS", 5.0),
            retention=timedelta(hours=env.number("TODO_EVENT_RETENTION_HOURS", 24.0)),
            run_id=env.text(RUN_ID_ENV, ""),
            env=env,
        )


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything that makes one service: see the module docstring."""

    component: Component
    schema: str
    migrations: MigrationSet
    produces: tuple[str, ...]
    consumes: tuple[str, ...]
    setup: Callable[[ServiceParts], Awaitable[Sequence[ServiceBinding]]]
    database_settings: Mapping[str, str] = field(default_factory=dict)
    # False for a service that keeps nothing durable (svc_live): no pool, migrations or outbox.
    database: bool = True

    @property
    def name(self) -> str:
        return self.component.module

    @property
    def topics(self) -> tuple[str, ...]:
        """Every topic the service needs: those it produces and consumes, and their dead letters."""
        return (
            *self.produces,
            *self.consumes,
            *(topics.dead_letter(topic) for topic in self.consumes),
        )


class Supervision(Protocol):
    """What `ServiceParts` needs of the runner that starts the service: the exit stack its stop
    unwinds, the readiness it publishes, tasks it cancels on stop and loops it supervises."""

    @property
    def stack(self) -> AsyncExitStack: ...

    @property
    def readiness(self) -> Readiness: ...

    def spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None: ...

    def background(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None: ...


class ServiceParts:
    """What a service's `setup` builds on: settings, pool, producer, worker threads for CPU-bound
    work (`offload`), and ways to add parts."""

    def __init__(
        self,
        definition: ServiceDefinition,
        config: ServiceConfig,
        pool: asyncpg.Pool[Any] | None,
        producer: EventProducer,
        *,
        runner: Supervision,
        broker: BrokerHealth,
    ) -> None:
        self.definition = definition
        self.config = config
        self._pool = pool
        self.producer = producer
        self.broker = broker
        self.calls = CallContext(config.internal_secret, config.grpc_timeout)
        self.offload = Offload(definition.name)
        runner.stack.callback(self.offload.close)
        self._runner = runner

    @property
    def pool(self) -> asyncpg.Pool[Any]:
        """The service's database pool (a definition with `database=False` has none)."""
        if self._pool is None:
            raise RuntimeError(f"{self.definition.name} declares it uses no database")
        return self._pool

    def consume(
        self,
        topics: Sequence[str],
        handle: Handler,
        *,
        group: str | None = None,
        fetch_wait_max_ms: int | None = None,
    ) -> EventConsumer:
        """Consumes `topics` (which the definition must list) with `handle`: one transaction per
        event, or per fetched batch under load (`unit_of_work.Transactional`)."""
        self._check_declared(topics)
        group = group or self.definition.name
        apply = transactional(self.pool, group, handle)
        consumer = EventConsumer(
            self.config.kafka,
            group,
            topics,
            apply,
            producer_for_dlq=self.producer,
            fetch_wait_max_ms=fetch_wait_max_ms,
            batch_handler=apply.batch,
            broker=self.broker,
        )
        self.background(f"consumer {group}", consumer.run)
        # Ready once it joined its group (an empty assignment counts: a standby is ready); a
        # later rebalance changes nothing.
        self._ready_once_assigned(consumer, f"consumer {group} joined")
        return consumer

    def fan_out(
        self,
        topics: Sequence[str],
        handle: Callable[[ReceivedEvent], Awaitable[None]],
        *,
        on_reassigned: Callable[[], None],
        fetch_wait_max_ms: int | None = None,
    ) -> FanOutConsumer:
        """Sees every record of `topics` from now on, as every other replica does (no shared
        group, no transaction, nothing committed); see `FanOutConsumer` for `on_reassigned`."""
        self._check_declared(topics)
        consumer = FanOutConsumer(
            self.config.kafka,
            self.definition.name,
            topics,
            handle,
            on_reassigned=on_reassigned,
            producer_for_dlq=self.producer,
            fetch_wait_max_ms=fetch_wait_max_ms,
            broker=self.broker,
        )
        name = f"fan-out consumer {self.definition.name}"
        self.background(name, consumer.run)
        # It starts at the end of each partition once assigned (and positioned there): what is
        # published before, it never sees. Not ready until then, so "ready" means updates flow.
        self._ready_once_assigned(consumer, f"{name} assigned")
        return consumer

    def _check_declared(self, topics: Sequence[str]) -> None:
        """Refuses topics the definition does not list (they would be neither created nor
        checked by the broker watch)."""
        unknown = set(topics) - set(self.definition.consumes)
        if unknown:
            raise ValueError(f"{self.definition.name} does not declare it consumes {unknown}")

    def _ready_once_assigned(self, consumer: ConsumeLoop, condition: str) -> None:
        """The service is not ready before `consumer`'s first assignment."""
        readiness = self._runner.readiness
        readiness.require(condition)

        async def ready_once_assigned() -> None:
            await consumer.assigned()
            readiness.set(condition, True)

        self._runner.spawn(condition, ready_once_assigned())

    def background(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Runs `loop()` until stop, restarting it with backoff if it ever ends or crashes."""
        self._runner.background(name, loop)

    def channel(self, endpoint: Endpoint) -> grpc.aio.Channel:
        """A channel to another service (closed on stop); its address follows `endpoint`'s settings."""
        channel = open_channel(endpoint.address(self.config.env))
        self._runner.stack.push_async_callback(channel.close, None)
        return channel


async def migrate_service(url: str, definition: ServiceDefinition) -> int:
    """Applies the service's pending migrations (and the runtime's, in its schema)."""
    if not definition.database:
        return 0
    return await migrate(url, definition.schema, [RUNTIME_MIGRATIONS, definition.migrations])
