"""`todo check`, the chart's `helm test`, against every service and the gateway running for real:
exit 0 when everything serves, else exit 1 with a line naming what failed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from svc_audit.service import SERVICE as AUDIT
from svc_live.service import SERVICE as LIVE
from svc_notify.service import SERVICE as NOTIFY
from svc_recur.service import SERVICE as RECUR
from svc_tasks.service import SERVICE as TASKS
from tests.support.gateway.gateway_harness import JWT_SECRET, make_config, serving, token_for
from tests.support.infra import (
    TEST_SECRET,
    eventually,
    health_status,
    scratch_database,
    service_config,
)
from todo_cli.broker import EmbeddedBroker, free_port
from todo_cli.die_with_parent import tied
from todo_runtime import endpoints
from todo_runtime.runner import start_service
from todo_runtime.service import ServiceDefinition
from todo_transparency.checkpoints import SigningKey

SERVICES = (endpoints.TASKS, endpoints.NOTIFY, endpoints.RECUR, endpoints.AUDIT, endpoints.LIVE)
READY_WITHIN = 90.0  # the consumers join their groups on a fresh broker


@dataclass(frozen=True)
class Running:
    """The gateway's URL and each service's address, as the chart's Services would name them."""

    gateway: str
    addresses: dict[str, str]

    def environment(self, **overrides: str) -> dict[str, str]:
        """What the chart's test pod sets, for this stack; no other server setting of ours."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TODO_", "KAFKA_"))}
        env.pop("DATABASE_URL", None)
        env.update(TODO_GATEWAY_URL=self.gateway, TODO_JWT_SECRET=JWT_SECRET)
        for endpoint in SERVICES:
            env[endpoint.addr_env] = self.addresses[endpoint.name]
        return {**env, **overrides}


@pytest.fixture(scope="module")
async def running(postgres_admin_url: str) -> AsyncIterator[Running]:
    """Every service and the gateway in this process, on the session's PostgreSQL and a broker
    of their own, each service ready (health SERVING) before a test starts."""
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_database(postgres_admin_url, "todo_check"))
        broker = EmbeddedBroker(port=free_port())
        await asyncio.to_thread(broker.start)
        stack.callback(broker.stop)
        addresses: dict[str, str] = {}

        async def started(
            definition: ServiceDefinition, endpoint: endpoints.Endpoint, **settings: str
        ) -> str:
            config = service_config(endpoint, url, broker.bootstrap_servers, **settings)
            service = await start_service(definition, config)
            stack.push_async_callback(service.stop)
            addresses[endpoint.name] = f"127.0.0.1:{service.port}"
            return addresses[endpoint.name]

        tasks = await started(TASKS, endpoints.TASKS)
        await started(RECUR, endpoints.RECUR, TODO_TASKS_ADDR=tasks)
        await started(NOTIFY, endpoints.NOTIFY)
        await started(AUDIT, endpoints.AUDIT, TODO_AUDIT_SIGNING_KEY=SigningKey.generate_text())
        await started(LIVE, endpoints.LIVE, TODO_TASKS_ADDR=tasks)
        config = make_config(
            tasks,
            internal_secret=TEST_SECRET,
            recur_address=addresses["recur"],
            notify_address=addresses["notify"],
            audit_address=addresses["audit"],
            live_address=addresses["live"],
        )
        ws_url = await stack.enter_async_context(serving(config))
        for address in addresses.values():

            async def serving_now(address: str = address) -> bool:
                return await health_status(address, "") == "SERVING"

            await eventually(serving_now, READY_WITHIN)
        yield Running(ws_url.replace("ws://", "http://").removesuffix("/graphql"), addresses)


async def todo_check(env: dict[str, str], *flags: str) -> tuple[int, list[str]]:
    """`todo check` as the chart's test pod runs it (a process; this loop keeps serving)."""
    process = await asyncio.create_subprocess_exec(
        *tied([sys.executable, "-m", "todo_cli", "check", *flags]),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode().splitlines()


async def test_everything_serving_passes_with_one_line_per_check(running: Running) -> None:
    status, lines = await todo_check(running.environment())
    assert status == 0, lines
    assert [line.split()[:2] for line in lines] == [
        ["ok", "gateway"],
        ["ok", "tasks"],
        ["ok", "notify"],
        ["ok", "recur"],
        ["ok", "audit"],
        ["ok", "live"],
    ]
    assert lines[0].endswith(f"{running.gateway}/graphql")
    assert lines[1].endswith(running.addresses["tasks"])


async def test_a_wrong_address_fails_naming_it(running: Running) -> None:
    wrong = f"127.0.0.1:{free_port()}"
    status, lines = await todo_check(running.environment(TODO_RECUR_ADDR=wrong), "--timeout", "1")
    assert status == 1, lines
    failures = [line for line in lines if not line.startswith("ok")]
    assert len(failures) == 1, lines
    assert failures[0].startswith(f"FAIL  recur {wrong}: ")
    assert "UNAVAILABLE" in failures[0] or "DEADLINE_EXCEEDED" in failures[0]


async def test_a_given_token_is_sent_as_it_is(running: Running) -> None:
    """TODO_CHECK_TOKEN (an identity provider's) wins over minting one with the secret."""
    refused = running.environment(TODO_CHECK_TOKEN="not.a.token")
    status, lines = await todo_check(refused)
    assert status == 1, lines
    [failure] = [line for line in lines if not line.startswith("ok")]
    assert failure.startswith(f"FAIL  gateway {running.gateway}/graphql: ")
    assert "UNAUTHENTICATED" in failure
    accepted = running.environment(TODO_CHECK_TOKEN=token_for("someone-else"))
    accepted.pop("TODO_JWT_SECRET")
    status, lines = await todo_check(accepted)
    assert status == 0, lines


async def test_the_gateway_unreachable_fails_naming_its_url(running: Running) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    status, lines = await todo_check(running.environment(TODO_GATEWAY_URL=gone), "--timeout", "1")
    assert status == 1, lines
    [failure] = [line for line in lines if not line.startswith("ok")]
    assert failure.startswith(f"FAIL  gateway {gone}/graphql: ")


async def test_a_part_the_release_does_not_run_is_skipped(running: Running) -> None:
    gone = f"127.0.0.1:{free_port()}"
    status, lines = await todo_check(
        running.environment(TODO_LIVE_ADDR=gone), "--skip", "live", "--timeout", "1"
    )
    assert status == 0, lines
    assert [line.split()[1] for line in lines] == ["gateway", "tasks", "notify", "recur", "audit"]
