"""The rate limiter: a per-user leaky bucket of query cost, held in each gateway replica's memory
and settled with PostgreSQL so every replica shares it.

Each answered operation pours its cost in (`limits.cost`); the bucket drains at `restore`
points per second and holds `capacity`. An operation that would overflow the bucket is refused
with the seconds until it would fit, as GitHub's and Shopify's APIs do. Deciding costs no I/O:
a request reads and pours this replica's bucket. Every `settle_interval` seconds one statement
adds what each user with a bucket here poured since the last settlement to the shared bucket in
`rate_buckets` and reads back its level, which includes what the other replicas poured.

The tolerance (docs/guide.md#cost-and-rate-limits): a replica decides on the shared level as of its
last settlement, so within one interval a user can spend up to one bucket more on each other
replica; the shared level then shows the excess and every replica makes the user wait it off.
Over any longer window a user's points across all replicas stay within the limit. A database
outage does not lift the limit: each replica keeps deciding alone and settles what was poured
once the database is back. The process opens it once (`services`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg

from todo_runtime.failures import describe, is_transient
from todo_runtime.migrations import MigrationSet

log = logging.getLogger(__name__)

SCHEMA: Final = "gateway"
MIGRATIONS: Final = MigrationSet("gateway", "gateway")

# Adds each user's points poured since the last settlement to the shared bucket, drained to now,
# and answers the levels: one statement for every user of the interval.
_SETTLE: Final = """
INSERT INTO rate_buckets AS bucket (user_id, level, updated_at)
SELECT user_id, poured, clock_timestamp() FROM unnest($1::text[], $2::float8[]) AS p(user_id, poured)
ORDER BY user_id  -- every replica locks its rows in one order: no deadlock between settlements
ON CONFLICT (user_id) DO UPDATE
    SET level = greatest(0, bucket.level
                            - extract(epoch FROM clock_timestamp() - bucket.updated_at) * $3)
                + excluded.level,
        updated_at = clock_timestamp()
RETURNING user_id, level"""


@dataclass(frozen=True)
class Decision:
    """Whether the operation may run, the points left after it, and when to retry if not."""

    allowed: bool
    remaining: float
    retry_after: float


@dataclass
class _Bucket:
    level: float = 0.0  # points used, as of `at`
    at: float = field(default_factory=time.monotonic)
    unsettled: float = 0.0  # poured here since the last settlement, less what was refunded

    def drained(self, restore: float, now: float) -> float:
        self.level = max(0.0, self.level - (now - self.at) * restore)
        self.at = now
        return self.level


class RateLimiter:
    """Buckets of `capacity` points restoring `restore` points per second, one per user."""

    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        capacity: float,
        restore: float,
        settle_interval: float,
    ) -> None:
        self._pool = pool
        self.capacity = capacity
        self.restore = restore
        self.settle_interval = settle_interval
        self._buckets: dict[str, _Bucket] = {}

    def take(self, user_id: str, cost: float) -> Decision:
        """Pours `cost` into the user's bucket if it fits."""
        bucket = self._buckets.setdefault(user_id, _Bucket())
        level = bucket.drained(self.restore, time.monotonic())
        if level + cost > self.capacity:
            missing = level + cost - self.capacity
            return Decision(False, max(0.0, self.capacity - level), missing / self.restore)
        bucket.level += cost
        bucket.unsettled += cost
        return Decision(True, self.capacity - bucket.level, 0.0)

    def refund(self, user_id: str, points: float) -> float:
        """Takes `points` back out of the user's bucket (what an operation was charged and its
        work did not use); the points available then. The next settlement takes them out of
        the shared bucket too."""
        bucket = self._buckets.setdefault(user_id, _Bucket())
        bucket.unsettled -= points
        bucket.level = max(0.0, bucket.drained(self.restore, time.monotonic()) - points)
        return self.capacity - bucket.level

    async def settle(self) -> None:
        """Adds what was poured here since the last settlement to the shared buckets and takes
        their levels, which include the other replicas' pours. Raises what the database raised;
        the points stay unsettled then, for the next try."""
        self._forget_empty()
        # Every user with a bucket here, also those who poured nothing since: their level may
        # have risen on other replicas.
        poured = {user: bucket.unsettled for user, bucket in self._buckets.items()}
        if not poured:
            return
        for user in poured:
            self._buckets[user].unsettled = 0.0
        try:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(_SETTLE, list(poured), list(poured.values()), self.restore)
        except BaseException:
            for user, points in poured.items():
                self._buckets.setdefault(user, _Bucket()).unsettled += points
            raise
        now = time.monotonic()
        for row in rows:
            bucket = self._buckets.setdefault(row["user_id"], _Bucket())
            # The shared level (below zero for a new row made by a refund alone: it drains from
            # zero), plus what was poured here while the statement ran.
            bucket.level = max(0.0, max(0.0, float(row["level"])) + bucket.unsettled)
            bucket.at = now

    def _forget_empty(self) -> None:
        """Drops the buckets that drained empty with nothing to settle: the shared bucket
        agrees (it drained too), and memory stays bounded by the users of the last minutes."""
        now = time.monotonic()
        empty = [
            user
            for user, bucket in self._buckets.items()
            if bucket.unsettled == 0.0 and bucket.drained(self.restore, now) == 0.0
        ]
        for user in empty:
            del self._buckets[user]

    async def run(self) -> None:
        """Settles every `settle_interval` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(self.settle_interval)
                await self._settle_logged()
        finally:
            await self._settle_logged()  # what was poured since: other replicas count it

    async def _settle_logged(self) -> None:
        try:
            await self.settle()
        except Exception as error:
            if not is_transient(error):
                raise
            log.debug("rate buckets not settled: %s", describe(error))
