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


async def _keep_session(conn: asyncpg.Connection[Any]) -> None:
    """Returns a connection to the pool without a server round trip.

    asyncpg's default reset sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release, a round trip per use that costs as much as a
    small query. Nothing here leaves session state on a pooled connection:
    `unlisten` and `release_session_lock` remove theirs or terminate the
    connection, settings are per connection (`server_settings`) or `SET LOCAL`.
    asyncpg still rolls back an open transaction and drops client-side listeners.
    """


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
        reset=_keep_session,
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


async def release_session_lock(conn: Connection, unlock: str, *args: object) -> None:
    """Runs `unlock` (a `pg_advisory_unlock` call) before the pool gets `conn` back, or
    terminates the connection, which releases every lock it held."""
    try:
        async with asyncio.timeout(2.0):
            await conn.execute(unlock, *args)
    except BaseException as error:
        with contextlib.suppress(asyncpg.InterfaceError):
            conn.terminate()
        if isinstance(error, asyncio.CancelledError):
            raise
