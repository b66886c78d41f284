"""Idempotent consumers: remember which events were applied, in the effect's transaction.

A redelivered event (consumer restart, rebalance, relay retry) is then
recognised and skipped, so an effect happens once even though Kafka delivers
at least once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def claim(
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], consumer: str, event_id: str
) -> bool:
    """Records that `consumer` applies `event_id`; False if it already did.

    Call it inside the transaction that applies the effect: if that transaction
    rolls back, the claim goes with it and a redelivery tries again. A
    concurrent claim of the same event waits for this transaction and then
    returns False.
    """
    if not conn.is_in_transaction():
        raise RuntimeError("inbox.claim must run inside the transaction that applies the effect")
    claimed: str | None = await conn.fetchval(
        """INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING event_id""",
        consumer,
        event_id,
    )
    return claimed is not None


async def claim_all(
    conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any],
    consumer: str,
    event_ids: Sequence[str],
) -> set[str]:
    """`claim` for several events in one statement; returns the ids claimed now (an id given
    twice is claimed once)."""
    if not conn.is_in_transaction():
        raise RuntimeError(
            "inbox.claim_all must run inside the transaction that applies the effects"
        )
    rows = await conn.fetch(
        """INSERT INTO processed_events (consumer, event_id)
           SELECT $1, event_id FROM unnest($2::text[]) AS ids (event_id)
           ON CONFLICT DO NOTHING RETURNING event_id""",
        consumer,
        list(event_ids),
    )
    return {row["event_id"] for row in rows}


async def prune(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any], keep: timedelta) -> int:
    """Forgets event ids applied longer than `keep` ago; returns how many.

    `keep` must outlast the producers' outbox retention: an event a relay may
    still republish must still be recognised here.
    """
    status = await conn.execute(
        "DELETE FROM processed_events WHERE processed_at < now() - $1::interval", keep
    )
    return int(status.split()[-1])
