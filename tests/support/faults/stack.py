"""The whole stack as separate processes, as `todo up` runs it, with two replicas of everything.

PostgreSQL (embedded) and the broker (Tansu) are started directly so a fault
can SIGKILL or SIGSTOP them; every service replica and both gateways run as
`todo serve NAME` with their own ports. A client of a service dials both of
its replicas (`ipv4:` target with two addresses, its own-numbered replica
first), so a killed replica is failed over, not waited for. Each replica
reaches PostgreSQL through a `DatabaseLink` of its own, which a fault cuts.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import asyncpg

from tests.support.faults.db_link import DatabaseLink
from todo_cli import components
from todo_cli.broker import EmbeddedBroker, free_port
from todo_cli.database import DatabaseError, EmbeddedPostgres
from todo_cli.die_with_parent import tied
from todo_cli.settings import stack_secrets, write_audit_public_key
from todo_runtime.config import RUN_ID_ENV, Env
from todo_runtime.service import Component

REPLICAS: Final = 2
READY_WITHIN: Final = 120.0
NOTIFY_GRACE_SECONDS: Final = 5.0  # short, so the suite's outages exercise the missed rule too
# Settings every process gets: short fetch waits and checkpoints so convergence is quick,
# fast webhook retries, and the reminders' grace window.
SETTINGS: Final = {
    "TODO_WEBHOOK_ALLOW_PRIVATE": "1",
    "TODO_WEBHOOK_RETRY_SCALE": "0.05",
    "TODO_WEBHOOK_TIMEOUT_SECONDS": "5",
    "TODO_KAFKA_FETCH_WAIT_MAX_MS": "50",
    "TODO_LIVE_FETCH_WAIT_MAX_MS": "20",
    "TODO_AUDIT_CHECKPOINT_SECONDS": "1",
    "TODO_NOTIFY_GRACE_SECONDS": str(NOTIFY_GRACE_SECONDS),
    "TODO_DB_POOL_MAX": "5",
    "TODO_GRPC_GRACE_SECONDS": "0.5",
    "TODO_WS_PING_SECONDS": "5",
}


@dataclass
class Replica:
    """One process of a component: its environment, log, database link and current process."""

    name: str
    component: Component
    env: dict[str, str]
    log_path: Path
    link: DatabaseLink | None = None
    process: asyncio.subprocess.Process | None = None
    restarts: int = field(default=0)

    @property
    def port(self) -> int:
        return int(self.env[self.component.endpoint.port_env])


def _targets(ports: list[int], first: int) -> str:
    """A gRPC target naming every replica, replica `first` preferred (pick_first fails over)."""
    ordered = ports[first:] + ports[:first]
    return "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ordered)


class FaultStack:
    """Starts, breaks and restarts the stack's processes under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.created = time.monotonic()
        self.logs = directory / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.run_id = secrets.token_hex(8)
        self.secrets = stack_secrets(directory, {})
        write_audit_public_key(directory, self.secrets["TODO_AUDIT_SIGNING_KEY"])
        self.postgres = EmbeddedPostgres(directory)
        self.broker = EmbeddedBroker(port=free_port(), log_path=self.logs / "broker.log")
        self.replicas: list[Replica] = []
        self.gateways: list[Replica] = []

    @property
    def database_url(self) -> str:
        """The database on its Unix socket, for the suite's own checks (no link to cut)."""
        return self.postgres.url()

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{gateway.port}/graphql" for gateway in self.gateways]

    def replica(self, name: str) -> Replica:
        return next(r for r in [*self.replicas, *self.gateways] if r.name == name)

    async def start(self) -> None:
        self.postgres.start(log_path=self.logs / "postgres.log")
        await self.postgres.ensure_database()
        await asyncio.to_thread(self.broker.start)
        ports = {
            component.name: [free_port() for _ in range(REPLICAS)]
            for component in components.COMPONENTS
        }
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TODO_") and k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}
        }
        base.update(self.secrets)
        base.update(SETTINGS)
        base.update(
            {
                "TODO_DATA_DIR": str(self.directory),
                "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
                RUN_ID_ENV: self.run_id,
            }
        )
        socket = str(self.postgres.socket_dir / ".s.PGSQL.5432")
        for component in components.COMPONENTS:
            for index in range(REPLICAS):
                env = dict(base)
                for other in components.COMPONENTS:
                    if not other.http:
                        env[other.endpoint.addr_env] = _targets(ports[other.name], index)
                env[component.endpoint.port_env] = str(ports[component.name][index])
                replica = Replica(
                    f"{component.name}-{index + 1}",
                    component,
                    env,
                    self.logs / f"{component.name}-{index + 1}.log",
                )
                if not component.http:
                    replica.link = DatabaseLink(socket)
                    await replica.link.start()
                    env["DATABASE_URL"] = (
                        f"postgresql://postgres@127.0.0.1:{replica.link.port}/todo"
                    )
                (self.gateways if component.http else self.replicas).append(replica)
        # Replicas of a service start together; services in start order, as `todo up` does.
        for component in components.COMPONENTS:
            group = [r for r in [*self.replicas, *self.gateways] if r.component is component]
            await asyncio.gather(*(self._spawn(r) for r in group))
            await asyncio.gather(*(self.wait_ready(r) for r in group))

    async def _spawn(self, replica: Replica) -> None:
        with replica.log_path.open("ab") as log:
            replica.process = await asyncio.create_subprocess_exec(
                *tied([sys.executable, "-m", "todo_cli", "serve", replica.component.name]),
                env=replica.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    async def wait_ready(self, replica: Replica, within: float = READY_WITHIN) -> float:
        """Seconds until `replica` serves (its health names this run); fails after `within`."""
        started = time.monotonic()
        env = Env(replica.env)
        while not await components.ready(replica.component, env, self.run_id):
            process = replica.process
            if process is not None and process.returncode is not None:
                raise AssertionError(f"{replica.name} exited with {process.returncode}")
            if time.monotonic() - started > within:
                raise AssertionError(f"{replica.name} not ready within {within} s")
            await asyncio.sleep(0.2)
        return time.monotonic() - started

    async def kill(self, replica: Replica) -> None:
        """SIGKILL, as a crash would."""
        if replica.process is not None and replica.process.returncode is None:
            replica.process.kill()
            await replica.process.wait()

    async def restart(self, replica: Replica) -> None:
        replica.restarts += 1
        await self._spawn(replica)
        await self.wait_ready(replica)

    async def kill_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.kill)

    async def restart_postgres(self) -> None:
        """Starts the server again after a crash (its old backends may take a moment to go)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                await asyncio.to_thread(self.postgres.start, 30.0, self.logs / "postgres.log")
                return
            except DatabaseError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def kill_broker(self) -> None:
        await asyncio.to_thread(self.broker.kill)

    async def restart_broker(self) -> None:
        await asyncio.to_thread(self.broker.start)

    def pause_broker(self) -> None:
        self._signal_broker(signal.SIGSTOP)

    def resume_broker(self) -> None:
        self._signal_broker(signal.SIGCONT)

    def _signal_broker(self, signum: signal.Signals) -> None:
        pid = self.broker.pid
        assert pid is not None, "the broker is not running"
        os.kill(pid, signum)

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url)

    async def close(self) -> None:
        """Stops every process (SIGTERM, then SIGKILL) and the infrastructure."""
        if self.broker.running:
            self.resume_broker()  # a failed run may have left it stopped
        everything = [*self.gateways, *reversed(self.replicas)]
        for replica in everything:
            if replica.process is not None and replica.process.returncode is None:
                replica.process.terminate()
        for replica in everything:
            if replica.process is not None:
                try:
                    await asyncio.wait_for(replica.process.wait(), 15)
                except TimeoutError:
                    replica.process.kill()
                    await replica.process.wait()
            if replica.link is not None:
                await replica.link.cut()
        await asyncio.to_thread(self.broker.stop)
        await asyncio.to_thread(self.postgres.stop)
