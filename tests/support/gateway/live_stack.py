"""svc_tasks, svc_live replicas and gateways (in this process or as `python -m gateway`
processes) for the subscription tests; mutations go over HTTP like a browser's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import replace
from typing import Any

import httpx

from gateway.config import GatewayConfig
from svc_live.service import SERVICE as LIVE
from tests.support.gateway.gateway_harness import (
    CREATE,
    JWT_SECRET,
    changed,
    make_config,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks, eventually, service_config
from todo_cli.broker import free_port
from todo_cli.die_with_parent import tied
from todo_runtime import endpoints
from todo_runtime.runner import RunningService, start_service


class GatewayProcess:
    """`python -m gateway` in a child process (so a test can kill it)."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.url = f"ws://127.0.0.1:{port}/graphql"
        self.http_url = f"http://127.0.0.1:{port}/graphql"

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class LiveStack:
    """Everything a subscription needs, started on demand and stopped by `close()`."""

    def __init__(self, tasks: RunningTasks) -> None:
        self.tasks = tasks
        self.replicas: list[RunningService] = []
        self._stack = contextlib.AsyncExitStack()
        self._http = httpx.AsyncClient(timeout=30)
        self._processes: list[GatewayProcess] = []

    async def start_live(self, **settings: str) -> RunningService:
        config = service_config(
            endpoints.LIVE,
            self.tasks.config.database.url,
            self.tasks.config.kafka.bootstrap_servers,
            TODO_TASKS_ADDR=self.tasks.address,
            **settings,
        )
        replica = await start_service(LIVE, config)
        self.replicas.append(replica)
        return replica

    def gateway_config(self, live: RunningService | None = None, **overrides: Any) -> GatewayConfig:
        replica = live or self.replicas[0]
        return replace(
            make_config(self.tasks.address, internal_secret=self.tasks.secret),
            live_address=f"127.0.0.1:{replica.port}",
            **overrides,
        )

    async def start_gateway(self, live: RunningService | None = None, **overrides: Any) -> str:
        """A gateway in this process (uvicorn on a free port); returns its ws:// URL."""
        return await self._stack.enter_async_context(
            serving(self.gateway_config(live, **overrides))
        )

    async def start_gateway_process(self, live: RunningService | None = None) -> GatewayProcess:
        replica = live or self.replicas[0]
        port = free_port()
        env = {
            **os.environ,
            "TODO_JWT_SECRET": JWT_SECRET,
            "TODO_INTERNAL_SECRET": self.tasks.secret,
            "TODO_TASKS_ADDR": self.tasks.address,
            "TODO_LIVE_ADDR": f"127.0.0.1:{replica.port}",
            "TODO_GATEWAY_PORT": str(port),
        }
        env.pop("DATABASE_URL", None)  # no rate limiter: nothing here measures it
        process = await asyncio.create_subprocess_exec(
            *tied([sys.executable, "-m", "gateway"]), env=env, stdin=asyncio.subprocess.DEVNULL
        )
        gateway = GatewayProcess(process, port)
        self._processes.append(gateway)

        async def healthy() -> bool:
            try:
                response = await self._http.get(gateway.http_url.replace("/graphql", "/healthz"))
            except httpx.TransportError:
                return False
            return response.status_code == 200

        await eventually(healthy, 60.0)
        return gateway

    async def execute(self, url: str, user: str, query: str, variables: dict[str, Any]) -> Any:
        """POSTs GraphQL as `user` to the gateway at `url` (ws:// or http://); returns the data."""
        http_url = url.replace("ws://", "http://", 1)
        response = await self._http.post(
            http_url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token_for(user)}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def create(self, url: str, user: str, title: str = "a task", **fields: Any) -> Any:
        data = await self.execute(url, user, CREATE, {"input": {"title": title, **fields}})
        return changed(data, "createTask", "task")

    async def close(self) -> None:
        for process in self._processes:
            process.kill()
            await process.process.wait()
        await self._stack.aclose()
        for replica in self.replicas:
            await replica.stop()
        await self._http.aclose()
