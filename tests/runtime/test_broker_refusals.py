"""A broker that refuses a service (its credentials, the certificate it presents, the protocol):
the service stays up and keeps taking writes, says so on `todo.broker`, a metric and one log line
per retry, and heals without a restart once the broker accepts it; nothing written meanwhile is
lost. Against a real TLS endpoint and a real SCRAM exchange (`tests.kafka_security`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import grpc
import pytest
import trustme
from prometheus_client import REGISTRY

from svc_tasks.service import SERVICE as TASKS
from tests.support.infra import TEST_SECRET, eventually, health_status, service_config
from tests.support.kafka_security.secure_broker import SecureBroker
from tests.svc_tasks.conftest import create_request
from todo_contracts.tasks.v1 import tasks_service_pb2_grpc
from todo_runtime import endpoints
from todo_runtime.broker_health import HEALTH_NAME as BROKER
from todo_runtime.grpc_server import LIVENESS
from todo_runtime.identity import identity_metadata
from todo_runtime.runner import RunningService, start_service

MECHANISM = "SCRAM-SHA-512"
WITHIN = 60.0  # the watch retries with backoff (2 s, growing to 30 s)


@pytest.fixture
def broker() -> Iterator[SecureBroker]:
    """TLS and SCRAM in front of Tansu; the service's password is not (yet) the broker's."""
    with SecureBroker(
        tls=True, sasl_mechanisms=(MECHANISM,), users={"todo": "the-brokers"}
    ) as secured:
        yield secured


def secured_settings(broker: SecureBroker, directory: Path, **overrides: str) -> dict[str, str]:
    files = broker.write_client_files(directory)
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SSL_CA_LOCATION": str(files.ssl_ca_location),
        "KAFKA_SASL_MECHANISM": MECHANISM,
        "KAFKA_SASL_USERNAME": "todo",
        "KAFKA_SASL_PASSWORD": "the-services",
    } | overrides


@contextlib.asynccontextmanager
async def running(
    database_url: str, broker: SecureBroker, settings: dict[str, str]
) -> AsyncIterator[RunningService]:
    service = await start_service(
        TASKS, service_config(endpoints.TASKS, database_url, broker.bootstrap_servers, **settings)
    )
    try:
        yield service
    finally:
        await service.stop()


async def statuses(service: RunningService) -> dict[str, str]:
    address = f"127.0.0.1:{service.port}"
    return {name: await health_status(address, name) for name in ("", LIVENESS, BROKER)}


async def create_task(service: RunningService, title: str) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        await tasks_service_pb2_grpc.TaskServiceStub(channel).CreateTask(
            create_request(title), metadata=identity_metadata(TEST_SECRET, "alice"), timeout=10
        )


async def unsent_events(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM tasks.outbox WHERE sent_at IS NULL")
    finally:
        await conn.close()
    return count


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "todo_runtime.broker_health" and "refuses us" in record.getMessage()
    ]


def failures(reason: str) -> float:
    return REGISTRY.get_sample_value("todo_broker_failures_total", {"reason": reason}) or 0.0


async def refused_then_healed(
    service: RunningService,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    reason: str,
    heal: Callable[[], None],
) -> list[str]:
    """The common story: serving but refused, a write taken meanwhile, healed, and published."""
    await eventually(lambda: reason in {p.reason for p in service.broker.problems.values()}, WITHIN)
    assert await statuses(service) == {
        "": "SERVING",  # the API stays in rotation: writes go into the outbox
        LIVENESS: "SERVING",
        BROKER: "NOT_SERVING",
    }
    await create_task(service, "written while the broker refuses us")
    await eventually(lambda: len(refusal_lines(caplog)) >= 2, WITHIN)
    assert await unsent_events(database_url) > 0
    assert REGISTRY.get_sample_value("todo_broker_up") == 0.0
    heal()
    await eventually(lambda: service.broker.up, WITHIN)
    assert (await statuses(service))[BROKER] == "SERVING"

    async def published() -> bool:
        return await unsent_events(database_url) == 0

    await eventually(published, WITHIN)  # nothing written meanwhile is lost
    return refusal_lines(caplog)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    tracebacks = [
        r.getMessage() for r in caplog.records if r.exc_info and r.name.startswith("todo")
    ]
    assert tracebacks == []


async def test_refused_credentials_keep_the_service_serving_and_heal_without_a_restart(
    database_url: str, broker: SecureBroker, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    before = failures("authentication")
    async with running(database_url, broker, secured_settings(broker, tmp_path)) as service:
        lines = await refused_then_healed(
            service,
            database_url,
            logs,
            "authentication",
            lambda: broker.set_password("todo", "the-services"),  # the operator fixes the user
        )
    assert all("KAFKA_SASL_USERNAME" in line and "retrying in" in line for line in lines), lines
    assert "invalid credentials" in lines[0]
    assert failures("authentication") - before >= 2
    assert broker.authentications("todo") >= 1  # the same clients, now let in
    no_tracebacks(logs)


async def test_an_untrusted_certificate_is_refused_until_the_broker_presents_a_trusted_one(
    database_url: str, broker: SecureBroker, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    settings = secured_settings(broker, tmp_path, KAFKA_SASL_PASSWORD="the-brokers")
    broker.use_certificate(trustme.CA())  # a certificate the service's CA file did not sign
    async with running(database_url, broker, settings) as service:
        lines = await refused_then_healed(
            service, database_url, logs, "tls", lambda: broker.use_certificate(broker.ca)
        )
    assert all("KAFKA_SSL_CA_LOCATION" in line for line in lines), lines
    assert "certificate verify failed" in lines[0]
    no_tracebacks(logs)


async def test_a_plaintext_client_at_a_tls_listener_is_told_to_check_its_protocol(
    database_url: str, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    with SecureBroker(tls=True) as broker:
        async with running(database_url, broker, {}) as service:
            await eventually(
                lambda: "tls" in {p.reason for p in service.broker.problems.values()}, WITHIN
            )
            assert await statuses(service) == {
                "": "SERVING",
                LIVENESS: "SERVING",
                BROKER: "NOT_SERVING",
            }
            await eventually(lambda: len(refusal_lines(logs)) >= 1, WITHIN)
    [first, *_] = refusal_lines(logs)
    assert "as a TLS listener does to a plaintext client" in first
    assert "KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in first
    no_tracebacks(logs)
