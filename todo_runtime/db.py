"""The asyncpg pool every service uses, bound to the service's own schema, and how a pooled
connection that LISTENed goes back to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from todo_runtime.config import DatabaseConfig

Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


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


async def unlisten(conn: Connection, channel: str, callback: Callable[..., None]) -> None:
    """Removes a LISTEN before the pool gets `conn` back, or drops the connection.

    A connection that died (even one whose socket closed a moment before
    asyncpg noticed), or whose UNLISTEN failed or was cancelled, is terminated:
    that clears its listeners, so the pool takes it back quietly and opens a
    fresh one, and no connection returns to the pool still listening.
    """
    try:
        if conn.is_closed():
            raise ConnectionError("connection closed")
        async with asyncio.timeout(2.0):
            await conn.remove_listener(channel, callback)
    except BaseException as error:
        with contextlib.suppress(asyncpg.InterfaceError):  # already detached: nothing to drop
            conn.terminate()
        if isinstance(error, asyncio.CancelledError):
            raise
