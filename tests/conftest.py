"""Session infrastructure for the tests: a real PostgreSQL and a real Kafka-protocol broker.

PostgreSQL: `TEST_DATABASE_URL` (default: the local server at 127.0.0.1:5432).
Every test that asks for `database_url` gets a database of its own, created
empty from template0 and dropped afterwards. Every test that asks for `broker`
gets its own Tansu broker on a free port, so no test sees another's records.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from svc_recur.config import RecurConfig
from svc_recur.recurrence import CatchUp
from svc_recur.server import start as start_recur
from svc_tasks.config import TasksConfig
from svc_tasks.server import start as start_tasks
from tests.infra import TEST_SECRET, RunningTasks, kafka_config
from todo_cli.broker import EmbeddedBroker, free_port
from todo_runtime.config import DatabaseConfig, GrpcServerConfig

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def url_for_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    name = f"todo_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    yield url_for_database(ADMIN_URL, name)
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    """A Tansu broker of this test's own; `stop()`/`start()` simulate an outage."""
    instance = EmbeddedBroker(port=free_port())
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
async def tasks_service(database_url: str, broker: EmbeddedBroker) -> AsyncIterator[RunningTasks]:
    config = TasksConfig(
        database=DatabaseConfig(database_url, pool_min=1, pool_max=5),
        kafka=kafka_config(broker.bootstrap_servers),
        grpc=GrpcServerConfig("127.0.0.1", 0, grace_seconds=0.5),
        internal_secret=TEST_SECRET,
    )
    service = await start_tasks(config)
    try:
        yield RunningTasks(f"127.0.0.1:{service.port}", TEST_SECRET, config)
    finally:
        await service.stop()


@pytest.fixture
def recur_config(tasks_service: RunningTasks) -> RecurConfig:
    """svc_recur's settings next to the running svc_tasks (same database and broker)."""
    return RecurConfig(
        database=tasks_service.config.database,
        kafka=tasks_service.config.kafka,
        grpc=GrpcServerConfig("127.0.0.1", 0, grace_seconds=0.5),
        internal_secret=TEST_SECRET,
        tasks_address=tasks_service.address,
        grpc_timeout=5.0,
        catch_up=CatchUp.NEXT_AFTER_NOW,
    )


@pytest.fixture
async def recur_service(recur_config: RecurConfig) -> AsyncIterator[str]:
    """svc_recur running in this process; yields its gRPC address."""
    service = await start_recur(recur_config)
    try:
        yield f"127.0.0.1:{service.port}"
    finally:
        await service.stop()
