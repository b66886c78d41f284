"""Noticing a database outage as it starts and as it ends, without polling.

One dedicated connection stays open; Postgres closing it (crash, restart, a
cut link) fires its termination listener at once. The watch then reports the
outage (one log line, readiness NOT_SERVING), reconnects with backoff, and
reports the recovery (one line, SERVING again). Requests during the outage
fail fast with UNAVAILABLE; the pool replaces its dead connections by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from todo_runtime.backoff import Backoff
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)


async def watch_database(
    url: str, on_change: Callable[[bool], None], *, name: str, backoff: Backoff | None = None
) -> None:
    """Calls `on_change(False)` when the database goes away and `on_change(True)` when it is back."""
    backoff = backoff or Backoff(0.2, 5.0)
    down_since: float | None = None
    while True:
        try:
            conn: asyncpg.Connection[Any] = await asyncpg.connect(
                url, timeout=5, server_settings={"application_name": f"{name}-watch"}
            )
        except Exception as error:
            if not is_transient(error):
                raise
            if down_since is None:
                down_since = time.monotonic()
                log.warning("%s: database unavailable: %s", name, describe(error))
                on_change(False)
            await backoff.wait()
            continue
        if down_since is not None:
            log.info(
                "%s: database available again after %.1f s", name, time.monotonic() - down_since
            )
            down_since = None
        backoff.reset()
        on_change(True)
        try:
            await _closed(conn)
        finally:
            conn.terminate()
        down_since = time.monotonic()
        log.warning("%s: database connection lost; reconnecting", name)
        on_change(False)


async def _closed(conn: asyncpg.Connection[Any]) -> None:
    """Returns when the server closes `conn`."""
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _conn: lost.set())
    await lost.wait()
