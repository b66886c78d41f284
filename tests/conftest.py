"""Session infrastructure for the tests: a real PostgreSQL and a real Kafka-protocol broker.

PostgreSQL: `TEST_DATABASE_URL` when set (any server where the tests may
create databases); otherwise one embedded server (the wheel `todo up` uses)
per test session, or per pytest-xdist worker. Every test that asks for
`database_url` gets a database of its own, created empty and dropped
afterwards. Every test that asks for `broker` gets its own Tansu broker on a
free port, so no test sees another's records.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from tests.support.faults.report import print_tables
from tests.support.infra import (
    TEST_SECRET,
    PostgresProxy,
    RunningTasks,
    scratch_database,
    service_config,
)
from todo_cli.broker import EmbeddedBroker, free_port
from todo_cli.database import EmbeddedPostgres
from todo_runtime import endpoints
from todo_runtime.runner import start_service
from todo_runtime.service import ServiceConfig

# The fixtures that start a real server or fetch a real tool: PostgreSQL, a broker (plain, secured
# or SASL), Chromium, the npm packages of the JavaScript clients, the image's environment. A test
# that uses one, directly or through another fixture, is an integration test; so is one its module
# marks `integration` because it starts processes itself, and every test marked `alone`.
INFRASTRUCTURE_FIXTURES = frozenset(
    {
        "postgres_admin_url",
        "broker",
        "secure_broker",
        "sasl_broker",
        "browser",
        "node_modules",
        "image_venv",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that needs infrastructure `integration`, so `-m "not integration"` runs
    the pure rules alone, in seconds."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if INFRASTRUCTURE_FIXTURES.intersection(fixtures) or item.get_closest_marker("alone"):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fault suite's table, shown whatever the run's verbosity (see tests.support.faults.report)."""
    print_tables(terminalreporter)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A server where tests create their databases: TEST_DATABASE_URL, else an embedded one.

    Its files live in a directory of its own, not pytest's basetemp: pytest deletes old
    basetemps, and a second test session running meanwhile would delete a live server's.
    """
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="todo-test-postgres-") as directory:
        server = EmbeddedPostgres(Path(directory))
        server.start(log_path=Path(directory) / "postgres.log")
        try:
            yield server.url("postgres")
        finally:
            server.stop()


@pytest.fixture
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    async with scratch_database(postgres_admin_url) as url:
        yield url


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
    config = service_config(endpoints.TASKS, database_url, broker.bootstrap_servers)
    service = await start_service(TASKS, config)
    try:
        yield RunningTasks(f"127.0.0.1:{service.port}", TEST_SECRET, config)
    finally:
        await service.stop()


@pytest.fixture
def recur_config(tasks_service: RunningTasks) -> ServiceConfig:
    """svc_recur's settings next to the running svc_tasks (same database and broker)."""
    return service_config(
        endpoints.RECUR,
        tasks_service.config.database.url,
        tasks_service.config.kafka.bootstrap_servers,
        TODO_TASKS_ADDR=tasks_service.address,
    )


@pytest.fixture
async def recur_service(recur_config: ServiceConfig) -> AsyncIterator[str]:
    """svc_recur running in this process; yields its gRPC address."""
    service = await start_service(RECUR, recur_config)
    try:
        yield f"127.0.0.1:{service.port}"
    finally:
        await service.stop()


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[PostgresProxy]:
    """A TCP link to the test's database that a test can cut (an outage) and restore."""
    link = PostgresProxy(database_url)
    await link.start()
    try:
        yield link
    finally:
        await link.cut()
