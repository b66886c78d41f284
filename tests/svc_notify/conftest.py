"""svc_notify test helpers: the service started in-process (again, with other settings), gRPC
calls as any user, the service's tables (with or without the service), a reminder fired on
demand, and a webhook receiver."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import asyncpg
import grpc
import pytest

from svc_notify.service import SCHEMA
from svc_notify.service import SERVICE as NOTIFY
from tests.support.infra import TEST_SECRET, service_config
from tests.support.svc_notify.receiver import Receiver, receiving
from todo_cli.broker import EmbeddedBroker
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_contracts.notify.v1 import notification_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime import endpoints
from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.identity import identity_metadata
from todo_runtime.migrations import migrate
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import RUNTIME_MIGRATIONS

# What every test service gets unless it says otherwise: local receivers are allowed, and the
# retry schedule runs 100 times faster (5 s -> 50 ms, 5 min -> 3 s).
DEFAULTS = {
    "TODO_WEBHOOK_ALLOW_PRIVATE": "1",
    "TODO_WEBHOOK_RETRY_SCALE": "0.01",
    "TODO_DB_POOL_MAX": "8",
}


class RunningNotify:
    """svc_notify running in this process; `call` makes a gRPC call as `user`."""

    def __init__(self, service: RunningService) -> None:
        self.service = service
        self._channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        self._stub = notification_service_pb2_grpc.NotificationServiceStub(self._channel)

    async def call(self, user: str, method: str, request: Any) -> Any:
        rpc = getattr(self._stub, method)
        return await rpc(request, metadata=identity_metadata(TEST_SECRET, user), timeout=10)

    async def create_webhook(self, user: str, url: str) -> pb.CreateWebhookResponse:
        request = pb.CreateWebhookRequest(webhook=pb.Webhook(url=url))
        response: pb.CreateWebhookResponse = await self.call(user, "CreateWebhook", request)
        return response

    async def attempts(self, user: str, webhook_id: str) -> list[pb.WebhookDelivery]:
        """Every attempt to deliver to the endpoint, oldest first."""
        response = await self.call(
            user, "ListWebhookDeliveries", pb.ListWebhookDeliveriesRequest(webhook_id=webhook_id)
        )
        return list(reversed(response.deliveries))

    async def stop(self) -> None:
        await self._channel.close(None)
        await self.service.stop()


class StartNotify(Protocol):
    async def __call__(self, **settings: str) -> RunningNotify: ...


@pytest.fixture
async def start_notify(database_url: str, broker: EmbeddedBroker) -> AsyncIterator[StartNotify]:
    """Starts svc_notify on the test's database and broker, with `DEFAULTS` and `settings`
    (environment variables); every one started is stopped at the end."""
    started: list[RunningNotify] = []

    async def start(**settings: str) -> RunningNotify:
        config = service_config(
            endpoints.NOTIFY,
            database_url,
            broker.bootstrap_servers,
            **{**DEFAULTS, **settings},
        )
        notify = RunningNotify(await start_service(NOTIFY, config))
        started.append(notify)
        return notify

    yield start
    for notify in started:
        await notify.stop()


@pytest.fixture
async def notify(start_notify: StartNotify) -> RunningNotify:
    return await start_notify()


@pytest.fixture
async def tables(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """svc_notify's tables, unqualified (the service must have started: it creates them)."""
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, server_settings={"search_path": SCHEMA}
    )
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """svc_notify's migrated tables with no service running: for its parts driven by hand."""
    await migrate(database_url, SCHEMA, [RUNTIME_MIGRATIONS, NOTIFY.migrations])
    pool = await create_pool(DatabaseConfig(database_url, 1, 8), SCHEMA)
    try:
        yield pool
    finally:
        await pool.close()


FireReminder = Callable[[str], Awaitable[None]]


@pytest.fixture
def fire_reminder(tables: asyncpg.Pool[Any]) -> FireReminder:
    """Schedules a reminder of a new task of `owner` due now, as the task-events consumer would:
    the running scheduler fires it and writes a delivery for each enabled endpoint."""

    async def fire(owner: str) -> None:
        task_id = uuid.uuid4()
        task = task_pb2.Task(
            id=str(task_id),
            owner_id=owner,
            title="Water the plants",
            status=task_pb2.TASK_STATUS_OPEN,
        )
        async with tables.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO task_states (task_id, owner_id, sequence, open, snapshot)
                   VALUES ($1, $2, 1, true, $3)""",
                task_id,
                owner,
                task.SerializeToString(),
            )
            await conn.execute(
                """INSERT INTO reminders (owner_id, task_id, reminder_id, fire_at)
                   VALUES ($1, $2, 'at-now', clock_timestamp())""",
                owner,
                task_id,
            )

    return fire


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as running:
        yield running


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"
