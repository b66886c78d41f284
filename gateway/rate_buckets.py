"""The rate limiter's database: a per-user leaky bucket of query cost, in PostgreSQL so every
gateway replica shares it.

Each answered operation pours its cost in (`limits.cost`); the bucket drains at `restore`
points per second and holds `capacity`. One statement per request drains,
checks and pours atomically, so replicas never race past the limit. An
operation that would overflow the bucket is refused with the seconds until
it would fit, as GitHub's and Shopify's APIs do. The process opens it once (`services`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from todo_runtime.failures import describe, is_transient
from todo_runtime.migrations import MigrationSet

log = logging.getLogger(__name__)

SCHEMA: Final = "gateway"
MIGRATIONS: Final = MigrationSet("gateway", "gateway")

_POUR: Final = """
WITH drained AS (
    SELECT greatest(0, coalesce(
        (SELECT level - extract(epoch FROM clock_timestamp() - updated_at) * $3
         FROM rate_buckets WHERE user_id = $1), 0)) AS level
)
INSERT INTO rate_buckets AS bucket (user_id, level, updated_at)
SELECT $1, drained.level + $2, clock_timestamp() FROM drained WHERE drained.level + $2 <= $4
ON CONFLICT (user_id) DO UPDATE
    SET level = greatest(0, bucket.level
                            - extract(epoch FROM clock_timestamp() - bucket.updated_at) * $3) + $2,
        updated_at = clock_timestamp()
    WHERE greatest(0, bucket.level
                      - extract(epoch FROM clock_timestamp() - bucket.updated_at) * $3) + $2 <= $4
RETURNING level"""
_REFUND: Final = """
UPDATE rate_buckets
SET level = greatest(0, level - extract(epoch FROM clock_timestamp() - updated_at) * $3 - $2),
    updated_at = clock_timestamp()
WHERE user_id = $1
RETURNING level"""
_LEVEL: Final = """
SELECT greatest(0, level - extract(epoch FROM clock_timestamp() - updated_at) * $2)
FROM rate_buckets WHERE user_id = $1"""


@dataclass(frozen=True)
class Decision:
    """Whether the operation may run, the points left after it, and when to retry if not."""

    allowed: bool
    remaining: float
    retry_after: float


class RateLimiter:
    """Buckets of `capacity` points restoring `restore` points per second, one per user."""

    def __init__(self, pool: asyncpg.Pool[Any], capacity: float, restore: float) -> None:
        self._pool = pool
        self.capacity = capacity
        self.restore = restore

    async def take(self, user_id: str, cost: float) -> Decision:
        """Pours `cost` into the user's bucket if it fits.

        Fails open: while the database is unreachable every operation is
        allowed, because an outage of the limiter must not take the API down.
        """
        try:
            async with self._pool.acquire() as conn:
                level = await conn.fetchval(_POUR, user_id, cost, self.restore, self.capacity)
                if level is not None:
                    return Decision(True, self.capacity - float(level), 0.0)
                current = float(await conn.fetchval(_LEVEL, user_id, self.restore) or 0.0)
        except Exception as error:
            if not is_transient(error):
                raise
            log.debug("rate limit not checked: %s", describe(error))
            return Decision(True, self.capacity, 0.0)
        missing = current + cost - self.capacity
        return Decision(False, self.capacity - current, max(0.0, missing / self.restore))

    async def refund(self, user_id: str, points: float) -> float | None:
        """Takes `points` back out of the user's bucket (what an operation was charged and its
        work did not use); the points available then, or None when the bucket could not be
        reached (the user then waits a little longer, nothing worse)."""
        try:
            async with self._pool.acquire() as conn:
                level = await conn.fetchval(_REFUND, user_id, points, self.restore)
        except Exception as error:
            if not is_transient(error):
                raise
            log.debug("rate limit refund lost: %s", describe(error))
            return None
        return self.capacity - float(level or 0.0)
