"""Gateway fixtures: the ASGI app alone, or in front of the real svc_tasks (`tasks_service`),
or gateways and svc_live replicas the test starts around it (`stack`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.gateway.gateway_harness import GatewayClient, make_config, running_client
from tests.support.gateway.live_stack import LiveStack
from tests.support.infra import RunningTasks


@pytest.fixture
async def app_client() -> AsyncIterator[GatewayClient]:
    """The gateway with no service behind it: for what must work or fail before any gRPC call."""
    async with running_client(make_config()) as client:
        yield client


@pytest.fixture
async def gateway_client(tasks_service: RunningTasks) -> AsyncIterator[GatewayClient]:
    """The gateway in front of the real svc_tasks; `client.user` is a fresh user."""
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with running_client(config) as client:
        yield client


@pytest.fixture
async def stack(tasks_service: RunningTasks) -> AsyncIterator[LiveStack]:
    """Gateways and svc_live replicas around the real svc_tasks, started by the test."""
    bench = LiveStack(tasks_service)
    try:
        yield bench
    finally:
        await bench.close()


@pytest.fixture
async def live_stack(stack: LiveStack) -> LiveStack:
    """`stack` with one svc_live running."""
    await stack.start_live()
    return stack
