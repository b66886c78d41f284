"""Stopping: every part exits within 10 s of SIGTERM with its broker and its database away, and
nothing outlives its parent: a `todo up`, or a test run, killed with SIGKILL leaves no process
(and no port) behind."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import httpx
import psutil
import pytest

from tests.support.infra import TEST_SECRET, PostgresProxy, eventually, health_status
from tests.support.stack_harness import Stack, listening_ports, stack_environment
from todo_cli import components
from todo_cli.broker import free_port
from todo_cli.die_with_parent import tied
from todo_runtime.grpc_server import LIVENESS
from todo_transparency.checkpoints import SigningKey

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration

STOP_WITHIN: Final = 10.0  # seconds from SIGTERM to exit, whatever is unreachable
DATABASE_SERVICES: Final = {s.component.name for s in components.SERVICES if s.database}


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[PostgresProxy]:
    link = PostgresProxy(database_url)
    await link.start()
    try:
        yield link
    finally:
        await link.cut()


def component_environment(
    proxy: PostgresProxy, dead_broker: int
) -> tuple[dict[str, str], dict[str, int]]:
    ports = {name: free_port() for name in components.BY_NAME}
    env = {
        "PATH": "/usr/bin:/bin",
        "TODO_LOG_FORMAT": "text",
        "DATABASE_URL": proxy.url,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{dead_broker}",
        "TODO_INTERNAL_SECRET": TEST_SECRET,
        "TODO_JWT_SECRET": "j" * 40,
        "TODO_AUDIT_SIGNING_KEY": SigningKey.generate_text(),
        **{
            component.endpoint.port_env: str(ports[name])
            for name, component in components.BY_NAME.items()
        },
    }
    return env, ports


async def alive(name: str, port: int) -> bool:
    if name == "gateway":
        async with httpx.AsyncClient() as http:
            try:
                return (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            except httpx.TransportError:
                return False
    return await health_status(f"127.0.0.1:{port}", LIVENESS) == "SERVING"


async def test_every_part_stops_within_10_s_with_its_broker_and_database_away(
    proxy: PostgresProxy, tmp_path: Path
) -> None:
    env, ports = component_environment(proxy, dead_broker=free_port())
    processes: dict[str, asyncio.subprocess.Process] = {}
    for name in components.BY_NAME:
        with (tmp_path / f"{name}.log").open("wb") as log:
            processes[name] = await asyncio.create_subprocess_exec(
                *tied([sys.executable, "-m", "todo_cli", "serve", name]),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    took: dict[str, float] = {}
    try:

        async def all_alive() -> bool:
            return all([await alive(name, port) for name, port in ports.items()])

        await eventually(all_alive, 60)
        await proxy.cut()  # the database goes away too

        async def out_of_rotation() -> bool:
            states = [await health_status(f"127.0.0.1:{ports[n]}", "") for n in DATABASE_SERVICES]
            return all(state == "NOT_SERVING" for state in states)

        await eventually(out_of_rotation, 60)
        sent = time.monotonic()
        for process in processes.values():
            process.send_signal(signal.SIGTERM)

        async def stopped(name: str, process: asyncio.subprocess.Process) -> None:
            await asyncio.wait_for(process.wait(), STOP_WITHIN * 3)
            took[name] = time.monotonic() - sent

        await asyncio.gather(*(stopped(name, process) for name, process in processes.items()))
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
    print("stopped after SIGTERM:", ", ".join(f"{name} {t:.1f} s" for name, t in took.items()))
    assert {name: seconds for name, seconds in took.items() if seconds > STOP_WITHIN} == {}
    # uvicorn raises SIGTERM again once it has shut down gracefully; the rest exit 0.
    assert {name: p.returncode for name, p in processes.items()} == {
        name: -signal.SIGTERM if name == "gateway" else 0 for name in processes
    }


def gone(pids: list[int]) -> bool:
    """Every one of `pids` has exited (a zombie awaiting its reaper counts as gone)."""
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def test_a_killed_todo_up_leaves_nothing_running(tmp_path: Path) -> None:
    env = stack_environment(tmp_path / "data")
    stack = Stack(env)
    try:
        stack.wait_for("todo stack ready")
        children = [child.pid for child in stack.children()]
        assert len(children) >= len(components.BY_NAME) + 2  # the components, PostgreSQL, broker
        stack.process.kill()  # SIGKILL: `todo up` cannot stop anything itself
        stack.process.wait(10)
        deadline = time.monotonic() + 30
        while not gone(children):
            assert time.monotonic() < deadline, [p for p in children if psutil.pid_exists(p)]
            time.sleep(0.1)
        assert listening_ports(env) == []  # the next `todo up` may start
    finally:
        stack.stop()


KEEPER = """
import sys, time
from pathlib import Path
from todo_cli.broker import EmbeddedBroker, free_port
from todo_cli.database import EmbeddedPostgres

broker = EmbeddedBroker(port=free_port())
broker.start()
database = EmbeddedPostgres(Path(sys.argv[1]))
database.start()
print(broker.pid, database.pid, flush=True)
time.sleep(600)
"""


def test_servers_a_killed_test_run_started_die_with_it(tmp_path: Path) -> None:
    keeper = subprocess.Popen(
        [sys.executable, "-c", KEEPER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert keeper.stdout is not None
        servers = [int(pid) for pid in keeper.stdout.readline().split()]
        assert len(servers) == 2
        assert not gone(servers)
        keeper.kill()  # as a timeout or a hand kills a pytest worker
        keeper.wait(10)
        deadline = time.monotonic() + 30
        while not gone(servers):
            assert time.monotonic() < deadline, "a server outlived the test run that started it"
            time.sleep(0.1)
    finally:
        if keeper.poll() is None:
            keeper.kill()
            keeper.wait()
        if keeper.stdout is not None:
            keeper.stdout.close()
