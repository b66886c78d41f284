"""The retention window: how long published events and applied event ids are kept.

Relays keep sent outbox rows for `retention`, so a broker that lost its state
can be refilled (`topic_epochs`) and operators can replay (`todo replay`).
Consumers keep applied event ids a margin longer, so every event that can be
republished is still recognised as a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Final

import asyncpg

from todo_runtime import inbox, outbox
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)

INBOX_MARGIN: Final = timedelta(hours=1)


async def sweep(pool: asyncpg.Pool[Any], retention: timedelta, interval: float) -> None:
    """Deletes what fell out of the window every `interval` seconds, until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                sent = await outbox.delete_sent(conn, retention)
                applied = await inbox.prune(conn, retention + INBOX_MARGIN)
            if sent or applied:
                log.info("retention: deleted %d sent events and %d applied ids", sent, applied)
        except Exception as error:
            if not is_transient(error):
                raise
            log.debug("retention sweep skipped: %s", describe(error))
        await asyncio.sleep(interval)
