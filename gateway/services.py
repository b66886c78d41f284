"""What every request shares for the life of the process: the gRPC channels to the services and
the gateway's database (`rate_buckets`, `calendar_feeds`). The per-request side is `context`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc

from gateway import rate_buckets
from gateway.config import GatewayConfig
from gateway.rate_buckets import RateLimiter
from todo_contracts.audit.v1.audit_service_pb2_grpc import AuditServiceStub
from todo_contracts.live.v1.live_service_pb2_grpc import LiveServiceStub
from todo_contracts.notify.v1.notification_service_pb2_grpc import NotificationServiceStub
from todo_contracts.recur.v1.recurrence_service_pb2_grpc import RecurrenceServiceStub
from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceStub
from todo_runtime.backoff import Backoff
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.failures import describe, is_transient
from todo_runtime.grpc_client import CallContext, open_channel
from todo_runtime.migrations import migrate

if TYPE_CHECKING:
    from todo_contracts.audit.v1.audit_service_pb2_grpc import AuditServiceAsyncStub
    from todo_contracts.live.v1.live_service_pb2_grpc import LiveServiceAsyncStub
    from todo_contracts.notify.v1.notification_service_pb2_grpc import (
        NotificationServiceAsyncStub,
    )
    from todo_contracts.recur.v1.recurrence_service_pb2_grpc import RecurrenceServiceAsyncStub
    from todo_contracts.tasks.v1.tasks_service_pb2_grpc import TaskServiceAsyncStub

log = logging.getLogger(__name__)


class Services:
    """The gRPC channels every request shares, and the rate limiter with its database pool and
    settling task.

    They belong to the event loop that serves requests, so they are opened in
    the app's lifespan (`open`) rather than at construction.
    """

    def __init__(self, config: GatewayConfig) -> None:
        self._config = config
        self.call = CallContext(config.internal_secret, config.grpc_timeout)
        self._channels: list[grpc.aio.Channel] = []
        self._stubs: _Stubs | None = None
        self._pool: asyncpg.Pool[Any] | None = None
        self._limiter_task: asyncio.Task[None] | None = None
        self._settling: asyncio.Task[None] | None = None
        self.rate_limiter: RateLimiter | None = None

    async def _connect_limiter(self, database: DatabaseConfig) -> bool:
        """Prepares the rate limiter's buckets; False while the database is unreachable."""
        try:
            await migrate(database.url, rate_buckets.SCHEMA, [rate_buckets.MIGRATIONS])
            self._pool = await create_pool(database, rate_buckets.SCHEMA)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("rate limits off until the database is reachable: %s", describe(error))
            return False
        self.rate_limiter = RateLimiter(
            self._pool,
            self._config.rate_points,
            self._config.rate_restore,
            self._config.rate_settle_interval,
        )
        self._settling = asyncio.create_task(self.rate_limiter.run(), name="settle rate buckets")
        log.info("rate limits on")
        return True

    async def _retry_limiter(self, database: DatabaseConfig) -> None:
        backoff = Backoff(1.0, 30.0)
        while not await self._connect_limiter(database):
            await backoff.wait()

    async def open(self) -> None:
        database = self._config.database
        if database is not None and not await self._connect_limiter(database):
            # The database is down: serve meanwhile (without limits) and keep trying.
            self._limiter_task = asyncio.create_task(self._retry_limiter(database))
        tasks_channel = open_channel(self._config.tasks_address)
        recur_channel = open_channel(self._config.recur_address)
        notify_channel = open_channel(self._config.notify_address)
        audit_channel = open_channel(self._config.audit_address)
        live_channel = open_channel(self._config.live_address)
        self._channels = [tasks_channel, recur_channel, notify_channel, audit_channel, live_channel]
        self._stubs = _Stubs(
            tasks=TaskServiceStub(tasks_channel),
            recur=RecurrenceServiceStub(recur_channel),
            notify=NotificationServiceStub(notify_channel),
            audit=AuditServiceStub(audit_channel),
            live=LiveServiceStub(live_channel),
        )

    async def close(self) -> None:
        if self._limiter_task is not None:
            self._limiter_task.cancel()
            await asyncio.gather(self._limiter_task, return_exceptions=True)
            self._limiter_task = None
        if self._settling is not None:  # settles once more as it stops
            self._settling.cancel()
            await asyncio.gather(self._settling, return_exceptions=True)
            self._settling = None
        channels, self._channels, self._stubs = self._channels, [], None
        for channel in channels:
            await channel.close(None)
        pool, self._pool, self.rate_limiter = self._pool, None, None
        if pool is not None:
            await pool.close()

    @property
    def database(self) -> asyncpg.Pool[Any] | None:
        """The gateway's own database (rate buckets, calendar feeds); None without one, or until
        it was reached."""
        return self._pool

    @property
    def tasks(self) -> TaskServiceAsyncStub:
        return self._opened().tasks

    @property
    def recur(self) -> RecurrenceServiceAsyncStub:
        return self._opened().recur

    @property
    def notify(self) -> NotificationServiceAsyncStub:
        return self._opened().notify

    @property
    def audit(self) -> AuditServiceAsyncStub:
        return self._opened().audit

    @property
    def live(self) -> LiveServiceAsyncStub:
        return self._opened().live

    def _opened(self) -> _Stubs:
        if self._stubs is None:
            raise RuntimeError("gRPC channels are not open: run the app with its lifespan")
        return self._stubs


@dataclass(frozen=True)
class _Stubs:
    tasks: TaskServiceAsyncStub
    recur: RecurrenceServiceAsyncStub
    notify: NotificationServiceAsyncStub
    audit: AuditServiceAsyncStub
    live: LiveServiceAsyncStub
