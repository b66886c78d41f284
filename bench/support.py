"""What every benchmark needs: a scratch database, a broker, svc_tasks, percentiles, JSON output."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from gateway.app import create_app
from gateway.config import GatewayConfig
from svc_tasks.service import SERVICE as TASKS
from todo_cli.broker import EmbeddedBroker, free_port
from todo_cli.database import EmbeddedPostgres
from todo_runtime import endpoints
from todo_runtime.config import Env
from todo_runtime.endpoints import Endpoint
from todo_runtime.kafka_settings import KafkaConfig
from todo_runtime.runner import start_service
from todo_runtime.service import ServiceConfig
from todo_runtime.tokens import issue_token

RESULTS = Path(__file__).resolve().parent / "results"
PERFORMANCE_DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
SECRET = "bench-internal-secret-0123456789"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123"


@dataclass(frozen=True)
class Stack:
    database_url: str
    tasks_address: str
    broker: EmbeddedBroker
    kafka: KafkaConfig


@asynccontextmanager
async def postgres_server() -> AsyncIterator[str]:
    """TEST_DATABASE_URL, else a private embedded server for this run: its admin URL."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="todo-bench-") as directory:
        server = EmbeddedPostgres(Path(directory))
        await asyncio.to_thread(server.start)
        try:
            yield server.url("postgres")
        finally:
            await asyncio.to_thread(server.stop)


def service_config(
    endpoint: Endpoint, database_url: str, bootstrap: str, **env: str
) -> ServiceConfig:
    """A service's settings for a benchmark run, on a free port."""
    settings = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TODO_INTERNAL_SECRET": SECRET,
        "TODO_GRPC_GRACE_SECONDS": "0.5",
        endpoint.port_env: "0",
        **env,
    }
    return ServiceConfig.from_env(endpoint, Env(settings))


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """A throwaway database on the server of `admin_url`: its URL, dropped afterwards."""
    name = f"todo_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def scratch_stack() -> AsyncIterator[Stack]:
    """A throwaway database, a Tansu broker and svc_tasks on free ports."""
    async with postgres_server() as admin_url, scratch_database(admin_url) as url:
        broker = EmbeddedBroker(port=free_port())
        broker.start()
        config = service_config(endpoints.TASKS, url, broker.bootstrap_servers)
        service = await start_service(TASKS, config)
        try:
            yield Stack(url, f"127.0.0.1:{service.port}", broker, config.kafka)
        finally:
            await service.stop()
            broker.stop()


def accepted(data: Mapping[str, Any] | None, mutation: str) -> dict[str, Any]:
    """The payload `mutation` answered in a GraphQL answer's `data`.

    RuntimeError when it is null or its `userErrors` are not empty: a refused input is data, not
    an error (docs/guide.md#mutations), and a benchmark must not go on measuring what was never
    done. The document must select `userErrors`.
    """
    payload = (data or {}).get(mutation)
    if not isinstance(payload, dict):
        raise RuntimeError(f"{mutation} answered no payload: {data}")
    if "userErrors" not in payload:
        raise RuntimeError(f"{mutation}: the document must select userErrors")
    if payload["userErrors"]:
        raise RuntimeError(f"{mutation} refused its input: {payload['userErrors']}")
    return payload


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **results,
    }
    path.write_text(json.dumps(payload, indent=2))
    return path


def rewrite_section(text: str, begin: str, end: str, doc: Path = PERFORMANCE_DOC) -> None:
    """Puts `text` (which starts with `begin` and ends with `end`) where those markers stand in
    `doc`; prints it when `doc` has no such markers."""
    current = doc.read_text() if doc.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        doc.write_text(head + text + rest.split(end, 1)[1])
    else:
        print(f"{doc} has no markers {begin}; the section is:\n{text}")


@asynccontextmanager
async def gateway_client(
    tasks_address: str, recur_address: str = "127.0.0.1:1", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app in process, its lifespan run, in front of these services, and an HTTP
    client to it signed in as `bench`; `settings` replace fields of its `GatewayConfig`."""
    config = replace(
        GatewayConfig(
            JWT_SECRET, "HS256", None, None, None, tasks_address, recur_address, SECRET, 5.0
        ),
        **settings,
    )
    app = create_app(config)
    headers = {"Authorization": f"Bearer {issue_token(JWT_SECRET, 'bench', 3600)}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway", headers=headers
        ) as http,
    ):
        yield http


async def wait_for(check: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    """Polls `check` until it holds; RuntimeError naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {within} s")
        await asyncio.sleep(0.1)
