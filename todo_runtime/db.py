"""The asyncpg pool every service uses, bound to the service's own schema."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from todo_runtime.config import DatabaseConfig


async def _init_connection(conn: asyncpg.Connection[Any]) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    config: DatabaseConfig, schema: str, settings: dict[str, str] | None = None
) -> asyncpg.Pool[Any]:
    """Opens a pool whose connections resolve unqualified names in `schema` first.

    `public` stays on the search path because extensions such as pg_trgm live
    there; `settings` adds server settings for every connection.
    """
    pool = await asyncpg.create_pool(
        config.url,
        min_size=config.pool_min,
        max_size=config.pool_max,
        init=_init_connection,
        server_settings={
            "search_path": f"{schema}, public",
            "application_name": schema,
            **(settings or {}),
        },
    )
    if pool is None:  # create_pool only returns None when not awaited
        raise RuntimeError("asyncpg.create_pool returned no pool")
    return pool
