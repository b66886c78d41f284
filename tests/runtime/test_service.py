"""The service builder: declared topics, supervised loops, readiness that follows the database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from confluent_kafka.admin import AdminClient
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.infra import PostgresProxy, eventually, service_config
from todo_cli.broker import EmbeddedBroker
from todo_runtime.endpoints import Endpoint
from todo_runtime.grpc_server import ServiceBinding
from todo_runtime.migrations import MigrationSet
from todo_runtime.runner import RunningService, start_service
from todo_runtime.service import Component, ServiceDefinition, ServiceParts

PROBE = Endpoint("probe", "TODO_PROBE_PORT", "TODO_PROBE_ADDR", 0)
SERVING: int = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING: int = health_pb2.HealthCheckResponse.NOT_SERVING


def probe_service(crashes: int = 0) -> ServiceDefinition:
    """A service with no RPCs and one background loop that crashes `crashes` times."""
    left = crashes

    async def flaky() -> None:
        nonlocal left
        if left:
            left -= 1
            await asyncio.sleep(0.3)
            raise RuntimeError("the loop broke")
        await asyncio.Event().wait()

    async def setup(parts: ServiceParts) -> Sequence[ServiceBinding]:
        parts.background("flaky loop", flaky)
        return []

    return ServiceDefinition(
        component=Component("probe", "tests", PROBE),
        schema="probe",
        migrations=MigrationSet("probe", "tests.runtime"),
        produces=("probe-out",),
        consumes=("probe-in",),
        setup=setup,
    )


async def health(service: RunningService, name: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=name), timeout=2
            )
        except grpc.aio.AioRpcError as error:
            return -1 if error.code() == grpc.StatusCode.NOT_FOUND else -2
        return int(reply.status)


async def test_topics_are_created_and_the_run_name_reports_health(
    database_url: str, broker: EmbeddedBroker
) -> None:
    config = service_config(PROBE, database_url, broker.bootstrap_servers, TODO_RUN_ID="r1")
    service = await start_service(probe_service(), config)
    try:
        await eventually(lambda: _serving(service))
        assert await health(service, "todo.run.r1") == SERVING
        assert await health(service, "todo.run.other") == -1  # another stack's probe never passes
        created = await asyncio.to_thread(_topics, broker)
        assert {"probe-out", "probe-in", "probe-in.dlq"} <= created
    finally:
        await service.stop()


def _topics(broker: EmbeddedBroker) -> set[str]:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    return set(admin.list_topics(timeout=10).topics)


async def _serving(service: RunningService) -> bool:
    return await health(service) == SERVING


async def _watch(service: RunningService, seen: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        status = await health(service)
        if not seen or seen[-1] != status:
            seen.append(status)
        await asyncio.sleep(0.05)


async def test_a_crashed_loop_means_not_serving_until_it_is_restarted(
    database_url: str, broker: EmbeddedBroker
) -> None:
    config = service_config(PROBE, database_url, broker.bootstrap_servers)
    service = await start_service(probe_service(crashes=1), config)
    seen: list[int] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(service, seen, stop))
    try:
        await eventually(lambda: seen[-2:] == [NOT_SERVING, SERVING] and SERVING in seen[:-2])
    finally:
        stop.set()
        await watcher
        await service.stop()


async def test_a_database_outage_turns_readiness_off_and_on(
    database_url: str, broker: EmbeddedBroker
) -> None:
    proxy = PostgresProxy(database_url)
    await proxy.start()
    config = service_config(PROBE, proxy.url, broker.bootstrap_servers)
    service = await start_service(probe_service(), config)
    try:
        await eventually(lambda: _serving(service))
        await proxy.cut()

        async def not_serving() -> bool:
            return await health(service) == NOT_SERVING

        await eventually(not_serving, within=10)
        await proxy.start()
        await eventually(lambda: _serving(service), within=20)
    finally:
        await service.stop()
        await proxy.cut()
