"""Runs work that comes due at times kept in PostgreSQL, woken by NOTIFY instead of polling.

A worker's `work()` does whatever is due and returns how many seconds until
more comes due (None: nothing scheduled). The loop then sleeps that long, or
until a NOTIFY on its channel (or `wake`) says something changed. One pooled
connection per loop holds the LISTEN; losing it (a database outage) is
waited out with backoff and logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from todo_runtime.backoff import Backoff
from todo_runtime.db import Connection, unlisten
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[float | None]]


async def run_due_work(
    pool: asyncpg.Pool[Any],
    channel: str,
    work: Work,
    *,
    name: str,
    wake: asyncio.Event | None = None,
) -> None:
    """Runs `work` whenever it is due or woken, until cancelled.

    `wake` lets the worker wake itself (say, when a slot frees up); by default
    only NOTIFY on `channel` and the returned delay do.
    """
    woken = wake or asyncio.Event()
    backoff = Backoff(0.2, 5.0)
    down_since: float | None = None
    while True:
        try:
            async with pool.acquire() as listener:
                if down_since is not None:
                    log.info("%s: database back after %.1f s", name, time.monotonic() - down_since)
                    down_since = None
                backoff.reset()
                await _listen(listener, channel, work, woken)
        except Exception as error:
            if not is_transient(error):
                raise
            if down_since is None:
                down_since = time.monotonic()
                log.warning("%s: database unavailable (%s); retrying", name, describe(error))
            await backoff.wait()


async def _listen(listener: Connection, channel: str, work: Work, woken: asyncio.Event) -> None:
    """Works while `listener` lives; returns when the database closed it."""
    lost = asyncio.Event()

    def on_notify(*_: object) -> None:
        woken.set()

    def on_lost(_: object) -> None:
        lost.set()
        woken.set()

    await listener.add_listener(channel, on_notify)
    listener.add_termination_listener(on_lost)
    try:
        while not lost.is_set():
            woken.clear()  # before looking: a NOTIFY from now on wakes the wait below
            delay = await work()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if delay is None else max(0.0, delay)):
                    await woken.wait()
    finally:
        with contextlib.suppress(asyncpg.InterfaceError):
            listener.remove_termination_listener(on_lost)
        await unlisten(listener, channel, on_notify)
