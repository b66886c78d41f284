"""verifyAuditLog is charged at the most entries it checks, and given back those it did not,
in front of the real svc_tasks and svc_audit and a rate limiter on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.api import audit as audit_resolvers
from gateway.limits import query_cost
from svc_audit.service import SERVICE as AUDIT
from tests.support.gateway.gateway_harness import (
    GatewayClient,
    create_task,
    make_config,
    running_client,
)
from tests.support.infra import RunningTasks, eventually, service_config
from tests.svc_audit.conftest import SIGNING_KEY
from todo_runtime import endpoints
from todo_runtime.config import DatabaseConfig
from todo_runtime.runner import start_service

VERIFY = "{ verifyAuditLog { ok entries pendingEntries } }"
COUNT = "{ auditLog { totalCount } }"


@pytest.fixture
async def client(tasks_service: RunningTasks, database_url: str) -> AsyncIterator[GatewayClient]:
    """The gateway in front of svc_tasks and svc_audit, with a bucket that barely refills."""
    audit = await start_service(
        AUDIT,
        service_config(
            endpoints.AUDIT,
            database_url,
            tasks_service.config.kafka.bootstrap_servers,
            TODO_AUDIT_SIGNING_KEY=SIGNING_KEY,
            TODO_AUDIT_CHECKPOINT_SECONDS="0.2",
        ),
    )
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        audit_address=f"127.0.0.1:{audit.port}",
        database=DatabaseConfig(database_url, 1, 2),
        rate_restore=0.001,
    )
    try:
        async with running_client(config) as gateway:
            yield gateway
    finally:
        await audit.stop()


async def _two_entries(client: GatewayClient) -> None:
    await create_task(client, title="one")
    await create_task(client, title="two")

    async def logged() -> bool:
        data = await client.data(COUNT)
        return bool(data["auditLog"]["totalCount"] == 2)

    await eventually(logged, 30.0)


def _available(body: dict[str, Any]) -> float:
    return float(body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])


async def test_a_verification_keeps_the_price_of_the_entries_it_checked(
    client: GatewayClient,
) -> None:
    await _two_entries(client)
    before = _available(await client.execute(COUNT))
    body = await client.execute(VERIFY)
    verification = body["data"]["verifyAuditLog"]
    checked = verification["entries"] + verification["pendingEntries"]
    assert checked == 2
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + query_cost.VERIFY_MAX_ENTRIES
    assert cost["actualQueryCost"] == 1 + checked
    assert _available(body) == pytest.approx(before - (1 + checked), abs=0.1)


async def test_a_log_longer_than_a_verification_checks_is_refused_and_costs_nothing(
    client: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _two_entries(client)
    for module in (query_cost, audit_resolvers):  # as if the log were past the maximum
        monkeypatch.setattr(module, "VERIFY_MAX_ENTRIES", 1)
    before = _available(await client.execute(COUNT))
    body = await client.execute(VERIFY)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "verifyAuditLog"}
    assert "todo audit verify" in error["message"]
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (2, 1)
    assert _available(body) == pytest.approx(before - 1, abs=0.1)
