"""Calendar feeds: the secret URLs a user subscribes a calendar app to (docs/calendar.md).

A feed URL holds a capability token: 256 random bits, URL-safe base64. It is the only credential
`GET /calendar/{token}.ics` takes (a calendar app cannot send a JWT), so it is stored only as its
SHA-256 in the gateway's own database (migration 0002, beside `rate_buckets`) and shown once, when
the feed is made. A feed is found by the hash of the token presented: an unknown token and a
revoked one (its row deleted) are the same miss, and the lookup by a unique index needs no
constant-time comparison. Each user may hold `MAX_FEEDS_PER_USER` feeds.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

MAX_FEEDS_PER_USER: Final = 10
MAX_NAME_LENGTH: Final = 100
KINDS: Final = ("VTODO", "VEVENT")
TOKEN_BYTES: Final = 32  # 256 bits
# What `secrets.token_urlsafe(TOKEN_BYTES)` makes: anything else is no token, and is not looked up.
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{43}")

# The count and the insert under one per-user lock: two concurrent creates cannot both pass it.
_CREATE: Final = """
WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended('calendar_feeds:' || $2, 0)))
INSERT INTO calendar_feeds (id, user_id, kind, name, token_sha256)
SELECT $1, $2, $3, $4, $5 FROM locked
WHERE (SELECT count(*) FROM calendar_feeds WHERE user_id = $2) < $6
RETURNING id, user_id, kind, name, created_at"""


class TooManyFeeds(Exception):
    """The user holds `MAX_FEEDS_PER_USER` feeds already."""


@dataclass(frozen=True)
class Feed:
    """One feed, without its token (which is not kept)."""

    id: str  # a UUID
    user_id: str
    kind: str  # one of KINDS
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Feed:
        return cls(
            id=str(row["id"]),
            user_id=row["user_id"],
            kind=row["kind"],
            name=row["name"],
            created_at=row["created_at"],
        )


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class CalendarFeeds:
    """The feeds table, on the gateway's pool (`services.Services.database`)."""

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool

    async def create(self, user_id: str, kind: str, name: str) -> tuple[Feed, str]:
        """A new feed and its token (to show once); TooManyFeeds at the limit."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                _CREATE,
                uuid.uuid4(),
                user_id,
                kind,
                name,
                token_hash(token),
                MAX_FEEDS_PER_USER,
            )
        if row is None:
            raise TooManyFeeds
        return Feed.from_row(row), token

    async def list(self, user_id: str) -> list[Feed]:
        """The user's feeds, oldest first."""
        rows = await self._pool.fetch(
            "SELECT id, user_id, kind, name, created_at FROM calendar_feeds WHERE user_id = $1 "
            "ORDER BY created_at, id",
            user_id,
        )
        return [Feed.from_row(row) for row in rows]

    async def get(self, user_id: str, feed_id: str) -> Feed | None:
        """The user's feed `feed_id` (a UUID), or None: another user's is none of theirs."""
        row = await self._pool.fetchrow(
            "SELECT id, user_id, kind, name, created_at FROM calendar_feeds "
            "WHERE id = $1 AND user_id = $2",
            uuid.UUID(feed_id),
            user_id,
        )
        return Feed.from_row(row) if row is not None else None

    async def revoke(self, user_id: str, feed_id: str) -> bool:
        """Deletes the user's feed `feed_id`; False when they have no such feed."""
        row = await self._pool.fetchrow(
            "DELETE FROM calendar_feeds WHERE id = $1 AND user_id = $2 RETURNING id",
            uuid.UUID(feed_id),
            user_id,
        )
        return row is not None

    async def find(self, token: str) -> Feed | None:
        """The feed `token` opens, or None for a malformed, unknown or revoked one."""
        if not _TOKEN.fullmatch(token):
            return None
        row = await self._pool.fetchrow(
            "SELECT id, user_id, kind, name, created_at FROM calendar_feeds "
            "WHERE token_sha256 = $1",
            token_hash(token),
        )
        return Feed.from_row(row) if row is not None else None
