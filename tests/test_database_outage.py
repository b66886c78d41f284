"""PostgreSQL killed under load: seen, reported, healed, and no acknowledged write lost.

Readiness follows the outage, liveness does not: svc_tasks leaves rotation but is not restarted,
and the gateway stays ready (it says UNAVAILABLE per request)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from gateway import ids
from gateway.app import create_app
from svc_tasks.service import SERVICE as TASKS
from tests.support.gateway.gateway_harness import make_config, token_for
from tests.support.infra import TEST_SECRET, eventually, health_status, service_config
from todo_cli.broker import EmbeddedBroker
from todo_cli.database import DatabaseError, EmbeddedPostgres
from todo_runtime import endpoints
from todo_runtime.grpc_server import LIVENESS
from todo_runtime.runner import start_service

CREATE = (
    "mutation($t: String!) { createTask(input: {title: $t}) { task { id } userErrors { code } } }"
)


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A server of this test's own, so killing it hurts nobody else."""
    server = EmbeddedPostgres(tmp_path)
    server.start(log_path=tmp_path / "postgres.log")
    try:
        yield server
    finally:
        server.stop()


def restart(server: EmbeddedPostgres, log_path: Path) -> None:
    """Starts the server again after a crash (its old backends may take a moment to go)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            server.start(log_path=log_path)
            return
        except DatabaseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def test_killed_database_is_reported_healed_and_loses_no_acknowledged_write(
    postgres: EmbeddedPostgres,
    broker: EmbeddedBroker,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url = await postgres.ensure_database("outage")
    config = service_config(endpoints.TASKS, url, broker.bootstrap_servers)
    tasks = await start_service(TASKS, config)
    app = create_app(make_config(f"127.0.0.1:{tasks.port}", internal_secret=TEST_SECRET))
    acknowledged: list[str] = []
    codes: list[str] = []
    stop = asyncio.Event()

    async def client(http: httpx.AsyncClient, number: int) -> None:
        sent = 0
        while not stop.is_set():
            sent += 1
            response = await http.post(
                "/graphql", json={"query": CREATE, "variables": {"t": f"c{number}-{sent}"}}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            if "errors" in body:
                codes.extend(error["extensions"]["code"] for error in body["errors"])
                await asyncio.sleep(0.05)
            else:
                assert body["data"]["createTask"]["userErrors"] == [], body
                acknowledged.append(body["data"]["createTask"]["task"]["id"])

    async def ready(http: httpx.AsyncClient) -> bool:
        """svc_tasks' readiness; its liveness and the gateway's readiness hold throughout."""
        assert await health_status(f"127.0.0.1:{tasks.port}", LIVENESS) == "SERVING"
        assert (await http.get("/readyz")).status_code == 200
        return await health_status(f"127.0.0.1:{tasks.port}", "") == "SERVING"

    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://gateway",
                headers={"Authorization": f"Bearer {token_for('alice')}"},
            ) as http,
        ):
            load = [asyncio.create_task(client(http, n)) for n in range(4)]
            await eventually(lambda: len(acknowledged) >= 20)

            await asyncio.to_thread(postgres.kill)
            killed = time.monotonic()
            while await ready(http):
                assert time.monotonic() - killed < 10, "readiness never noticed the outage"
                await asyncio.sleep(0.1)
            noticed = time.monotonic() - killed
            await eventually(lambda: len(codes) >= 10)  # clients keep calling meanwhile

            await asyncio.to_thread(restart, postgres, tmp_path / "postgres.log")
            restarted = time.monotonic()
            while not await ready(http):
                assert time.monotonic() - restarted < 30, "readiness never recovered"
                await asyncio.sleep(0.1)
            healed = time.monotonic() - restarted
            before = len(acknowledged)
            await eventually(lambda: len(acknowledged) >= before + 20)  # writes work again
            stop.set()
            await asyncio.gather(*load)
    finally:
        stop.set()
        await tasks.stop()
    print(f"outage noticed after {noticed:.2f} s, healed {healed:.2f} s after the restart")

    assert set(codes) == {"UNAVAILABLE"}, codes
    conn = await asyncpg.connect(url)
    try:
        stored = {str(r["id"]) for r in await conn.fetch("SELECT id FROM tasks.tasks")}
    finally:
        await conn.close()
    assert {ids.task_id(global_id) for global_id in acknowledged} <= stored
    messages = [r.getMessage() for r in caplog.records if r.name == "todo_runtime.db_watch"]
    assert sum("connection lost" in m or "unavailable" in m for m in messages) == 1, messages
    assert sum("available again" in m for m in messages) == 1, messages
    assert not [
        r for r in caplog.records if r.exc_info and r.name.startswith(("todo_", "svc_", "gateway"))
    ]
