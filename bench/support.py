"""What every benchmark needs: a scratch database, a broker, svc_tasks, percentiles, JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from svc_tasks.config import TasksConfig
from svc_tasks.server import start as start_tasks
from todo_cli.broker import EmbeddedBroker, free_port
from todo_runtime.config import DatabaseConfig, Env, GrpcServerConfig, KafkaConfig

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-internal-secret-0123456789"


@dataclass(frozen=True)
class Stack:
    database_url: str
    tasks_address: str
    broker: EmbeddedBroker
    kafka: KafkaConfig


@asynccontextmanager
async def scratch_stack() -> AsyncIterator[Stack]:
    """A throwaway database, a Tansu broker and svc_tasks on free ports."""
    name = f"todo_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    kafka = KafkaConfig.from_env(Env({"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}))
    config = TasksConfig(
        DatabaseConfig(url, 2, 10), kafka, GrpcServerConfig("127.0.0.1", 0, 0.5), SECRET
    )
    service = await start_tasks(config)
    try:
        yield Stack(url, f"127.0.0.1:{service.port}", broker, kafka)
    finally:
        await service.stop()
        broker.stop()
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


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
