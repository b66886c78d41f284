"""The runtime tests' database: the runtime's tables in schema `svc`, plus a `things` table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from todo_runtime.config import DatabaseConfig
from todo_runtime.db import create_pool
from todo_runtime.migrations import MigrationSet, migrate

SCHEMA = "svc"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    """Outbox, inbox and topic epochs as a service has them; `things` stands in for its state."""
    await migrate(database_url, SCHEMA, [MigrationSet("runtime", "todo_runtime")])
    pool = await create_pool(DatabaseConfig(database_url, 1, 6), SCHEMA)
    await pool.execute("CREATE TABLE things (name text NOT NULL)")
    try:
        yield pool
    finally:
        await pool.close()
