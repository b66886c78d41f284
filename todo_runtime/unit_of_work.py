"""One consumed event, one transaction: inbox check, the handler's effect and its outbox rows.

Every consumer's handler runs through `transactional`: the event id is claimed
in the inbox, the handler writes its effect (and any outgoing events with
`outbox.enqueue`) on the same connection, and everything commits together or
not at all. A redelivered event finds its claim and does nothing; a handler
that raises rolls the claim back, so the consumer's retry starts clean.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from todo_runtime import inbox
from todo_runtime.consumer import ReceivedEvent
from todo_runtime.db import Connection

log = logging.getLogger(__name__)

Handler = Callable[[ReceivedEvent, Connection], Awaitable[None]]


def transactional(
    pool: asyncpg.Pool[Any], consumer: str, handle: Handler
) -> Callable[[ReceivedEvent], Awaitable[None]]:
    """The consumer callback that runs `handle(event, connection)` exactly once in effect per event id.

    `consumer` names the inbox the claims go to (one per consumer group).
    """

    async def run(event: ReceivedEvent) -> None:
        async with pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, consumer, event.headers.id):
                log.debug("%s: event %s already applied", consumer, event.headers.id)
                return
            await handle(event, conn)

    return run
