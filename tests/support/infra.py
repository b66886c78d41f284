"""Helpers the tests share: settings for in-process services, waiting, and a cuttable Postgres link."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from todo_runtime.config import Env
from todo_runtime.endpoints import Endpoint
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.service import ServiceConfig

TEST_SECRET = "test-internal-secret-0123456789"


def kafka_config(bootstrap_servers: str) -> KafkaConfig:
    """The services' default client settings (low fetch wait, eager assignment) for a test broker."""
    return KafkaConfig.from_env(Env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers}))


def service_config(
    endpoint: Endpoint, database_url: str, bootstrap_servers: str, **settings: str
) -> ServiceConfig:
    """A service's settings as the environment of `todo up` would give them, on a free port.

    `settings` are more environment variables (e.g. TODO_TASKS_ADDR).
    """
    return ServiceConfig.from_env(
        endpoint,
        Env(
            {
                "DATABASE_URL": database_url,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
                "TODO_INTERNAL_SECRET": TEST_SECRET,
                "TODO_DB_POOL_MAX": "5",
                "TODO_GRPC_GRACE_SECONDS": "0.5",
                # Tansu holds an empty fetch up to this long before it sees a new record:
                # short, so tests that wait for events wait less (idle CPU is no concern here).
                "TODO_KAFKA_FETCH_WAIT_MAX_MS": "50",
                "TODO_LIVE_FETCH_WAIT_MAX_MS": "20",
                endpoint.port_env: "0",
                **settings,
            }
        ),
    )


@dataclass
class RunningTasks:
    """svc_tasks running in this process on a free port."""

    address: str
    secret: str
    config: ServiceConfig


async def health_status(address: str, name: str) -> str:
    """What a gRPC server's health service says of `name` (SERVING, NOT_SERVING, SERVICE_UNKNOWN),
    or UNREACHABLE; one Check with a short deadline, as a kubelet's probe makes it."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=name), timeout=1.0
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 15.0) -> None:
    """Polls `check` (plain or async) until it is true; fails the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result if isinstance(result, bool) else await result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


class PostgresProxy:
    """A TCP forwarder to Postgres that the test can cut (every connection dropped, new ones
    refused) and restore, to simulate a database outage without touching the shared server.

    The server may listen on TCP or, as the embedded one does, on a Unix socket
    (`?host=/socket/dir`); clients always reach the proxy over TCP.
    """

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        socket_dir = parse_qs(parts.query).get("host", [""])[0]
        self._socket = f"{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else None
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._parts = parts
        self._server: asyncio.Server | None = None
        self._port = 0
        self._open: set[asyncio.StreamWriter] = set()
        self._links: set[asyncio.Task[None]] = set()
        # Every accepted connection until its link has closed it: one whose task is cancelled
        # before it first ran (the test's loop closing) never closes itself.
        self._accepted: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        user = f"{self._parts.username}@" if self._parts.username else ""
        return urlunsplit(self._parts._replace(netloc=f"{user}127.0.0.1:{self._port}", query=""))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        self._accepted.add(client_out)
        link = asyncio.create_task(self._forward(client_in, client_out))
        self._links.add(link)
        link.add_done_callback(self._links.discard)

    async def cut(self) -> None:
        """Refuses new connections and drops every open one; returns once each is closed, its
        sockets included, so none outlives the test (or leaks a ResourceWarning)."""
        assert self._server is not None
        self._server.close()
        for writer in self._open | self._accepted:
            writer.transport.abort()
        if self._links:
            await asyncio.wait(self._links, timeout=10)
        for writer in self._accepted:  # accepted while the others were being dropped
            writer.transport.abort()
        self._accepted.clear()
        await self._server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on the next turn

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_out: asyncio.StreamWriter | None = None
        try:
            if self._socket is not None:
                server_in, server_out = await asyncio.open_unix_connection(self._socket)
            else:
                server_in, server_out = await asyncio.open_connection(*self._target)
            if self._server is None or not self._server.is_serving():
                return  # cut while this connection was being made
            self._open |= {client_out, server_out}

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                try:
                    with contextlib.suppress(ConnectionError):
                        while data := await source.read(65536):
                            sink.write(data)
                            await sink.drain()
                finally:
                    sink.transport.abort()

            await asyncio.gather(pipe(client_in, server_out), pipe(server_in, client_out))
        except OSError:  # the server is down (a test stopped it): the client is dropped
            return
        finally:
            for writer in (client_out, server_out):
                if writer is not None:
                    writer.transport.abort()
                    self._open.discard(writer)
            self._accepted.discard(client_out)


def url_for_database(url: str, database: str) -> str:
    """`url` with its database replaced by `database`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str, prefix: str = "todo_test") -> AsyncIterator[str]:
    """A fresh, empty database on the server of `admin_url`: its URL; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    try:
        yield url_for_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
