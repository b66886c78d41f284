"""One consumed event, one transaction: inbox check, the handler's effect and its outbox rows.

Every consumer's handler runs through `transactional`: the event id is claimed
in the inbox, the handler writes its effect (and any outgoing events with
`outbox.enqueue`) on the same connection, and everything commits together or
not at all. A redelivered event finds its claim and does nothing; a handler
that raises rolls the claim back, so the consumer's retry starts clean.
What must wait for the commit (counting a metric) goes to `after_commit.after_commit`.

Under load a consumer fetches several records at once; `Transactional.batch`
applies them in order in one transaction (one claim statement, one commit),
which is most of what an event costs PostgreSQL. If any of them fails, the
whole batch rolls back and the consumer applies them one by one, so a bad
event is retried and dead-lettered alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from todo_runtime import after_commit, inbox
from todo_runtime.db import Connection
from todo_runtime.received_event import ReceivedEvent

log = logging.getLogger(__name__)

Handler = Callable[[ReceivedEvent, Connection], Awaitable[None]]


class Transactional:
    """The consumer callbacks that run `handle(event, connection)` exactly once in effect per
    event id: one event per transaction (`__call__`) or several (`batch`).

    `consumer` names the inbox the claims go to (one per consumer group).
    """

    def __init__(self, pool: asyncpg.Pool[Any], consumer: str, handle: Handler) -> None:
        self._pool = pool
        self._consumer = consumer
        self._handle = handle

    async def __call__(self, event: ReceivedEvent) -> None:
        async with after_commit.collecting(), self._pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, self._consumer, event.headers.id):
                log.debug("%s: event %s already applied", self._consumer, event.headers.id)
                return
            await self._handle(event, conn)
            log.debug("%s: applied %s", self._consumer, event.headers.type)

    async def batch(self, events: Sequence[ReceivedEvent]) -> None:
        """Applies `events` in order, all or none; each as part of the request that caused it
        (the consumer does that for a single event)."""
        async with after_commit.collecting(), self._pool.acquire() as conn, conn.transaction():
            claimed = await inbox.claim_all(conn, self._consumer, [e.headers.id for e in events])
            for event in events:
                with event.handling():
                    if event.headers.id not in claimed:
                        log.debug("%s: event %s already applied", self._consumer, event.headers.id)
                        continue
                    claimed.discard(event.headers.id)  # the same event again later in the batch
                    await self._handle(event, conn)
                    log.debug("%s: applied %s", self._consumer, event.headers.type)


def transactional(pool: asyncpg.Pool[Any], consumer: str, handle: Handler) -> Transactional:
    """The callbacks for a consumer of `handle`: see `Transactional`."""
    return Transactional(pool, consumer, handle)
