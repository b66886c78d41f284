"""Gateway fixtures: the ASGI app alone, or in front of the real svc_tasks (`tasks_service`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.gateway.gateway_harness import GatewayClient, make_config, running_client
from tests.infra import RunningTasks


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
